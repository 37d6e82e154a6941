"""The door: methods, sizes, content types, and hundreds of activities Teams never sends."""

from __future__ import annotations

import copy
import json
import logging
import random
import time

import sqlalchemy as sa

from bot.models import Question
from tests.bot.platforms.teams.harness import TeamsHarness
from tests.bot.test_run import free_port


def test_other_methods_sizes_and_content_types_are_refused(teams, teams_api):
    activity = json.dumps(teams.activity(text="password")).encode()
    assert teams.post(activity, method="GET")[0] == 405
    assert teams.post(activity, content_type="text/plain")[0] == 415
    assert teams.post(activity, content_type="application/x-www-form-urlencoded")[0] == 415
    huge = teams.activity(text="x" * (1024 * 1024 + 1))
    assert teams.send(huge)[0] == 413
    assert teams.post(b"", headers={"Content-Length": "-5"})[0] in (400, 413)
    time.sleep(0.2)
    assert teams_api.connector_calls() == []


WRONG_TYPES = [1, 2.5, True, None, [], {}, "", "x" * 2000, ["a"], {"id": 1}]


def _mutate(rng: random.Random, good: dict, ask: dict) -> dict | list | str | int:
    """One activity of a shape Teams never sends (or of a type we do not use)."""
    kind = rng.randrange(12)
    activity = copy.deepcopy(good)
    activity["id"] = str(rng.randrange(10**12, 10**13))  # each a new activity, not a redelivery
    if kind == 0:  # a top-level field removed
        activity.pop(rng.choice(["type", "id", "conversation", "from", "channelId"]), None)
    elif kind == 1:  # a top-level field of the wrong type
        name = rng.choice(["type", "id", "conversation", "from", "recipient", "text", "locale",
                           "replyToId", "channelData", "membersAdded", "name", "entities"])
        activity[name] = rng.choice(WRONG_TYPES)
    elif kind == 2:  # a nested field of the wrong type
        parent = rng.choice(["conversation", "from", "recipient", "channelData"])
        child = rng.choice(["id", "aadObjectId", "name", "tenantId", "conversationType",
                            "tenant", "isGroup"])
        activity[parent] = {**activity.get(parent, {}), child: rng.choice(WRONG_TYPES)}
    elif kind == 3:  # a type we do not use, or one that does not exist
        activity["type"] = rng.choice(["typing", "messageReaction", "installationUpdate",
                                       "endOfConversation", "event", "deleteUserData",
                                       "messageUpdate", "🙂", "MESSAGE"])
    elif kind == 4:  # button data of every wrong shape
        activity["value"] = rng.choice([*WRONG_TYPES, {"action": 1, "value": "x"},
                                        {"action": "ask.feedback", "value": ["1:up"]},
                                        {"action": "ask.feedback", "value": "abc"},
                                        {"action": "x" * 5000, "value": "1"}])
    elif kind == 5:  # dialogs with every wrong shape of data
        activity.update(type="invoke", name=rng.choice(["task/fetch", "task/submit", "x", 1]),
                        value=rng.choice([*WRONG_TYPES, {"data": rng.choice(WRONG_TYPES)},
                                          {"data": {"__form": rng.choice(WRONG_TYPES)}},
                                          {"data": {"__form": {"id": "report.submit",
                                                               "fields": [1, 2]}}},
                                          {"data": {"command": ["report"]}},
                                          {"data": {**ask, "question": "\x00ID\x01を\x7f"}},
                                          {"data": {"command": "desk \x00?"}}]))
    elif kind == 6:  # membersAdded of the wrong shape
        activity.update(type="conversationUpdate",
                        membersAdded=rng.choice([[1], ["28:x"], [{"id": 3}], "all", [{}]]))
    elif kind == 7:
        return rng.choice([[], [activity], "message", 42, None])
    elif kind == 8:  # ids far longer than any Teams id
        activity[rng.choice(["id", "replyToId"])] = "9" * 5000
    elif kind == 9:  # text that is not text
        activity["text"] = rng.choice(["\x00\x01\x02", "<at>" * 1000, "&#xdfff;" * 10, "\ud800"])
    elif kind == 10:  # a service URL that is not a URL
        activity["serviceUrl"] = rng.choice(["ftp://x", "", 5, None, "javascript:alert(1)"])
    else:  # everything at once
        activity = {key: rng.choice(WRONG_TYPES) for key in activity}
    return activity


