"""Socket Mode end to end: the real Bolt app over bot.platforms.slack.socket_mode, against a
loopback Slack (tests.socket_peer) that hands out connections, sends envelopes, reads acks and
drops connections the ways Slack and networks do."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from bot.config import ConfigError, SlackEnv
from bot.core import Core
from bot.health import Readiness
from bot.models import Question
from bot.platforms.shared import WorkQueue
from bot.platforms.slack.app import build_app, socket_door
from bot.platforms.slack.ports import ports_for
from bot.platforms.slack.socket_mode import SocketModeConnection, start_socket_mode
from bot.wiring import assemble
from tests.slack import command_form, event_callback, mention_event
from tests.slack_api import BOT_TOKEN
from tests.socket_peer import APP_TOKEN, PeerConnection, SocketModeAPI, SocketModePeer

RECONNECT_WITHIN = 5.0  # seconds from a drop to the client's new handshake
# How long an answer may take on a loaded CI machine: not what is measured here (the answer
# path has its own benchmark), only that one arrives.
ANSWER_WITHIN = 30.0
BUSY = "混み合っている"


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """SQLite only: the transport is under test here, not the storage."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def peer() -> Iterator[SocketModePeer]:
    with SocketModePeer() as server:
        yield server


@pytest.fixture
def slack_api(peer: SocketModePeer) -> Iterator[SocketModeAPI]:
    with SocketModeAPI(peer) as api:
        yield api


@pytest.fixture
def start(core: Core, slack_api: SocketModeAPI
          ) -> Iterator[Callable[..., SocketModeConnection]]:
    """Start the bot's Bolt app in Socket Mode, built as `compliance-bot run` builds it."""
    started: list[SocketModeConnection] = []

    def start_(app_token: str = APP_TOKEN, work: WorkQueue | None = None,
               **options: float) -> SocketModeConnection:
        slack = SlackEnv(bot_token=BOT_TOKEN, app_token=app_token, signing_secret=None,
                         api_url=slack_api.url)
        bot = assemble(core, {"slack": ports_for(slack)})
        app, ctx = build_app(bot.dispatcher, core, slack, work=work)
        connection = start_socket_mode(app, app_token, door=socket_door(ctx), **options)
        started.append(connection)
        return connection

    yield start_
    for connection in started:
        connection.stop()


@pytest.fixture
def bot(start: Callable[..., SocketModeConnection], peer: SocketModePeer
        ) -> SocketModeConnection:
    connection = start()
    peer.wait_for_connections(1)
    return connection


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.01)


def mention(peer: SocketModePeer, text: str, *, event_id: str | None = None,
            ts: str = "1700000000.000100", retry_attempt: int | None = None,
            connection: PeerConnection | None = None) -> str:
    body = event_callback(mention_event(text, ts=ts), event_id=event_id)
    return peer.envelope("events_api", body, retry_attempt=retry_attempt,
                         retry_reason="timeout" if retry_attempt else None,
                         connection=connection)


# -- envelopes ---------------------------------------------------------------------------------


def test_first_connection_opens_with_the_app_token_and_is_live(start, peer, slack_api, caplog,
                                                              monkeypatch):
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)  # as `compliance-bot run` has it
    bot = start()
    peer.wait_for_connections(1)
    # Bolt's start-up warnings (e.g. "`token` will be unused") do not come with our wiring.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING
                and r.name.startswith("slack_bolt")]
    [call] = slack_api.of("apps.connections.open")
    assert call.token == APP_TOKEN
    assert bot.is_live()
    assert peer.protocol_errors == []


def test_mention_is_acked_and_answered_in_its_thread(bot, peer, slack_api):
    envelope = mention(peer, "パスワードを他人に教えてもいい？", ts="1700000000.000300")
    ack = peer.wait_for_ack(envelope)
    assert ack.message == {"envelope_id": envelope}
    [call] = slack_api.wait_for("chat.postMessage", timeout=ANSWER_WITHIN)
    assert call.params["channel"] == "C0GENERAL"
    assert call.params["thread_ts"] == "1700000000.000300"
    assert call.token == BOT_TOKEN


