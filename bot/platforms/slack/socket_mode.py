"""Slack Socket Mode that survives real networks: reconnects within seconds of any drop.

Slack's end of a Socket Mode connection goes away in three ways: a `disconnect` message
(`refresh_requested`, or `warning` some seconds before a drop), a WebSocket close frame, and a
TCP close with no close frame (a load balancer, proxy or NAT dropping the connection). A fourth
is silence: the connection half-open, only unanswered pings telling.

Why slack_sdk's `websockets` client (`slack_sdk.socket_mode.websockets`): each of Bolt's four
Socket Mode adapters was run against the loopback Slack of the tests (tests/socket_peer.py),
each kind of drop, a 2 s ping interval unless noted:

- builtin (Bolt's default `SocketModeHandler`): after a TCP close with no close frame its
  receive loop spins on a socket that returns b"" (a whole core) until five pings have failed:
  30 s at a 5 s ping, 29.6 s of it CPU. A refused reconnection spins the same way (11.6 s,
  11.4 s CPU). A close frame waits for the next monitor tick: its close handler still sees
  the socket as connected.
- websocket_client: a `disconnect` message leaves it without a connection for 0.5 s (the new
  session starts on the runner's next tick), and in 2 runs of 7 for 10.5 s (at a 5 s ping)
  while the old `run_forever` winds down; it pings with no pong timeout, so a half-open
  connection is never noticed (still on the silent one after 80 s).
- aiohttp: immediate on `disconnect` and close frames, but a reconnection whose handshake
  fails is retried with the same apps.connections.open URL for ever (a new URL is asked for
  only when it has none): Slack's URLs are temporary, and against one-time URLs it stayed
  down (24 refused handshakes in 40 s).
- websockets: `disconnect` moves to the new connection before closing the old one (no gap);
  a close frame or TCP close shows at once (`state` leaves OPEN) and is acted on at the next
  monitor tick (1.7 s); every reconnection asks for a new URL; nothing spins. Half-open took
  32 s (websockets' own 20 s pong timeout and 10 s close timeout).

So websockets, with what it lacks added here through the public API of both libraries:
reconnecting the moment a connection closes, with a backoff instead of a fixed interval; a
pong timeout of seconds (`PONG_TIMEOUT`); and the synchronous Bolt app run on worker threads,
never on the event loop. The cost is two dependencies: `websockets`, and `aiohttp`, which
slack_sdk's async Web API client (it calls apps.connections.open) imports.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.errors import SlackClientError
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.socket_mode.websockets import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from bot.config import ConfigError
from bot.platforms.slack.messenger import api_error

log = logging.getLogger(__name__)

PING_INTERVAL = 5.0  # seconds between pings on a quiet connection
PONG_TIMEOUT = 5.0  # a ping unanswered this long drops the connection
RETRY_MIN = 0.5  # the shortest gap between two connection attempts
RETRY_MAX = 4.0  # the longest, after repeated failures: still a reconnection within 5 s
STABLE = 10.0  # a connection that lived this long resets the backoff
CONNECT_TIMEOUT = 15.0  # the first connection, at start-up
STOP_TIMEOUT = 5.0


# What may refuse an envelope before Bolt sees it: its acknowledgement then, or None.
Door = Callable[[SocketModeRequest], SocketModeResponse | None]


class SocketModeConnection:
    """One Socket Mode connection kept up in its own thread (an asyncio loop), envelopes
    handed to the Bolt app on worker threads."""

    def __init__(self, app: App, app_token: str, *, ping_interval: float = PING_INTERVAL,
                 pong_timeout: float = PONG_TIMEOUT, workers: int = 10,
                 door: Door | None = None) -> None:
        self.app = app
        self.door = door  # answers busy in the acknowledgement when the bot is full
        self.app_token = app_token
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self._stopped = False
        self._workers = ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="slack-socket-mode-envelope")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        name="slack-socket-mode", daemon=True)
        self._thread.start()
        self._supervisor: asyncio.Task[None] | None = None
        self._client: SocketModeClient = self._run(self._make_client(), CONNECT_TIMEOUT)

    # -- the interface -----------------------------------------------------------------------

    def connect(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """The first connection; raises if Slack refuses it. Reconnections are automatic."""
        self._run(self._client.connect(), timeout)  # type: ignore[no-untyped-call]  # untyped in slack_sdk
        self._supervisor = self._run(self._start_supervisor(), timeout)

    def is_live(self) -> bool:
        """A connection to Slack is open now (for /readyz)."""
        session = self._client.current_session
        return not self._stopped and session is not None and session.state is State.OPEN

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            self._run(self._close(), STOP_TIMEOUT + 1)
        except Exception as exc:
            log.warning("Slack Socket Mode: closing failed: %s", type(exc).__name__)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_TIMEOUT)
        if not self._thread.is_alive():
            self._loop.close()
        self._workers.shutdown(wait=False, cancel_futures=True)

    # -- inside the loop ---------------------------------------------------------------------

    def _run(self, coroutine: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _make_client(self) -> SocketModeClient:
        """Made inside the loop: the client starts its message task when it is made."""
        web = self.app.client
        client = SocketModeClient(
            app_token=self.app_token,
            # Under slack_sdk, so the bot's logging policy (INFO at most) keeps payloads out.
            logger=logging.getLogger("slack_sdk.socket_mode"),
            web_client=AsyncWebClient(base_url=web.base_url, timeout=web.timeout, ssl=web.ssl,
                                      proxy=web.proxy),
            # Reconnection is the supervisor's alone (the client's own monitor would retry at
            # a fixed interval); a `disconnect` message is still handled by the client.
            auto_reconnect_enabled=False,
            ping_interval=self.ping_interval,
        )
        # slack_sdk types its listeners against the abstract client this one subclasses.
        client.socket_mode_request_listeners.append(self._on_request)  # type: ignore[arg-type]
        return client

    async def _start_supervisor(self) -> asyncio.Task[None]:
        return asyncio.ensure_future(self._supervise())

    async def _on_request(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        """Bolt's synchronous dispatch runs on a worker thread; the ack goes back from here."""
        refused = self.door(request) if self.door is not None else None
        if refused is not None:
            await client.send_socket_mode_response(refused)
            return
        started = time.time()
        response = await asyncio.get_running_loop().run_in_executor(
            self._workers, run_bolt_app, self.app, request)
        await send_async_response(client, request, response, started)

    async def _supervise(self) -> None:
        while not self._client.closed:
            try:
                await self._keep_connected()
            except Exception as exc:  # a bug here must not end reconnection for good
                log.error("Slack Socket Mode: supervisor failed (%s); restarting it",
                          type(exc).__name__)
                await asyncio.sleep(RETRY_MAX)

    async def _keep_connected(self) -> None:
        """Watch the open connection; when it is lost, reconnect at once, then with a
        backoff while attempts fail or new connections die young."""
        loop = asyncio.get_running_loop()
        failures = 0
        last_attempt = loop.time()
        while not self._client.closed:
            session = self._client.current_session
            if session is not None and session.state is State.OPEN:
                opened = loop.time()
                await self._watch(session)
                if self._client.closed:
                    return
                if self._client.current_session is session:  # not replaced: lost
                    failures = 0 if loop.time() - opened >= STABLE else failures + 1
                    log.warning("Slack Socket Mode: connection lost (close code %s); "
                                "reconnecting", session.close_code)
                continue
            gap = min(RETRY_MIN * 2 ** failures, RETRY_MAX)
            await asyncio.sleep(max(0.0, last_attempt + gap - loop.time()))
            last_attempt = loop.time()
            try:
                await self._client.connect_to_new_endpoint()
            except Exception as exc:
                failures += 1
                reason = api_error(exc) if isinstance(exc, SlackClientError) else \
                    type(exc).__name__
                log.warning("Slack Socket Mode: reconnecting failed (%s); trying again", reason)
            else:
                if self._client.current_session is not None \
                        and self._client.current_session.state is State.OPEN:
                    log.info("Slack Socket Mode: reconnected")

    def _is_current(self, session: object) -> bool:
        # A method, not an inline `is` test: mypy would narrow `session` to the client's
        # Optional type after it.
        return session is self._client.current_session

    async def _watch(self, session: Any) -> None:
        """Until `session` closes or is replaced; a ping unanswered for `pong_timeout` drops
        it (the connection may be half-open: nothing else would tell)."""
        closed = asyncio.ensure_future(session.wait_closed())
        try:
            while True:
                done, _ = await asyncio.wait({closed}, timeout=self.ping_interval)
                if done or not self._is_current(session):
                    return
                try:
                    async with asyncio.timeout(self.pong_timeout):
                        await (await session.ping())
                except TimeoutError:
                    log.warning("Slack Socket Mode: no pong within %g s; dropping the "
                                "connection", self.pong_timeout)
                    session.transport.abort()
                    await closed
                    return
                except ConnectionClosed:
                    return
        finally:
            closed.cancel()

    async def _close(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await self._client.close()  # type: ignore[no-untyped-call]  # untyped in slack_sdk
        except TimeoutError:
            pass
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def start_socket_mode(app: App, app_token: str, **options: Any) -> SocketModeConnection:
    """Connect the Bolt app to Slack over Socket Mode; a refusal stops start-up with one line."""
    connection = SocketModeConnection(app, app_token, **options)
    try:
        connection.connect()
    except Exception as exc:
        connection.stop()
        reason = api_error(exc) if isinstance(exc, SlackClientError) else type(exc).__name__
        raise ConfigError(f"SLACK_APP_TOKEN: cannot open Socket Mode ({reason})") from None
    return connection