def test_malformed_activities_get_4xx_or_are_ignored_never_500(teams, teams_api, caplog):
    rng = random.Random(7)
    good = teams.activity(text="パスワードを他人に教えてもいい？")
    _, dialog = teams.invoke("task/fetch", {"action": "ask.open", "value": "ja"})
    ask = dialog["task"]["value"]["card"]["content"]["actions"][0]["data"]
    statuses: dict[int, int] = {}
    for _ in range(300):
        activity = _mutate(rng, good, ask)
        if isinstance(activity, dict) and "serviceUrl" in activity:
            url = activity["serviceUrl"]
            token = teams_api.token(service_url=url if isinstance(url, str) else "x")
        else:
            token = teams_api.token()
        body = json.dumps(activity, ensure_ascii=False).encode("utf-8", errors="surrogatepass")
        status, _ = teams.post(body, token=token)
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500 and status in (200, 202, 400, 401, 403), (status, activity)
    for body in (b"{", b"\xff\xfe", b"null", b'{"type": "message"}' * 3, b""):
        status, _ = teams.post(body)
        assert 400 <= status < 500
    assert statuses.get(400, 0) > 50 and statuses.get(200, 0) > 10 and statuses.get(202, 0) > 10
    time.sleep(1.0)  # what was accepted is answered by the worker threads
    assert "Traceback" not in caplog.text and " failed: " not in caplog.text
    assert not [c for c in teams_api.sent() if "申し訳ありません" in c.card_text()]
    # ...and the door is still open for the real thing.
    teams_api.clear()
    assert teams.dm("パスワードを他人に教えてもいい？")[0] == 202
    assert "出典" in teams_api.wait_for()[0].card_text()


def test_an_activity_from_another_tenant_is_refused(teams, teams_api):
    activity = teams.activity(text="password")
    activity["conversation"]["tenantId"] = "11111111-2222-3333-4444-555555555555"
    assert teams.send(activity)[0] == 403
    time.sleep(0.2)
    assert teams_api.connector_calls() == []


def test_development_mode_accepts_unsigned_requests_and_warns(core, teams_api, caplog):
    caplog.set_level(logging.WARNING)
    harness = TeamsHarness(core, teams_api, allow_unauthenticated=True)
    try:
        assert "TEAMS_ALLOW_UNAUTHENTICATED is on" in caplog.text
        activity = harness.activity(text="password", serviceUrl=teams_api.playground_url)
        assert harness.send(activity, token=None)[0] == 202
        [call] = teams_api.wait_for(what="/playground/")
        assert call.token is None
        # A token that is present is still checked.
        assert harness.send(activity, token=teams_api.token(aud="someone-else"))[0] == 401
    finally:
        harness.close()


def test_development_mode_reads_nothing_at_start_and_the_keys_when_a_token_arrives(
        core, teams_api):
    harness = TeamsHarness(core, teams_api, allow_unauthenticated=True)
    try:
        assert teams_api.calls == []  # no signing keys, no token: it starts offline
        assert harness.dm("password")[0] == 202  # a signed request: the keys are read now
        [reply] = teams_api.wait_for()
        assert reply.token in teams_api.issued_tokens  # and our token when first needed
        assert [c.path for c in teams_api.calls if c.method == "GET"] == [
            "/v1/.well-known/openidconfiguration", "/v1/.well-known/keys"]
    finally:
        harness.close()


def test_development_mode_answers_a_token_it_cannot_check_with_503_never_500(
        core, teams_api, caplog):
    closed = f"http://127.0.0.1:{free_port()}"
    harness = TeamsHarness(core, teams_api, allow_unauthenticated=True,
                           env={"TEAMS_OPENID_METADATA_URL": closed + "/openid"})
    try:
        assert harness.dm("password")[0] == 503
        assert harness.dm("password")[0] == 503  # not fetched again within the minute
        # ...while requests without a token, the Playground's, are still answered.
        activity = harness.activity(text="password", serviceUrl=teams_api.playground_url)
        assert harness.send(activity, token=None)[0] == 202
        [call] = teams_api.wait_for(what="/playground/")
        assert call.token is None
        assert "Traceback" not in caplog.text
        assert not [c for c in teams_api.calls if "/teams/" in c.path]
    finally:
        harness.close()


def test_control_characters_are_dropped_before_anything_is_stored(core, teams, teams_api):
    """PostgreSQL refuses NUL in text: a question or a form value carrying one still works."""
    teams.dm("パスワードを\x00他人に\x01教えてもいい？")
    _, dialog = teams.invoke("task/fetch", {"action": "ask.open", "value": "ja"})
    data = dialog["task"]["value"]["card"]["content"]["actions"][0]["data"]
    question = "ID\x00を共有\x7fしてもいい？"
    status, answer = teams.invoke("task/submit", {**data, "question": question})
    assert status == 200 and answer is None
    calls = teams_api.wait_for(2)
    assert all("出典" in call.card_text() for call in calls)
    with core.database.transaction() as session:
        texts = sorted(session.scalars(sa.select(Question.text)))
    assert texts == ["IDを共有してもいい？", "パスワードを他人に教えてもいい？"]
