"""When the Microsoft side refuses or fails: retries, tokens, apologies, and quiet logs."""

from __future__ import annotations

import dataclasses
import logging
import time

import pytest
import requests

from bot.db import Database
from bot.messages import Address, MessengerError, Reply
from bot.metrics import REGISTRY
from bot.platforms.teams.auth import ClientCredentials, TokenError
from bot.platforms.teams.connector import Connector, ConversationBook, TeamsMessenger
from bot.reminders.definitions import Audience
from tests.bot.platforms.teams.harness import CHANNEL, PERSONAL, TeamsHarness
from tests.teams_api import APP_ID, APP_PASSWORD, BOT_ID, TENANT_ID, Failure


def _attempts(teams_api) -> list:
    return [c for c in teams_api.calls if c.method == "POST" and "/activities" in c.path]


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_429_is_retried_after_retry_after_and_delivered_once(teams, teams_api):
    limited = _sample("compliance_bot_platform_rate_limited_total", platform="teams")
    teams_api.fail(Failure(429, retry_after=1))
    teams.dm("パスワードを他人に教えてもいい？")
    first, second = teams_api.wait_for(2)
    assert second.at - first.at >= 1.0
    assert first.body == second.body and "出典" in second.card_text()
    time.sleep(0.3)
    assert len(_attempts(teams_api)) == 2  # the refused call and its retry, nothing more
    assert _sample("compliance_bot_platform_rate_limited_total", platform="teams") == limited + 1


@pytest.mark.parametrize("status", [412, 502, 504])
def test_transient_statuses_are_retried_with_backoff(teams, teams_api, status):
    teams_api.fail(Failure(status), Failure(status))
    teams.dm("パスワードを他人に教えてもいい？")
    calls = teams_api.wait_for(3)
    assert calls[2].at - calls[1].at > calls[1].at - calls[0].at > 0.4  # growing waits
    time.sleep(0.3)
    assert len(_attempts(teams_api)) == 3


def test_a_refused_call_leaves_an_apology_and_the_bot_keeps_answering(teams, teams_api, caplog):
    errors = _sample("compliance_bot_platform_api_errors_total", platform="teams", error="403")
    teams_api.fail(Failure(403))
    teams.dm("パスワードを他人に教えてもいい？")
    refused, apology = teams_api.wait_for(2)
    assert "出典" in refused.card_text()
    assert "申し訳ありません" in apology.card_text() and apology.conversation == PERSONAL
    assert "teams message: Teams Bot Connector: 403" in caplog.text
    assert _sample("compliance_bot_platform_api_errors_total", platform="teams",
                   error="403") == errors + 1
    teams.dm("IDを共有してもいい？")
    assert "出典" in teams_api.wait_for(3)[2].card_text()


def test_throttling_that_outlasts_the_retries_tells_the_caller_to_slow_down(core, teams_api):
    slept: list[float] = []
    book = ConversationBook(teams_api.service_url, TENANT_ID)
    session = requests.Session()
    credentials = ClientCredentials(teams_api.token_url, APP_ID, APP_PASSWORD, session)
    connector = Connector(credentials, session, book.trusted, sleep=slept.append,
                          jitter=lambda: 0.0)
    messenger = TeamsMessenger(connector, book, BOT_ID)
    teams_api.fail(*[Failure(429, retry_after=2)] * 4)
    with pytest.raises(MessengerError) as info:
        messenger.post(Address("channel", CHANNEL), Reply("hello", "en"))
    assert info.value.retry_after == 2
    assert slept == [2.0, 2.0, 2.0]  # never sooner than Retry-After; four attempts in all
    assert str(info.value) == "Teams Bot Connector: 429"
    teams_api.fail(Failure(429, retry_after=120))  # longer than any sender should sit
    with pytest.raises(MessengerError) as info:
        messenger.post(Address("channel", CHANNEL), Reply("hello", "en"))
    assert info.value.retry_after == 120 and len(slept) == 3


