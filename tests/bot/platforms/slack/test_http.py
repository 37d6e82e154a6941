"""The door of HTTP mode: signatures, stale timestamps and malformed requests."""

from __future__ import annotations

import json
import logging
import random
import time
from urllib.parse import urlencode

import pytest

from tests.slack import sign

MENTION = {"type": "event_callback", "event_id": "Ev0SIG0001", "team_id": "T0TEST001",
           "event": {"type": "app_mention", "user": "U0EMPLOYEE", "channel": "C0GENERAL",
                     "ts": "1700000000.000100", "text": "<@UBOT0001> password"}}


def test_bad_signature_gets_401_and_no_web_api_call(slack, slack_api):
    body = json.dumps(MENTION).encode()
    stamp = str(int(time.time()))
    status, _ = slack.post(body, "application/json", timestamp=int(stamp),
                           signature=sign(body, stamp, "not-the-signing-secret"))
    assert status == 401
    status, _ = slack.post(body, "application/json", signature="v0=" + "0" * 64)
    assert status == 401
    time.sleep(0.2)
    assert [c.method for c in slack_api.calls if c.method != "auth.test"] == []


def test_body_changed_after_signing_gets_401(slack, slack_api):
    body = json.dumps(MENTION).encode()
    stamp = str(int(time.time()))
    signature = sign(body, stamp)
    tampered = body.replace(b"password", b"passw0rd")
    status, _ = slack.post(tampered, "application/json", timestamp=int(stamp),
                           signature=signature)
    assert status == 401


def test_timestamp_older_than_five_minutes_gets_401_and_no_web_api_call(slack, slack_api):
    body = json.dumps(MENTION).encode()
    stale = int(time.time()) - 6 * 60
    status, _ = slack.post(body, "application/json", timestamp=stale)  # correctly signed
    assert status == 401
    time.sleep(0.2)
    assert slack_api.of("chat.postMessage") == []


def test_url_verification_challenge_is_answered(slack):
    body = json.dumps({"type": "url_verification", "token": "t", "challenge": "abc123"})
    status, answer = slack.post(body.encode(), "application/json")
    assert status == 200
    assert json.loads(answer)["challenge"] == "abc123"


def _malformed(rng: random.Random) -> tuple[bytes, str]:
    """One request of a kind Slack never sends, correctly signed so it reaches the parsing."""
    kind = rng.randrange(9)
    base = json.dumps(MENTION)
    if kind == 0:  # truncated JSON
        return base[: rng.randrange(1, len(base) - 1)].encode(), "application/json"
    if kind == 1:  # wrong content type
        return base.encode(), rng.choice(["text/plain", "application/xml", "multipart/form-data",
                                          ""])
    if kind == 2:  # unknown event type
        event = {**MENTION, "event_id": f"Ev{rng.randrange(10**9)}",
                 "event": {"type": f"unknown_{rng.randrange(100)}", "user": "U0EMPLOYEE"}}
        return json.dumps(event).encode(), "application/json"
    if kind == 3:  # unknown action
        payload = {"type": "block_actions", "user": {"id": "U0EMPLOYEE"},
                   "actions": [{"action_id": f"nothing.here|{rng.randrange(9)}", "value": "x"}]}
        return urlencode({"payload": json.dumps(payload)}).encode(), \
            "application/x-www-form-urlencoded"
    if kind == 4:  # unexpected field types in an event
        value = rng.choice([None, 5, "text", [], {"a": 1}, True, 1.5])
        field = rng.choice(["event", "event_id", "type", "team_id", "authorizations"])
        envelope = {**MENTION, "event_id": f"Ev{rng.randrange(10**9)}", field: value}
        return json.dumps(envelope).encode(), "application/json"
    if kind == 5:  # unexpected field types inside the event
        event = dict(MENTION["event"])
        event[rng.choice(["user", "text", "channel", "ts", "thread_ts"])] = rng.choice(
            [None, 7, [], {"x": "y"}, False])
        envelope = {**MENTION, "event_id": f"Ev{rng.randrange(10**9)}", "event": event}
        return json.dumps(envelope).encode(), "application/json"
    if kind == 6:  # interaction payloads of the wrong shape
        payload = rng.choice([
            {"type": "block_actions", "user": "U0EMPLOYEE", "actions": "x"},
            {"type": "block_actions", "user": {"id": 5}, "actions": [{"action_id": 3}]},
            {"type": "view_submission", "user": {"id": "U0EMPLOYEE"}, "view": "nope"},
            {"type": "view_submission", "user": {"id": "U0EMPLOYEE"},
             "view": {"callback_id": "ask.question", "state": {"values": []}}},
            {"type": "message_action", "callback_id": "ask_about_message", "message": 3},
            {"type": rng.choice(["shortcut", "view_closed", "dialog_submission", 9])},
        ])
        raw = json.dumps(payload)
        if rng.random() < 0.3:
            raw = raw[: len(raw) // 2]
        return urlencode({"payload": raw}).encode(), "application/x-www-form-urlencoded"
    if kind == 7:  # slash command forms with odd fields
        form = {"command": rng.choice(["/comply", "/other", ""]),
                "text": rng.choice(["", "x" * 5000, "\x00", "help"]),
                "user_id": rng.choice(["", "not-a-user", "U0EMPLOYEE"])}
        if rng.random() < 0.5:
            form.pop("command")
        return urlencode(form).encode(), "application/x-www-form-urlencoded"
    noise = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
    return noise, rng.choice(["application/json", "application/x-www-form-urlencoded"])


def test_hundreds_of_malformed_requests_never_get_a_500(slack, slack_api, caplog):
    caplog.set_level(logging.DEBUG)
    rng = random.Random(20261121)
    statuses = []
    for _ in range(300):
        body, content_type = _malformed(rng)
        status, answer = slack.post(body, content_type)
        statuses.append(status)
        assert status < 500, (status, body[:200])
        assert b"Traceback" not in answer and b"File \"" not in answer
    assert set(statuses) <= {200, 400, 404, 413, 415}
    assert 400 in statuses and 415 in statuses
    # The bot still answers a good request after all that.
    slack.mention("パスワードを他人に教えてもいい？")
    slack_api.wait_for("chat.postMessage")
    assert "Traceback" not in caplog.text


def test_body_over_one_megabyte_gets_413(slack):
    body = json.dumps({**MENTION, "padding": "x" * (1024 * 1024)}).encode()
    status, _ = slack.post(body, "application/json")
    assert status == 413


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_other_methods_are_refused(slack, method):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", slack.server.port, timeout=10)
    connection.request(method, "/slack/events")
    assert connection.getresponse().status == 405
    connection.close()
