"""Load shedding at Slack's door: when the work queue is full, each kind of request gets
"busy, please try again" in the cheapest way Slack allows, and nothing is stored.

- a slash command: in the HTTP response itself (an ephemeral message, no call);
- a modal's submission: as an error on its first field, so the form stays filled in;
- a button or a shortcut: through its response_url;
- a mention or a DM: an ephemeral message or a DM reply.

Over Socket Mode the same answers go back in the envelope's acknowledgement (`envelope`).

The last two need a Web API call; they run on a small pool of their own
(`WorkQueue.for_notices`), bounded far wider than the answers' because a late "try again" is
still worth sending; past even that bound a notice is dropped (and counted).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.webhook import WebhookClient

from bot.i18n import t
from bot.platforms.shared import WorkQueue
from bot.server import Response
from bot.untrusted import dict_field, parse_json, text_field

log = logging.getLogger("bot.platforms.slack")


class Busy:
    def __init__(self, client: WebClient, lang: str) -> None:
        self.client = client
        self.lang = lang
        self.notices = WorkQueue.for_notices("slack")

    def answer(self, work: WorkQueue, text: str, content_type: str) -> Response:
        busy = t("platform.busy", self.lang)
        if content_type == "application/json":
            payload = parse_json(text)
            payload = payload if isinstance(payload, dict) else {}
            if payload.get("type") == "url_verification":
                return Response.text(200, str(payload.get("challenge", "")))
            work.shed("event")
            self._later(self._event, dict_field(payload, "event"), busy)
            return Response.text(200, "")
        fields = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" not in fields:  # a slash command: answered in the response itself
            work.shed("command")
            return _json({"response_type": "ephemeral", "text": busy})
        payload = parse_json(fields["payload"])
        payload = payload if isinstance(payload, dict) else {}
        if payload.get("type") == "view_submission":
            work.shed("form")
            state = dict_field(dict_field(dict_field(payload, "view"), "state"), "values")
            if state:  # the form stays open, filled in, with the reason on its first field
                return _json({"response_action": "errors", "errors": {next(iter(state)): busy}})
            return Response.text(200, "")
        work.shed("action")
        url = text_field(payload, "response_url")
        if url:
            self._later(self._respond, url, busy)
        return Response.text(200, "")

    def envelope(self, work: WorkQueue, request: SocketModeRequest) -> SocketModeResponse | None:
        """Socket Mode's door: None when the envelope may go to Bolt; else its acknowledgement,
        carrying the busy answer where Slack takes one in it (a command's message, a form's
        error), the rest told as over HTTP. The envelope is rebuilt as the HTTP body Slack
        would have sent, so both doors answer alike."""
        if not work.full or not isinstance(request.payload, dict):
            return None
        payload = request.payload
        if request.type == "events_api":
            text, content_type = json.dumps(payload), "application/json"
        elif request.type == "slash_commands":
            text, content_type = urlencode(payload), "application/x-www-form-urlencoded"
        elif request.type == "interactive":
            text = urlencode({"payload": json.dumps(payload)})
            content_type = "application/x-www-form-urlencoded"
        else:
            return None
        answer = self.answer(work, text, content_type)
        body = json.loads(answer.body) if answer.body.startswith(b"{") else None
        return SocketModeResponse(envelope_id=request.envelope_id, payload=body)

    def _later(self, fn: Any, *args: Any) -> None:
        if self.notices.full:
            self.notices.shed("dropped")  # even saying "busy" would queue: acked, dropped
            return
        self.notices.submit(fn, *args)

    def _event(self, event: dict[str, Any], busy: str) -> None:
        channel, user = text_field(event, "channel"), text_field(event, "user")
        if not channel or not user or event.get("subtype") or event.get("bot_id"):
            return
        try:
            if event.get("type") == "app_mention":
                self.client.chat_postEphemeral(channel=channel, user=user, text=busy)
            elif event.get("channel_type") == "im":
                self.client.chat_postMessage(channel=channel, text=busy)
        except SlackClientError as exc:
            log.warning("busy notice not delivered: %s", type(exc).__name__)

    @staticmethod
    def _respond(url: str, busy: str) -> None:
        try:
            WebhookClient(url).send(text=busy, response_type="ephemeral",
                                    replace_original=False)
        except Exception as exc:
            log.warning("busy notice not delivered: %s", type(exc).__name__)


def _json(body: dict[str, Any]) -> Response:
    return Response.json(200, json.dumps(body, ensure_ascii=False).encode("utf-8"))