def test_revoked_token_is_replaced_once(teams, teams_api):
    teams.dm("パスワードを他人に教えてもいい？")
    teams_api.wait_for()
    teams_api.issued_tokens.clear()  # Azure AD revoked what the bot holds
    teams.dm("IDを共有してもいい？")
    refused, delivered = teams_api.wait_for(3)[1:]
    assert refused.token not in teams_api.issued_tokens
    assert delivered.token in teams_api.issued_tokens
    token_calls = [c for c in teams_api.calls if c.path.endswith("/token")]
    assert len(token_calls) == 2  # at start, and after the 401


def test_the_token_is_reused_until_shortly_before_it_expires(teams_api):
    now = [1000.0]
    credentials = ClientCredentials(teams_api.token_url, APP_ID, APP_PASSWORD,
                                    requests.Session(), clock=lambda: now[0])
    teams_api.token_lifetime = 3600
    first = credentials.token()
    now[0] += 3000
    assert credentials.token() == first
    now[0] += 301  # within five minutes of expiry
    assert credentials.token() != first
    assert len([c for c in teams_api.calls if c.path.endswith("/token")]) == 2
    body = next(c for c in teams_api.calls if c.path.endswith("/token")).body
    assert body["scope"] == "https://api.botframework.com/.default"
    assert body["grant_type"] == "client_credentials" and body["client_id"] == APP_ID


def test_token_endpoint_errors_name_the_code_not_the_secret(teams_api):
    credentials = ClientCredentials(teams_api.token_url, APP_ID, "wrong", requests.Session())
    with pytest.raises(TokenError) as info:
        credentials.token()
    assert str(info.value) == "token endpoint: 401 invalid_client" and info.value.refused
    assert "AADSTS" not in str(info.value) and "wrong" not in str(info.value)


def test_no_user_id_text_or_payload_reaches_the_logs(core, teams_api, caplog):
    caplog.set_level(logging.DEBUG)
    secret_aad = "0badc0de-1234-4321-abcd-0123456789ab"
    secret_user = "29:1SecretPersonTeamsId_abcdefghijklmnopqrstuvwxyz0123456789"
    question = "退職した同僚のIDでログインしてもいいですか？"
    harness = TeamsHarness(core, teams_api)
    try:
        harness.dm(question, aad=secret_aad, user=secret_user, user_name="Secret Person")
        harness.mention(question, aad=secret_aad, user=secret_user, user_name="Secret Person")
        harness.press({"action": "nothing.known", "value": "x"}, reply_to="1700000000001",
                      aad=secret_aad, user=secret_user)
        teams_api.fail(Failure(404))
        harness.dm(question, aad=secret_aad, user=secret_user)
        teams_api.wait_for(5)
        harness.send({"type": "message", "serviceUrl": teams_api.service_url,
                      "channelId": "msteams", "from": {"id": secret_user}})  # malformed
        time.sleep(0.3)
    finally:
        harness.close()
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for secret in (secret_aad, secret_user, "Secret Person", question, "退職した同僚",
                   PERSONAL, CHANNEL, APP_PASSWORD):
        assert secret not in logged
    assert "teams" in logged  # the log is not simply empty


def test_database_down_gets_503_for_a_later_redelivery_never_500(core, teams_api, caplog):
    down = dataclasses.replace(core, database=Database("postgresql://nobody@127.0.0.1:9/none"))
    harness = TeamsHarness(down, teams_api)
    try:
        assert harness.dm("パスワードを他人に教えてもいい？")[0] == 503
        assert "database unavailable (OperationalError)" in caplog.text
        time.sleep(0.2)
        assert teams_api.connector_calls() == []
    finally:
        harness.close()


def test_the_reminder_engines_messenger_leaves_retrying_to_the_engine(teams, teams_api):
    ports = teams.app.core.ports["teams"]
    messenger, directory = ports.sender, ports.directory
    teams_api.fail(Failure(429, retry_after=7))
    with pytest.raises(MessengerError) as info:
        messenger.post(Address("channel", CHANNEL), Reply("reminder", "en"))
    assert info.value.retry_after == 7
    assert len(_attempts(teams_api)) == 1
    messenger.post(Address("channel", CHANNEL), Reply("reminder", "en"))
    assert len(_attempts(teams_api)) == 2 and _attempts(teams_api)[1].token is not None
    assert len(directory.members(Audience(channel=f"teams:{CHANNEL}"))) == 3