def test_a_retried_envelope_is_acked_and_answered_once(bot, peer, slack_api):
    mention(peer, "パスワードを他人に教えてもいい？", event_id="Ev0RETRIED01",
            ts="1700000000.000400")
    slack_api.wait_for("chat.postMessage", timeout=ANSWER_WITHIN)
    # Slack sends the event again in a new envelope (its ack was late, say): acked, dropped.
    retry = mention(peer, "パスワードを他人に教えてもいい？", event_id="Ev0RETRIED01",
                    ts="1700000000.000400", retry_attempt=1)
    peer.wait_for_ack(retry)
    mention(peer, "Can I share my password with a colleague?", ts="1700000000.000500")
    calls = slack_api.wait_for("chat.postMessage", 2)
    time.sleep(0.2)  # a duplicate answer, were there one, would be on its way by now
    threads = [call.params["thread_ts"] for call in slack_api.of("chat.postMessage")]
    assert sorted(threads) == ["1700000000.000400", "1700000000.000500"], calls


def test_comply_help_is_acked_and_answered_through_response_url(bot, peer, slack_api):
    envelope = peer.envelope("slash_commands", command_form("help", slack_api.response_url()),
                             accepts_response_payload=True)
    assert peer.wait_for_ack(envelope).message == {"envelope_id": envelope}
    [call] = slack_api.wait_for("response_url")
    assert "/comply report" in call.params["text"]
    assert call.params["response_type"] == "ephemeral"


def test_a_full_queue_answers_busy_in_the_acknowledgement_and_stores_nothing(
        start, peer, slack_api, core):
    """Socket Mode has no HTTP door, so the envelope is refused before Bolt sees it: a command
    gets "busy" in its acknowledgement, a mention is acknowledged and told in a short reply."""
    work = WorkQueue("slack", workers=1, limit=1, max_wait=60)
    start(work=work)
    peer.wait_for_connections(1)
    held = threading.Event()
    work.submit(held.wait, 10)  # an earlier event still being handled
    try:
        assert work.full
        command = peer.envelope("slash_commands",
                                command_form("help", slack_api.response_url()),
                                accepts_response_payload=True)
        ack = peer.wait_for_ack(command)
        assert BUSY in ack.message["payload"]["text"]
        asked = mention(peer, "パスワードを他人に教えてもいい？", ts="1700000000.000900")
        assert peer.wait_for_ack(asked).message == {"envelope_id": asked}
        [notice] = slack_api.wait_for("chat.postEphemeral", timeout=ANSWER_WITHIN)
        assert BUSY in notice.params["text"]
    finally:
        held.set()
    assert not slack_api.of("response_url") and not slack_api.of("chat.postMessage")
    with core.database.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Question)) == 0


# -- drops -------------------------------------------------------------------------------------


@pytest.mark.parametrize("drop", ["close_frame", "tcp_close"])
def test_reconnects_within_seconds_after_the_connection_closes(drop, bot, core, peer,
                                                               slack_api):
    """Down means down: not live and /readyz failing until the new connection is open."""
    readiness = Readiness(core)
    readiness.add("slack", bot.is_live)
    first = peer.wait_for_connections(1)[0]
    attempts = len(peer.attempts)
    peer.hold()  # the reconnection waits at the handshake while the test looks
    dropped = time.monotonic()
    if drop == "close_frame":
        first.close_frame(1001, "going away")
    else:
        first.tcp_close()
    peer.wait_until_closed(first)
    peer.wait_for_attempts(attempts + 1, timeout=RECONNECT_WITHIN)
    assert peer.attempts[attempts] - dropped < RECONNECT_WITHIN
    assert not bot.is_live()
    assert readiness.failing() == ["slack"]
    peer.release()
    second = peer.wait_for_connections(2)[1]
    wait_until(bot.is_live, RECONNECT_WITHIN, "live again")
    assert readiness.failing() == []
    assert len(slack_api.of("apps.connections.open")) == 2  # a new URL for the new connection
    envelope = mention(peer, "パスワードを他人に教えてもいい？", connection=second)
    assert peer.wait_for_ack(envelope).connection == second.index
    slack_api.wait_for("chat.postMessage", timeout=ANSWER_WITHIN)
    if drop == "close_frame":
        assert first.client_closed  # the client answered the close frame


