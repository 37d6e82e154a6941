"""Hostile activities with a valid token: refused with a 4xx or answered with a clear message,
never a 500, never an ERROR line."""

from __future__ import annotations

import json
import logging

import pytest

from handlers.ask.ids import FEEDBACK, PICK


def _errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("depth", [100, 2000, 20000])
def test_deeply_nested_json_with_a_valid_token_gets_400(teams, caplog, depth):
    activity = teams.activity(text="hello")
    text = json.dumps(activity)
    nested = text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    status, _ = teams.post(nested.encode())
    assert status == 400
    assert _errors(caplog) == []


def test_a_lone_surrogate_in_a_question_is_dropped_and_the_question_answered(
        teams, teams_api, caplog):
    activity = teams.activity(text="パスワード\ud800を貸してもいい？")
    status, _ = teams.post(json.dumps(activity).encode())  # \ud800 as an escape
    assert status in (200, 202)
    [answer] = teams_api.wait_for()
    assert "\ud800" not in json.dumps(answer.body, ensure_ascii=False)
    assert _errors(caplog) == []


@pytest.mark.parametrize("action", [FEEDBACK, PICK, "desk.claim", "desk.resolve",
                                    "escalate.open", "reminder.ack"])
def test_card_values_a_user_can_forge_get_a_clear_answer(teams, caplog, action):
    for number, value in enumerate(("²", "²:up", "1" * 40, "9" * 40 + ":up", "\ud800", "0")):
        activity = teams.activity(text=None, value={"action": action, "value": value},
                                  replyToId=f"17000000009{number:02d}")
        status, _ = teams.post(json.dumps(activity).encode())  # a surrogate as an escape
        assert status in (200, 202), value
    assert _errors(caplog) == []


def test_mention_stripping_is_linear_and_still_strips():
    """A complexity guard, not a speed measure: the quadratic pattern took seconds on these
    inputs, the linear one well under a millisecond, so the bound is generous."""
    from bot.platforms.teams.activities import MENTION

    assert MENTION.sub("", '<at>Compliance Bot</at> hi <AT id="1">x</AT>') == " hi "
    from tests.bot.platforms.slack.test_hostile import _finishes

    assert _finishes(lambda: MENTION.sub("", "<at>" * 16000)) == "<at>" * 16000


def test_a_replayed_form_submission_is_answered_in_the_dialog_and_stored_once(
        core, teams, teams_api):
    from bot.reports.models import Report
    from tests.bot.platforms.teams.harness import actions

    teams.dm("report", locale="en-US")
    [launcher] = teams_api.wait_for()
    [button] = actions(launcher.card)
    _, answer = teams.invoke("task/fetch", button["data"], locale="en-US")
    [submit] = answer["task"]["value"]["card"]["content"]["actions"]
    data = {**submit["data"], "category": "other", "what": "二重送信のテスト"}
    _, first = teams.invoke("task/submit", data, activity_id="1700000000777", locale="en-US")
    assert "R-" in json.dumps(first)
    status, again = teams.invoke("task/submit", data, activity_id="1700000000777",
                                 locale="en-US")
    assert status == 200 and again is not None
    assert again["task"]["type"] == "message" and "already submitted" in again["task"]["value"]
    with core.database.transaction() as session:
        assert session.query(Report).count() == 1


def test_markdown_from_a_user_is_shown_as_typed_not_rendered():
    from bot.messages import Reply
    from bot.platforms.teams.cards import reply_card

    hostile = "[Reset your password](https://evil.example/reset) **now** __please__"
    card = reply_card(Reply(hostile, "en", title=hostile, fields=[("Question", hostile)]))
    text = json.dumps(card, ensure_ascii=False)
    assert "](" not in text and "**" not in text and "__" not in text
    assert "Reset your password" in text and "https://evil.example/reset" in text


def test_generated_card_actions_and_dialog_submissions_never_fail_the_server(teams, caplog):
    import random

    from tests.fuzz_inputs import ACTIONS, FORMS, value, values

    rng = random.Random(1302)
    for number in range(120):
        activity = teams.activity(text=None, value={"action": rng.choice(ACTIONS),
                                                    "value": value(rng)},
                                  replyToId=f"17000000{number:05d}")
        status, _ = teams.post(json.dumps(activity).encode())
        assert status < 500
        form = {"id": rng.choice(FORMS), "title": "x", "submit": "x", "lang": "ja",
                "fields": [], "state": value(rng)}
        data = {"__form": form, **values(rng)}
        activity = teams.activity(type="invoke", name="task/submit", text=None,
                                  value={"type": "task/submit", "data": data})
        status, _ = teams.post(json.dumps(activity).encode())
        assert status < 500
    assert _errors(caplog) == []
    from tests.bot.platforms.slack.test_hostile import _ready

    assert _ready(teams.server.port) == 200
