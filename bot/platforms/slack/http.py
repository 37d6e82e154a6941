"""`POST /slack/events`: the door Slack knocks on in HTTP mode.

Everything is checked before Bolt sees the body: size, content type, the signature headers'
form, signature and age (with slack_sdk's verifier, the v0 HMAC Slack documents), and that the
body parses, no deeper than bot.untrusted allows. Bolt would parse
first and verify after, and a truncated body would surface as a 500 with a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.platforms.shared import BACKLOG_LIMIT
from bot.platforms.slack.context import SlackContext
from bot.server import Request, Response
from bot.untrusted import is_ascii_header, parse_json

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; anything bigger is not from Slack
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


class SlackEndpoint:
    def __init__(self, app: App, signing_secret: str, ctx: SlackContext | None = None, *,
                 backlog: Callable[[], int] = lambda: 0, backlog_limit: int = BACKLOG_LIMIT
                 ) -> None:
        self.app = app
        self.verifier = SignatureVerifier(signing_secret)
        self.ctx = ctx  # its work queue, to answer busy when full
        self.backlog = backlog  # the HTTP server's (Routes.backlog)
        self.backlog_limit = backlog_limit

    def __call__(self, request: Request) -> Response:
        if request.method != "POST":
            return Response.text(405, "method not allowed")
        if request.too_large(MAX_BODY):
            return Response.text(413, "request body too large")
        body = request.body()
        if body is None:
            return Response.text(413, "request body too large")
        content_type = request.content_type()
        if content_type not in (JSON, FORM):
            return Response.text(415, "unsupported content type")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Response.text(400, "body is not UTF-8")
        timestamp = request.header("x-slack-request-timestamp")
        signature = request.header("x-slack-signature")
        # slack_sdk's verifier calls int() on the timestamp and encodes the signature as
        # ASCII, raising on anything else: unsigned junk must be a 401, not a 500.
        if not (is_ascii_header(timestamp, r"[0-9]{1,12}")
                and is_ascii_header(signature, r"v0=[0-9a-f]{64}")
                and self.verifier.is_valid(text, timestamp or "", signature or "")):
            log.warning("slack request refused: bad signature or stale timestamp")
            return Response.text(401, "invalid signature")
        try:
            if not _parses(text, content_type):
                raise ValueError
        except ValueError:
            log.warning("slack request refused: body does not parse as %s", content_type)
            return Response.text(400, "malformed body")
        if self.ctx is not None and (self.ctx.work.full
                                     or self.backlog() > self.backlog_limit):
            # Signed and well formed, but more than the bot can answer in time: say so now.
            return self.ctx.busy.answer(self.ctx.work, text, content_type)
        try:
            bolt = self.app.dispatch(BoltRequest(body=text, headers=request.headers_multi()))
        except Exception as exc:  # a payload shaped unlike Slack's: refuse it, keep serving
            log.warning("slack request refused: %s while dispatching", type(exc).__name__)
            return Response.text(400, "malformed request")
        if bolt.status >= 500:
            log.warning("slack request failed in a listener (status %s)", bolt.status)
            return Response.text(400, "request not handled")
        headers = [(name, value) for name, values in bolt.headers.items() for value in values
                   if name.lower() != "content-length"]
        return Response(bolt.status, headers, bolt.body.encode("utf-8"))


def _parses(text: str, content_type: str) -> bool:
    """Events are a JSON object; commands a form; interactions a form with a JSON payload.

    Beyond parsing, the fields Bolt reaches into before any listener runs must have the types
    Slack documents, or Bolt fails inside its middleware with a traceback.
    """
    if content_type == JSON:
        payload = parse_json(text)
        return isinstance(payload, dict) and _shaped_like_slack(payload)
    fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
    if "payload" in fields:
        payload = parse_json(fields["payload"])
        return isinstance(payload, dict) and _shaped_like_slack(payload)
    return bool(fields)


def _is(value: object, kind: type | tuple[type, ...], optional: bool = True) -> bool:
    return (optional and value is None) or isinstance(value, kind)


def _shaped_like_slack(payload: dict[str, Any]) -> bool:
    if not _is(payload.get("type"), str):
        return False
    for name in ("team", "user", "channel", "view", "message", "container", "enterprise"):
        if not _is(payload.get(name), (dict, str)):
            return False
    if not _is(payload.get("event"), dict):
        return False
    event = payload.get("event") or {}
    if not _is(event.get("type"), str) or not _is(payload.get("event_id"), str):
        return False
    authorizations = payload.get("authorizations")
    if not _is(authorizations, list) or not all(
            isinstance(a, dict) for a in authorizations or []):
        return False
    actions = payload.get("actions")
    if not _is(actions, list):
        return False
    for action in actions or []:
        if not isinstance(action, dict) or not _is(action.get("action_id"), str) \
                or not _is(action.get("block_id"), str):
            return False
    view = payload.get("view")
    if not isinstance(view, dict):
        return True
    return all(_is(view.get(name), str) for name in (
        "callback_id", "private_metadata", "id", "hash", "type")) and all(
        _is(view.get(name), dict) for name in ("title", "state", "submit", "close"))
