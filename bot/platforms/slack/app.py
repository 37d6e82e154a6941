"""The Bolt app: built once from the core and the router, served over HTTP or Socket Mode."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackClientError
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.config import ConfigError, Settings, SlackEnv
from bot.core import Core
from bot.dispatch import Dispatcher
from bot.events import EventLedger
from bot.health import Readiness
from bot.platforms.shared import WorkQueue, quiet
from bot.platforms.slack.busy import Busy
from bot.platforms.slack.context import SlackContext
from bot.platforms.slack.directory import DIRECTORY_SCOPES
from bot.platforms.slack.listeners import register
from bot.platforms.slack.messenger import api_error, web_client
from bot.server import Routes

# Bolt and slack_sdk log request and response bodies at DEBUG, and those carry user ids and,
# in modals, report text and receipts: they never log below INFO, whatever the level set.
QUIET_LOGGERS = ("slack_bolt", "slack_sdk")
log = logging.getLogger("bot.platforms.slack")


# The bot token scopes the code needs, as deploy/slack/manifest.yaml requests them: the chat
# side's, and the reminder engine's directory (bot.platforms.slack.directory).
REQUIRED_SCOPES = frozenset({
    "app_mentions:read", "channels:read", "chat:write", "commands", "files:write",
    "groups:read", "im:history",
}) | DIRECTORY_SCOPES
BOT_EVENTS = frozenset({"app_home_opened", "app_mention", "message.im"})


class _ClientGiven(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given a client, then warns
    at every start that the token "will be unused": true and harmless here, since the client
    is built from that very token (and checked with auth.test above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "token` will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _ClientGiven) for f in logger.filters):
        logger.addFilter(_ClientGiven())
    return logger


def build_app(dispatcher: Dispatcher, core: Core, slack: SlackEnv, *,
              work: WorkQueue | None = None) -> tuple[App, SlackContext]:
    """auth.test runs here: a revoked or mistyped token stops start-up with one line."""
    quiet(QUIET_LOGGERS)
    client = web_client(slack)
    try:
        auth = client.auth_test()
    except SlackClientError as exc:
        raise ConfigError(f"SLACK_BOT_TOKEN: Slack refused the token ({api_error(exc)})") from None
    granted = auth.headers.get("x-oauth-scopes") or auth.headers.get("X-OAuth-Scopes")
    if granted:
        missing = REQUIRED_SCOPES - {scope.strip() for scope in granted.split(",")}
        if missing:
            logging.getLogger("bot.platforms.slack").warning(
                "the bot token lacks scopes %s: reinstall the app from deploy/slack/manifest.yaml",
                ", ".join(sorted(missing)))
    work = work or WorkQueue("slack")
    try:
        app = App(
            client=client,
            signing_secret=slack.signing_secret,
            # Socket Mode has no signatures to check; HTTP mode always does.
            request_verification_enabled=slack.signing_secret is not None,
            token_verification_enabled=False,  # done above, with a clear message
            logger=_bolt_logger(),
            listener_executor=work,
        )
    except BoltError as exc:
        raise ConfigError(f"SLACK_BOT_TOKEN: {exc}") from None

    @app.error
    def one_line(error: Exception) -> None:
        """Bolt would log a traceback quoting its own internals: one line names the failure."""
        logging.getLogger("bot.platforms.slack").warning(
            "slack request not handled: %s", type(error).__name__)

    @app.middleware
    def ack_presses_at_once(body: dict[str, Any], ack: Ack, next: Callable[[], None]) -> None:
        """A button press is acknowledged on the request's own thread, before its listener
        is queued. Bolt would otherwise hold the HTTP thread polling every 10 ms until a
        worker started the listener and acked from there: under a burst, the server's
        threads sat waiting on the work queue and requests piled up unread. Slack ignores a
        press's acknowledgement body, so nothing the listener decides later could go there.
        Commands, forms and option lists are left alone: their acknowledgement carries an
        answer."""
        if body.get("type") == "block_actions":
            ack()
        next()

    ctx = SlackContext(dispatcher, core, client, EventLedger(core.database, "slack"), work,
                       Busy(client, dispatcher.default_lang))
    register(app, ctx)
    return app, ctx


def socket_door(ctx: SlackContext) -> Callable[[SocketModeRequest], SocketModeResponse | None]:
    """Socket Mode's counterpart of the HTTP door's busy check (bot.platforms.slack.http)."""
    return lambda request: ctx.busy.envelope(ctx.work, request)


def serve(dispatcher: Dispatcher, core: Core, settings: Settings, routes: Routes,
          readiness: Readiness) -> Callable[[], None]:
    """Socket Mode when SLACK_APP_TOKEN is set, POST /slack/events otherwise."""
    slack = settings.slack
    assert slack is not None
    app, ctx = build_app(dispatcher, core, slack)
    if slack.app_token:
        from bot.platforms.slack.socket_mode import start_socket_mode

        connection = start_socket_mode(app, slack.app_token,  # ConfigError if Slack refuses
                                       door=socket_door(ctx))
        log.info("Slack: Socket Mode connected")
        readiness.add("slack", connection.is_live)
        return connection.stop
    from bot.platforms.slack.http import SlackEndpoint

    assert slack.signing_secret is not None
    routes.add("/slack/events", SlackEndpoint(app, slack.signing_secret, ctx,
                                              backlog=routes.backlog))
    log.info("Slack: HTTP mode at POST /slack/events")
    return lambda: None
