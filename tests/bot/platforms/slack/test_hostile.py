"""Hostile requests at the Slack door and in the flows: refused with a 4xx or a clear message,
never a 500, never an ERROR line (those are for the bot's own faults)."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pytest

from handlers.ask.ids import FEEDBACK, PICK
from tests.slack import sign

MENTION = {"type": "event_callback", "event_id": "Ev0HOSTILE1", "team_id": "T0TEST001",
           "event": {"type": "app_mention", "user": "U0EMPLOYEE", "channel": "C0GENERAL",
                     "ts": "1700000000.000100", "text": "<@UBOT0001> password"}}


def _errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("timestamp, signature", [
    ("", None), ("not-a-number", None), ("1e9", None), ("12.5", None),
    (None, ""), (None, "v0=" + "é" * 64), (None, "v1=" + "0" * 64), (None, "v0=zz"),
])
def test_malformed_signature_headers_get_401_without_an_error(slack, caplog, timestamp,
                                                              signature):
    body = json.dumps(MENTION).encode()
    stamp = str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": timestamp if timestamp is not None else stamp,
               "X-Slack-Signature": signature if signature is not None else sign(body, stamp)}
    status, _ = slack.post(body, "application/json", headers=headers)
    assert status == 401
    assert _errors(caplog) == []


@pytest.mark.parametrize("depth", [100, 2000, 20000])
def test_deeply_nested_json_gets_400(slack, caplog, depth):
    nested = "[" * depth + "]" * depth
    event = '{"type": "event_callback", "event_id": "Ev0DEEP", "event": ' + nested + "}"
    status, _ = slack.post(event.encode(), "application/json")
    assert status == 400
    form = urlencode({"payload": '{"type": "block_actions", "actions": ' + nested + "}"})
    status, _ = slack.post(form.encode(), "application/x-www-form-urlencoded")
    assert status == 400
    assert _errors(caplog) == []


@pytest.mark.parametrize("action", [FEEDBACK, PICK, "desk.claim", "desk.reply", "desk.resolve",
                                    "escalate.open", "reminder.ack"])
def test_button_values_a_user_can_forge_get_a_clear_answer(slack, slack_api, caplog, action):
    for value in ("²", "²:up", "1" * 40, "9" * 40 + ":up", "-1:up", "1" * 40 + ".tok",
                  "\ud800", "0"):
        status, _ = slack.press(action, value)
        assert status == 200, value
    assert _errors(caplog) == []


def test_a_lone_surrogate_in_a_question_is_dropped_and_the_question_answered(slack, slack_api,
                                                                            caplog):
    event = {**MENTION, "event_id": "Ev0SURROGATE",
             "event": {**MENTION["event"], "text": "<@UBOT0001> パスワード\ud800を貸してもいい？"}}
    status, _ = slack.post(json.dumps(event).encode(), "application/json")  # \ud800 escaped
    assert status == 200
    [call] = slack_api.wait_for("chat.postMessage")
    assert "\ud800" not in json.dumps(call.params, ensure_ascii=False, default=str)
    assert _errors(caplog) == []


def test_a_view_whose_title_is_a_string_is_refused(slack, caplog):
    status, _ = slack.interaction({
        "type": "view_submission", "team": {"id": "T0TEST001"},
        "user": {"id": "U0EMPLOYEE", "team_id": "T0TEST001"},
        "view": {"id": "V0X", "callback_id": "ask.submit", "title": "x",
                 "state": {"values": {}}}})
    assert status == 400
    assert _errors(caplog) == []


def test_mention_stripping_is_linear_and_still_strips():
    """A complexity guard, not a speed measure: the quadratic pattern took seconds on these
    inputs, the linear one well under a millisecond, so the bound is generous."""
    from bot.platforms.slack.context import MENTION

    assert MENTION.sub("", "<@U0BOT|compliance> hi <@U2>") == " hi "
    assert _finishes(lambda: MENTION.sub("", "<@U1|" * 16000)) == "<@U1|" * 16000


def _finishes(work, within_s: float = 1.0):
    """The result of `work`, which must finish within a bound far above its linear cost."""
    import threading

    result = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    thread.join(within_s)
    assert result, "did not finish: a pattern with quadratic backtracking?"
    return result[0]


def test_a_users_markup_is_escaped_in_the_top_level_text_too():
    from bot.messages import Reply
    from bot.platforms.slack.blocks import message_args

    hostile = "<!channel> <https://evil.example|Reset your password> <@U0ADMIN>"
    args = message_args(Reply(hostile, "en", title="Q: " + hostile))

    def mrkdwn(value):  # every text Slack parses for markup (plain_text shows as typed)
        if isinstance(value, dict):
            if value.get("type") == "mrkdwn":
                yield value["text"]
            for item in value.values():
                yield from mrkdwn(item)
        elif isinstance(value, list):
            for item in value:
                yield from mrkdwn(item)

    parsed = [args["text"], *mrkdwn(args["blocks"])]
    assert len(parsed) >= 2
    for text in parsed:
        assert "<!channel>" not in text and "<https://" not in text and "<@U0ADMIN>" not in text
    assert "&lt;!channel&gt;" in args["text"]


def test_generated_buttons_and_forms_never_fail_the_server(slack, caplog):
    """Every action id, form id and state field the flows know, with forged values."""
    import random

    from tests.fuzz_inputs import ACTIONS, FORMS, value, values

    rng = random.Random(1302)
    for _ in range(120):
        status, _ = slack.press(rng.choice(ACTIONS), value(rng))
        assert status < 500
        meta = json.dumps({"state": value(rng), "lang": rng.choice(["ja", "en", "xx"])})
        status, _ = slack.interaction({
            "type": "view_submission", "team": {"id": "T0TEST001"},
            "user": {"id": "U0EMPLOYEE", "team_id": "T0TEST001"},
            "view": {"id": f"V{rng.random()}", "hash": str(rng.random()),
                     "callback_id": rng.choice(FORMS), "private_metadata": meta,
                     "title": {"type": "plain_text", "text": "x"},
                     "state": {"values": {name: {"value": {"type": "plain_text_input",
                                                           "value": text}}
                                          for name, text in values(rng).items()}}}})
        assert status < 500
    assert _errors(caplog) == []
    assert _ready(slack.port) == 200


def _ready(port: int) -> int:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status
    finally:
        connection.close()
