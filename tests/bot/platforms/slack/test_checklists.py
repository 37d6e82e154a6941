"""A transfer checklist end to end over Slack's HTTP interface and the loopback Web API: HR's
CSV starts it, the person answers in a modal (one "no" with a note, which reaches the desk's
channel), the manager sends it back, the person answers again, the manager confirms; status
and the auditor's export show each step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.checklists.views import CONFIRM, OPEN, RETURN
from bot.core import Core, build_core
from bot.platforms.slack.blocks import flow_action
from bot.platforms.slack.context import read_mentions
from tests.bot.checklists.conftest import checklist_config, platform_desk
from tests.bot.checklists.story import (
    COMMENT,
    NOTE,
    answers,
    check_status_and_export,
    start_from_csv,
)

TARO, SATO, HR, DESK = "U0TARO01", "U0SATO01", "U0HR0001", "U0DESK01"
DESK_CHANNEL = "C0DESK001"


@pytest.fixture
def core(database, make_settings) -> Iterator[Core]:  # type: ignore[no-untyped-def]
    config = checklist_config(desk=platform_desk("slack", DESK, DESK_CHANNEL),
                              starters=f"[slack:{HR}]")
    built = build_core(make_settings(config, DATABASE_URL=database.url))
    try:
        yield built
    finally:
        built.database.dispose()


def _send(slack) -> None:  # type: ignore[no-untyped-def]
    [job] = [j for j in slack.bot.registry.jobs if j.name == "checklists.send"]
    job.run()


def _dm(slack_api, user: str, count: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    posts = [c for c in slack_api.wait_for("chat.postMessage", count)
             if c.params.get("channel") == user]
    return posts[-1].params


def _button(message: dict[str, Any], action: str, suffix: str = "") -> dict[str, Any]:
    return next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                if flow_action(e["action_id"]) == action and e["value"].endswith(suffix))


def _modal(slack, slack_api, message, action, user, suffix=""):  # type: ignore[no-untyped-def]
    before = len(slack_api.of("views.open"))
    button = _button(message, action, suffix)
    assert slack.press(button["action_id"], button["value"], user=user,
                       channel=f"D{user[1:]}")[0] == 200
    return slack_api.wait_for("views.open", before + 1)[-1].params["view"]


def _submit(slack, view, values, user):  # type: ignore[no-untyped-def]
    status, body = slack.submit(view, values, user=user)
    assert status == 200
    return json.loads(body) if body else {}


def test_a_transfer_from_hrs_csv_to_the_managers_confirmation(
        core, slack, slack_api, make_settings, tmp_path):
    settings = core.settings
    start_from_csv(settings, tmp_path, f"slack:{TARO}", f"slack:{SATO}")
    _send(slack)
    ask = _dm(slack_api, TARO, 1)
    assert "異動時のチェックリスト" in json.dumps(ask["blocks"], ensure_ascii=False)

    # The person answers in a modal: one "no", whose note is required, goes to the desk.
    view = _modal(slack, slack_api, ask, OPEN, TARO, ".ja")
    assert view["callback_id"] == "checklist.answer"
    values = answers("stored-ids-deleted")
    refused = _submit(slack, view, {**values, "note.stored-ids-deleted": ""}, TARO)
    assert refused["response_action"] == "errors"
    assert set(refused["errors"]) == {"note.stored-ids-deleted"}
    done = _submit(slack, view, values, TARO)
    assert done["response_action"] == "update"
    assert "送信しました" in json.dumps(done["view"], ensure_ascii=False)
    triage = [c for c in slack_api.wait_for("chat.postMessage", 2)
              if c.params.get("channel") == DESK_CHANNEL]
    assert len(triage) == 1 and NOTE in triage[0].blocks_text()

    # The manager reads the answers and sends them back with a comment.
    _send(slack)
    review = _dm(slack_api, SATO, 3)
    assert NOTE in json.dumps(review["blocks"], ensure_ascii=False)
    comment_view = _modal(slack, slack_api, review, RETURN, SATO)
    sent_back = _submit(slack, comment_view, {"comment": COMMENT}, SATO)
    assert "差し戻しました" in json.dumps(sent_back["view"], ensure_ascii=False)

    # The person answers again from the message that brought the comment.
    _send(slack)
    returned = _dm(slack_api, TARO, 4)
    assert COMMENT in json.dumps(returned["blocks"], ensure_ascii=False)
    view = _modal(slack, slack_api, returned, OPEN, TARO, ".ja")
    assert COMMENT in json.dumps(view["blocks"], ensure_ascii=False)
    again = _submit(slack, view, answers(), TARO)
    assert again["response_action"] == "update"

    # The manager confirms; a second press says it is done and changes nothing.
    _send(slack)
    review = _dm(slack_api, SATO, 5)
    confirm = _button(review, CONFIRM)
    before = len(slack_api.of("response_url"))
    slack.press(confirm["action_id"], confirm["value"], user=SATO, channel="D0SATO01")
    slack.press(confirm["action_id"], confirm["value"], user=SATO, channel="D0SATO01")
    replies = [c.params["text"] for c in slack_api.wait_for("response_url", before + 2)[before:]]
    assert any("確認済みとして記録しました" in text for text in replies)
    assert any("確認済みです" in text for text in replies)
    _send(slack)
    assert "佐藤 課長" in json.dumps(_dm(slack_api, TARO, 6)["blocks"], ensure_ascii=False)
    assert len([c for c in slack_api.of("chat.postMessage")
                if c.params.get("channel") == DESK_CHANNEL]) == 1  # one escalation in all

    check_status_and_export(settings, f"slack:{TARO}", f"slack:{SATO}")


def test_app_home_lists_the_checklist_and_a_starter_starts_one_by_mention(
        core, slack, slack_api):
    assert slack.command(f"checklist transfer <@{TARO}|taro>", user=HR)[0] == 200
    [started] = slack_api.wait_for("response_url")
    assert started.params["text"].startswith('Started "Transfer checklist" for taro')
    slack.event({"type": "app_home_opened", "user": TARO, "channel": "D0TARO01",
                 "tab": "home", "event_ts": "1700000000.000300"})
    [home] = slack_api.wait_for("views.publish")
    shown = json.dumps(home.params["view"], ensure_ascii=False)
    assert "異動時のチェックリスト" in shown and "checklist.open" in shown
    assert slack.command(f"checklist transfer <@{TARO}|taro>", user=TARO)[0] == 200
    refusal = slack_api.wait_for("response_url", 2)[-1]
    assert "Only the people configured" in refusal.params["text"]


def test_mentions_are_read_out_of_slacks_escaped_text():
    text, people = read_mentions("checklist transfer <@U0TARO01|taro> <@U0SATO01> "
                                 "<#C0GENERAL|general> <https://example.jp|link> &lt;x&gt;",
                                 bot="U0SATO01")
    assert [p.id for p in people] == ["U0TARO01"] and people[0].name == "taro"
    assert text == "checklist transfer #general https://example.jp <x>"
