"""`POST /api/messages`: the door the Bot Connector knocks on, and how the Teams side is built.

Order of checks: method, size, content type, then the token, before the body is even parsed,
so an unauthenticated caller learns nothing about what we accept; then the body, the token's
`serviceurl` and channel against it, and the activity's shape. A refused token gets a 401 and
nothing is sent anywhere; a malformed activity a 400; nothing gets a 500.

Agents Playground sends no token at all: with TEAMS_ALLOW_UNAUTHENTICATED (development only,
warned about at start) a request without an Authorization header is let through, replies to it
go out without our token, and what it claims about people is not remembered. That mode starts
offline: the signing keys are read when a request first carries a token (a 503 while they
cannot be read), not at start as in production.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from bot.config import ConfigError, Settings, TeamsEnv
from bot.core import Core
from bot.dispatch import Dispatcher
from bot.events import EventLedger
from bot.platforms.shared import quiet
from bot.platforms.teams.activities import Malformed, parse_activity
from bot.platforms.teams.app import TeamsBot
from bot.platforms.teams.auth import (
    AuthError,
    KeysUnavailable,
    SigningKeys,
    TokenValidator,
    Verified,
)
from bot.platforms.teams.ports import TeamsPorts
from bot.server import Request, Response, Routes
from bot.untrusted import parse_json

log = logging.getLogger("bot.platforms.teams")

MAX_BODY = 1024 * 1024
JSON = "application/json"
PATH = "/api/messages"

# urllib3 logs every request line at DEBUG, and the paths carry conversation ids.
QUIET_LOGGERS = ("urllib3",)


class TeamsEndpoint:
    def __init__(self, bot: TeamsBot, validator: TokenValidator, *,
                 allow_unauthenticated: bool = False) -> None:
        self.bot = bot
        self.validator = validator
        self.allow_unauthenticated = allow_unauthenticated

    def __call__(self, request: Request) -> Response:
        if request.method != "POST":
            return Response.text(405, "method not allowed")
        if request.too_large(MAX_BODY):
            return Response.text(413, "request body too large")
        if request.content_type() != JSON:
            return Response.text(415, "unsupported content type")
        authorization = request.header("authorization")
        verified: Verified | None = None
        if authorization is not None or not self.allow_unauthenticated:
            try:
                verified = self.validator.verify(authorization)
            except AuthError as exc:
                log.warning("teams request refused: %s", exc.reason)
                return Response.text(401, "unauthorized")
            except KeysUnavailable:
                log.error("teams request refused: the Bot Framework signing keys are unavailable")
                return Response.text(503, "signing keys unavailable")
        body = request.body(MAX_BODY)
        if body is None:
            return Response.text(413, "request body too large")
        try:
            payload = parse_json(body)
        except ValueError:  # bad UTF-8, bad JSON, or nested deeper than any activity
            log.warning("teams request refused: body is not JSON")
            return Response.text(400, "malformed body")
        if not isinstance(payload, dict):
            return Response.text(400, "malformed body")
        service_url, channel_id = payload.get("serviceUrl"), payload.get("channelId")
        if not isinstance(service_url, str) or not isinstance(channel_id, str) \
                or not service_url.startswith(("https://", "http://")):
            log.warning("teams request refused: no serviceUrl or channelId")
            return Response.text(400, "malformed activity")
        if verified is not None:
            try:
                verified.check_activity(service_url, channel_id)
            except AuthError as exc:
                log.warning("teams request refused: %s", exc.reason)
                return Response.text(401, "unauthorized")
        try:
            activity = parse_activity(payload)
        except Malformed as exc:
            log.warning("teams request refused: %s", exc)
            return Response.text(400, "malformed activity")
        status, answer = self.bot.handle(activity, verified=verified is not None)
        if answer is None:
            return Response(status)
        return Response.json(status, json.dumps(answer, ensure_ascii=False).encode("utf-8"))


def build(dispatcher: Dispatcher, core: Core, teams: TeamsEnv, ports: TeamsPorts, *,
          workers: int = 8, key_refresh_s: float = 60.0) -> tuple[TeamsBot, TeamsEndpoint]:
    """Read the signing keys now: wrong settings stop start-up, one line.

    In development mode (TEAMS_ALLOW_UNAUTHENTICATED) nothing is read at start, so the bot
    starts with no Microsoft endpoint reachable; the keys are read when a request first carries
    a token. `key_refresh_s`: how soon an unknown key id may fetch the key set again.
    """
    quiet(QUIET_LOGGERS)
    assert ports.connector is not None and ports.book is not None
    keys = SigningKeys(teams.openid_metadata_url, ports.connector.session,
                       min_refresh_s=key_refresh_s)
    if teams.allow_unauthenticated:
        log.warning("TEAMS_ALLOW_UNAUTHENTICATED is on: requests without a token are "
                    "accepted at %s. For local development only, never in production.", PATH)
        log.info("Teams development mode: signing keys are read when a request first "
                 "carries a token, not at start")
    else:
        try:
            keys.refresh()
        except KeysUnavailable as exc:
            raise ConfigError("TEAMS_OPENID_METADATA_URL: cannot read the Bot Framework "
                              f"signing keys ({exc})") from None
    bot = TeamsBot(dispatcher, core, teams, ports, EventLedger(core.database, "teams"),
                   workers=workers)
    endpoint = TeamsEndpoint(bot, TokenValidator(keys, teams.app_id),
                             allow_unauthenticated=teams.allow_unauthenticated)
    return bot, endpoint


def serve(dispatcher: Dispatcher, core: Core, settings: Settings, routes: Routes
          ) -> Callable[[], None]:
    """Teams at POST /api/messages, over the ports the wiring built."""
    assert settings.teams is not None
    ports = core.ports["teams"]
    assert isinstance(ports, TeamsPorts)
    bot, endpoint = build(dispatcher, core, settings.teams, ports)
    bot.backlog = routes.backlog
    routes.add(PATH, endpoint)
    log.info("Teams: Bot Connector endpoint at POST %s", PATH)
    return bot.stop