def test_a_message_past_the_work_queues_bound_is_told_busy_and_nothing_stored(
        core, teams, teams_api):
    import threading

    import sqlalchemy as sa

    from bot.models import Question
    from bot.platforms.shared import WorkQueue

    teams.bot.pool = WorkQueue("teams", workers=1, limit=1)
    held = threading.Event()
    teams.bot.pool.submit(held.wait, 10)  # the one worker busy with an earlier event
    try:
        assert teams.dm("パスワードを他人に教えてもいい？")[0] == 202
        [busy] = teams_api.wait_for()
        assert "混み合っている" in busy.card_text()
        with core.database.transaction() as session:
            assert session.scalars(sa.select(Question)).all() == []
    finally:
        held.set()


def test_a_message_while_the_http_server_is_backed_up_is_told_busy(core, teams, teams_api):
    """The work queue may have room while requests pile up before the HTTP server's threads:
    past the door's bound a message is told busy rather than answered late."""
    import sqlalchemy as sa

    from bot.models import Question
    from bot.platforms.shared import BACKLOG_LIMIT

    waiting = [BACKLOG_LIMIT + 1]  # requests queued behind this one, as the server counts
    teams.bot.backlog = lambda: waiting[0]
    assert teams.dm("パスワードを他人に教えてもいい？")[0] == 202
    [busy] = teams_api.wait_for()
    assert "混み合っている" in busy.card_text()
    with core.database.transaction() as session:
        assert session.scalars(sa.select(Question)).all() == []
    waiting[0] = 0  # drained: the next one is answered
    teams_api.clear()
    assert teams.dm("パスワードを他人に教えてもいい？", activity_id="1700000000999")[0] == 202
    [answer] = teams_api.wait_for()
    assert "混み合っている" not in answer.card_text()


def test_dialogs_while_the_http_server_is_backed_up_are_told_busy_and_keep_the_form(
        core, teams, teams_api):
    """Opening and submitting a dialog run on the request's thread: past the door's bound
    Teams gets "busy" at once instead of a late answer, and a submitted form stays open with
    what was typed; nothing is stored."""
    import sqlalchemy as sa

    from bot.models import Question
    from bot.platforms.shared import BACKLOG_LIMIT

    _, opened = teams.invoke("task/fetch", {"action": "ask.open", "value": "ja"})
    [submit] = opened["task"]["value"]["card"]["content"]["actions"]
    waiting = [BACKLOG_LIMIT + 1]
    teams.bot.backlog = lambda: waiting[0]
    before = _sample("compliance_bot_work_shed_total", platform="teams", kind="invoke")
    status, answer = teams.invoke("task/fetch", {"action": "ask.open", "value": "ja"})
    assert status == 200 and answer["task"]["type"] == "message"
    assert "混み合っている" in answer["task"]["value"]
    data = {**submit["data"], "question": "パスワードを他人に教えてもいい？"}
    status, answer = teams.invoke("task/submit", data)
    assert status == 200 and answer["task"]["type"] == "continue"
    card = answer["task"]["value"]["card"]["content"]
    assert any("混み合っている" in b.get("text", "") for b in card["body"]
               if b.get("color") == "attention")
    assert any(b.get("id") == "question" and b.get("value") == data["question"]
               for b in card["body"])  # what was typed is still there
    assert card["actions"][0]["data"] == submit["data"]  # and can be sent again
    assert _sample("compliance_bot_work_shed_total", platform="teams",
                   kind="invoke") == before + 2
    with core.database.transaction() as session:
        assert session.scalars(sa.select(Question)).all() == []
    waiting[0] = 0  # drained: the same submission goes through
    status, answer = teams.invoke("task/submit", data, activity_id="1700000000998")
    assert status == 200 and answer is None
    [posted] = teams_api.wait_for()
    assert "出典" in posted.card_text()
