"""Neutral replies and forms rendered as Adaptive Cards, and submissions read back."""

from __future__ import annotations

import json

from bot.messages import CHOICES, RATING, Button, Choice, Form, FormField, Reply
from bot.platforms.teams.cards import (
    FORM_KEY,
    encode,
    form_card,
    form_from_data,
    message_activity,
    reply_card,
    submitted_values,
)
from tests.bot.platforms.teams.harness import actions, inputs, texts

FORM = Form(
    id="report.submit", title="Report", submit="Send", lang="en", intro="Tell us.\n\nAnonymous.",
    state="en",
    fields=[
        FormField("category", "Category", "select",
                  options=(Choice("a", "Alpha"), Choice("b", "Beta")), initial="b"),
        FormField("what", "What happened", "multiline", max_length=4000, hint="Facts only"),
        FormField("when", "When", "date", required=False),
        FormField("who", "Who", required=False, max_length=100),
    ],
)


def test_reply_lines_fields_source_and_buttons():
    reply = Reply("First line\nsecond line\n\nNew paragraph", "en", title="Title",
                  fields=[("Case number", "R-2345ABCD")], footnote="Source: rules",
                  buttons=[Button("A whole suggested question, far too long to share", "ask.pick",
                                  "1:x"),
                           Button("👍 Helpful", "ask.feedback", "1:up", style="primary"),
                           Button("👎 Not helpful", "ask.feedback", "1:down", style="danger")])
    card = reply_card(reply)
    assert texts(card)[:4] == ["Title", "First line", "second line", "New paragraph"]
    body = card["body"]
    assert body[2]["spacing"] == "small" and body[3]["spacing"] == "medium"
    [facts] = [b for b in body if b["type"] == "FactSet"]
    assert facts["facts"] == [{"title": "Case number", "value": "R-2345ABCD"}]
    sets = [b["actions"] for b in body if b["type"] == "ActionSet"]
    assert [len(row) for row in sets] == [1, 2]  # the suggestion alone, 👍/👎 together
    assert [a.get("style") for a in sets[1]] == ["positive", "destructive"]
    assert sets[1][0]["data"] == {"action": "ask.feedback", "value": "1:up"}


def test_buttons_that_open_a_form_open_a_dialog_at_once_and_others_do_not():
    reply = Reply("home", "ja", buttons=[Button("質問する", "ask.open", "ja", opens_form=True),
                                          Button("👍", "ask.feedback", "1:up")])
    home, feedback = actions(reply_card(reply))
    assert home["data"]["msteams"] == {"type": "task/fetch"}
    assert "msteams" not in feedback["data"]


def test_long_text_is_capped_well_under_the_teams_message_limit():
    reply = Reply("長い文章。" * 20_000, "ja", title="T" * 1000)
    activity = message_activity(reply)
    assert len(encode(activity)) < 28_000  # the bytes the Bot Connector receives
    assert len(activity["summary"]) <= 200


def test_form_card_inputs_of_every_kind():
    card = form_card(FORM)
    fields = inputs(card)
    assert fields["category"] == {
        "id": "category", "label": "Category", "isRequired": True, "errorMessage": "Required",
        "type": "Input.ChoiceSet", "style": "compact", "value": "b",
        "choices": [{"title": "Alpha", "value": "a"}, {"title": "Beta", "value": "b"}]}
    assert fields["what"]["type"] == "Input.Text" and fields["what"]["isMultiline"]
    assert fields["what"]["maxLength"] == 4000
    assert fields["when"]["type"] == "Input.Date" and not fields["when"]["isRequired"]
    assert "Facts only" in texts(card)
    [submit] = card["actions"]
    assert submit["type"] == "Action.Submit" and submit["title"] == "Send"
    assert form_from_data(submit["data"][FORM_KEY]) == FORM  # the definition round-trips


def test_refused_submission_is_shown_again_with_values_and_errors():
    card = form_card(FORM, values={"what": "typed", "who": ""},
                     errors={"what": "Too long", "other": "Something else"})
    assert inputs(card)["what"]["value"] == "typed"
    errors = [b["text"] for b in card["body"] if b.get("color") == "attention"]
    assert errors == ["Too long", "Something else"]


def test_submitted_values_only_for_the_forms_fields_and_only_text():
    data = json.loads(json.dumps({
        FORM_KEY: form_card(FORM)["actions"][0]["data"][FORM_KEY], "category": "a",
        "what": "it happened", "when": 20261201, "smuggled": "x"}))
    form = form_from_data(data[FORM_KEY])
    assert form is not None
    assert submitted_values(form, data) == {"category": "a", "what": "it happened", "when": "",
                                            "who": ""}


def test_definitions_we_could_not_have_sent_are_refused():
    for bad in (None, "x", [], {"id": 1, "fields": []}, {"id": "a.b", "fields": "x"},
                {"id": "a.b", "fields": [{"name": 3}]},
                {"id": "a.b", "fields": [{"name": "x"}] * 100}):
        assert form_from_data(bad) is None
    odd = form_from_data({"id": "a.b", "fields": [{"name": "x", "kind": "evil", "options": [
        ["v", "l"], [1, 2], "x"], "max_length": -3}], "lang": "fr"})
    assert odd is not None and odd.lang == "ja"
    assert odd.fields[0].kind == "text" and odd.fields[0].options == (Choice("v", "l"),)
    assert odd.fields[0].max_length is None


def test_did_you_mean_choices_are_labelled_rows_with_the_whole_question():
    question = ("異動した後も、前の部署で使っていたIDとパスワードで"
                "システムにログインしてもいいですか？")
    reply = Reply("近い質問があります。", "ja", buttons=[
        Button(question, "ask.pick", "1:transfer-id", group=CHOICES),
        Button("👍", "ask.feedback", "1:up", group=RATING)])
    body = reply_card(reply)["body"]
    [heading] = [b for b in body if b.get("id") == "choices"]
    assert "もしかして" in heading["text"]
    [row] = [b for b in body if b["type"] == "Container"]
    assert row["items"][0]["text"] == "▸ " + question and row["items"][0]["wrap"] is True
    assert row["selectAction"]["data"] == {"action": "ask.pick", "value": "1:transfer-id"}
    assert body.index(heading) < body.index(row)
