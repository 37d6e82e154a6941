"""Block Kit rendering within Slack's limits, and modal state read back."""

from __future__ import annotations

from bot.messages import Button, Choice, Form, FormField, Reply
from bot.platforms.slack.blocks import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    flow_action,
    modal_view,
    reply_blocks,
    split_text,
    submitted_values,
    view_state,
)


def test_long_answer_is_split_into_sections_within_the_limit():
    paragraph = "これは長い回答の段落です。" * 100
    text = "\n\n".join([paragraph] * 8)
    blocks = reply_blocks(Reply(text, "ja", title="題"))
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) > 1
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in sections)
    assert "".join(b["text"]["text"] for b in sections).replace("\n", "") == \
        text.replace("\n", "")


def test_unbroken_text_is_cut_hard_and_nothing_is_lost():
    text = "あ" * 7000
    chunks = split_text(text)
    assert [len(c) for c in chunks] == [3000, 3000, 1000]
    assert "".join(chunks) == text


def test_a_huge_answer_never_exceeds_fifty_blocks_and_keeps_its_buttons():
    text = "\n\n".join(["段落" * 1400] * 80)
    buttons = [Button("👍", "ask.feedback", "1:up"), Button("👎", "ask.feedback", "1:down")]
    blocks = reply_blocks(Reply(text, "ja", buttons=buttons))
    assert len(blocks) <= MAX_BLOCKS
    assert blocks[-1]["type"] == "actions"


def test_mrkdwn_control_characters_are_escaped():
    blocks = reply_blocks(Reply("<@U123> & <!channel>", "en"))
    assert blocks[0]["text"]["text"] == "&lt;@U123&gt; &amp; &lt;!channel&gt;"


def test_button_labels_and_action_ids():
    long_label = "異動前に使っていたシステムのIDとパスワードを異動後も使ってよいか" * 3
    blocks = reply_blocks(Reply("x", "ja", buttons=[
        Button(long_label, "ask.pick", "1:a"), Button("👍", "ask.feedback", "1:up")]))
    elements = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(elements[0]["text"]["text"]) <= 75
    assert [flow_action(e["action_id"]) for e in elements] == ["ask.pick", "ask.feedback"]


def test_form_round_trips_through_a_modal():
    form = Form("report.submit", "匿名の相談・通報（長いタイトルは切り詰め）", "送信", "ja", [
        FormField("category", "種類", "select", options=(Choice("id", "ID"), Choice("x", "他"))),
        FormField("what", "内容", "multiline", max_length=4000),
        FormField("when", "いつ", "date", required=False),
        FormField("where", "どこで", required=False),
    ], intro="匿名で送れます。", state="s1")
    view = modal_view(form)
    assert len(view["title"]["text"]) <= 24
    assert view["callback_id"] == "report.submit"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["what"]["element"]["max_length"] == 3000
    assert inputs["when"]["optional"] is True
    view["state"] = {"values": {
        "category": {"value": {"type": "static_select", "selected_option": {"value": "id"}}},
        "what": {"value": {"type": "plain_text_input", "value": "見られた"}},
        "when": {"value": {"type": "datepicker", "selected_date": "2026-11-01"}},
        "where": {"value": {"type": "plain_text_input", "value": None}},
    }}
    assert submitted_values(view) == {"category": "id", "what": "見られた",
                                      "when": "2026-11-01", "where": ""}
    assert view_state(view) == ("s1", "ja")


def test_malformed_view_state_reads_as_empty():
    assert submitted_values({"state": {"values": ["x"]}}) == {}
    assert submitted_values({"state": "x"}) == {}
    assert view_state({"private_metadata": "not json"}) == ("", None)