@pytest.mark.parametrize("reason", ["refresh_requested", "warning"])
def test_disconnect_message_moves_to_a_new_connection_with_no_gap(reason, bot, peer, slack_api):
    """Slack asks the app to move: the new connection opens before the old one closes, so
    the app stays live and envelopes on the old one are still acked meanwhile."""
    first = peer.wait_for_connections(1)[0]
    attempts = len(peer.attempts)
    peer.hold()
    asked = time.monotonic()
    first.disconnect_message(reason)
    peer.wait_for_attempts(attempts + 1, timeout=RECONNECT_WITHIN)
    assert peer.attempts[attempts] - asked < RECONNECT_WITHIN
    assert bot.is_live()
    envelope = mention(peer, "パスワードを他人に教えてもいい？", connection=first)
    assert peer.wait_for_ack(envelope).connection == first.index
    peer.release()
    second = peer.wait_for_connections(2)[1]
    peer.wait_until_closed(first, timeout=RECONNECT_WITHIN)  # the client left the old one
    assert bot.is_live()
    envelope = mention(peer, "Can I share my password with a colleague?",
                       ts="1700000000.000600", connection=second)
    assert peer.wait_for_ack(envelope).connection == second.index
    slack_api.wait_for("chat.postMessage", 2)


def test_refresh_requested_then_closed_leaves_one_new_connection(bot, peer, slack_api):
    """Slack asks for a refresh and drops the old connection at once: the client's move and
    its reconnection after the drop must not race into two new connections."""
    first = peer.wait_for_connections(1)[0]
    dropped = time.monotonic()
    first.disconnect_message("refresh_requested")
    first.tcp_close()
    second = peer.wait_for_connections(2, timeout=RECONNECT_WITHIN)[1]
    assert second.opened_at - dropped < RECONNECT_WITHIN
    wait_until(bot.is_live, RECONNECT_WITHIN, "live again")
    time.sleep(1.5)  # a second reconnection, were there one, would have started by now
    assert len(peer.connections) == 2
    assert [c.index for c in peer.live()] == [second.index]
    envelope = mention(peer, "パスワードを他人に教えてもいい？", connection=second)
    peer.wait_for_ack(envelope)
    slack_api.wait_for("chat.postMessage", timeout=ANSWER_WITHIN)


def test_a_connection_that_stops_answering_pings_is_replaced(start, peer):
    """Half-open: the connection looks open but nothing comes back."""
    connection = start(ping_interval=0.5, pong_timeout=0.5)
    first = peer.wait_for_connections(1)[0]
    wait_until(lambda: first.pings > 0, 5, "the client pings")
    peer.hold()
    silenced = time.monotonic()
    first.black_hole()
    peer.wait_for_attempts(2, timeout=RECONNECT_WITHIN)
    assert peer.attempts[1] - silenced < RECONNECT_WITHIN
    assert not connection.is_live()
    peer.release()
    peer.wait_for_connections(2)
    wait_until(connection.is_live, RECONNECT_WITHIN, "live again")


def test_refused_reconnections_back_off_without_spinning(bot, peer, slack_api):
    first = peer.wait_for_connections(1)[0]
    peer.refusing = True
    cpu, wall = time.process_time(), time.monotonic()
    first.tcp_close()
    peer.wait_for_attempts(3, timeout=RECONNECT_WITHIN)  # two refused so far
    time.sleep(1.0)  # and a second more to count in
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    refused = peer.attempts[1:]
    gaps = [later - earlier for earlier, later in itertools.pairwise(refused)]
    assert all(gap > 0.4 for gap in gaps), gaps  # never faster than every half second
    assert gaps == sorted(gaps), gaps  # and slower as the failures go on
    assert cpu < 0.5 * wall, f"{cpu:.2f}s of CPU in {wall:.2f}s: a busy loop"
    assert not bot.is_live()
    # Each attempt asked Slack for a new URL: a used one is never tried again.
    assert len(slack_api.of("apps.connections.open")) == len(peer.attempts)
    peer.refusing = False
    peer.wait_for_connections(2, timeout=10)
    wait_until(bot.is_live, RECONNECT_WITHIN, "live again")


# -- start and stop ----------------------------------------------------------------------------


def test_stop_closes_the_connection(start, peer):
    connection = start()
    first = peer.wait_for_connections(1)[0]
    connection.stop()
    assert not connection.is_live()
    peer.wait_until_closed(first)
    assert first.client_closed  # a close frame, not a dropped socket
    assert not any(thread.name == "slack-socket-mode" for thread in threading.enumerate())
    time.sleep(0.5)
    assert len(peer.attempts) == 1  # and no reconnection after stop


def test_a_refused_app_token_stops_start_up_with_one_line(start):
    with pytest.raises(ConfigError) as raised:
        start(app_token="xapp-1-A0TEST001-1-revoked")
    assert str(raised.value) == "SLACK_APP_TOKEN: cannot open Socket Mode (200 invalid_auth)"
