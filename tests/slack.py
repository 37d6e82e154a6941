"""Drive the real Slack side of the bot over HTTP, signed exactly as Slack signs requests.

`SlackHarness` starts the real Bolt app behind the bot's real HTTP server (waitress, port 0)
and a loopback Slack Web API (tests.slack_api); tests then send payloads in the shapes Slack
documents and read what the bot sent to the Web API.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from bot.config import SlackEnv
from bot.core import Core
from bot.health import Readiness
from bot.platforms.shared import WorkQueue
from bot.platforms.slack.app import build_app
from bot.platforms.slack.http import SlackEndpoint
from bot.platforms.slack.ports import ports_for
from bot.server import HttpServer, Routes
from bot.wiring import Bot, assemble
from tests.slack_api import BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlackAPI

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """Slack's v0 scheme: HMAC-SHA256 over `v0:{timestamp}:{body}`, hex, prefixed `v0=`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """The Events API's outer event, as Slack sends it over HTTP or inside a Socket Mode
    `events_api` envelope."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0TEST001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def mention_event(text: str, *, user: str = "U0EMPLOYEE", channel: str = "C0GENERAL",
                  ts: str = "1700000000.000100", thread_ts: str | None = None
                  ) -> dict[str, Any]:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}",
             "ts": ts, "channel": channel, "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def command_form(text: str, response_url: str, *, user: str = "U0EMPLOYEE",
                 user_name: str = "hanako", channel: str = "C0GENERAL") -> dict[str, str]:
    """A `/comply` slash command's fields: a form over HTTP, a `slash_commands` envelope's
    payload in Socket Mode."""
    return {
        "token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "test",
        "channel_id": channel, "channel_name": "general", "user_id": user,
        "user_name": user_name, "command": "/comply", "text": text,
        "api_app_id": "A0TEST001", "response_url": response_url,
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }


class SlackSender:
    """Slack's side of HTTP mode: payloads as Slack shapes them, signed, sent to a bot's port."""

    def __init__(self, api: FakeSlackAPI, port: int, secret: str = SIGNING_SECRET) -> None:
        self.api = api
        self.port = port
        self.secret = secret

    # -- raw HTTP ----------------------------------------------------------------------------

    def post(self, body: bytes, content_type: str, *, timestamp: int | None = None,
             signature: str | None = None, headers: dict[str, str] | None = None,
             path: str = "/slack/events") -> tuple[int, bytes]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or sign(body, stamp, self.secret),
        }
        all_headers.update(headers or {})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("POST", path, body=body, headers=all_headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    # -- payloads in the shapes Slack documents ----------------------------------------------

    def event(self, event: dict[str, Any], *, event_id: str | None = None,
              retry: int | None = None) -> tuple[int, bytes]:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} \
            if retry else None
        return self.post(json.dumps(event_callback(event, event_id=event_id)).encode(),
                         "application/json", headers=headers)

    def mention(self, text: str, *, user: str = "U0EMPLOYEE", channel: str = "C0GENERAL",
                ts: str = "1700000000.000100", thread_ts: str | None = None,
                **kwargs: Any) -> tuple[int, bytes]:
        return self.event(mention_event(text, user=user, channel=channel, ts=ts,
                                        thread_ts=thread_ts), **kwargs)

    def dm(self, text: str, *, user: str = "U0EMPLOYEE", channel: str = "D0EMPLOYEE",
           ts: str = "1700000000.000200", **kwargs: Any) -> tuple[int, bytes]:
        return self.event({"type": "message", "channel_type": "im", "user": user,
                           "text": text, "ts": ts, "channel": channel, "event_ts": ts}, **kwargs)

    def command(self, text: str, *, user: str = "U0EMPLOYEE", user_name: str = "hanako",
                channel: str = "C0GENERAL") -> tuple[int, bytes]:
        form = command_form(text, self.api.response_url(), user=user, user_name=user_name,
                            channel=channel)
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    def interaction(self, payload: dict[str, Any]) -> tuple[int, bytes]:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def press(self, action_id: str, value: str, *, user: str = "U0EMPLOYEE",
              channel: str | None = "C0GENERAL", message_ts: str | None = "1700000001.000100",
              thread_ts: str | None = None) -> tuple[int, bytes]:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": "hanako", "team_id": TEAM_ID},
            "api_app_id": "A0TEST001", "team": {"id": TEAM_ID, "domain": "test"},
            "trigger_id": "12466734323.1395872398.7dbc7db2d1e0",
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b1",
                         "value": value, "action_ts": str(time.time())}],
        }
        if channel is not None:
            payload["channel"] = {"id": channel, "name": "general"}
            payload["container"] = {"type": "message", "message_ts": message_ts,
                                    "channel_id": channel}
            message = {"type": "message", "ts": message_ts, "text": "..."}
            if thread_ts:
                message["thread_ts"] = thread_ts
            payload["message"] = message
            payload["response_url"] = self.api.response_url()
        else:
            payload["container"] = {"type": "view", "view_id": "V0HOME"}
            payload["view"] = {"id": "V0HOME", "type": "home"}
        return self.interaction(payload)

    def submit(self, view: dict[str, Any], values: dict[str, str], *,
               user: str = "U0EMPLOYEE") -> tuple[int, bytes]:
        """Submit a modal the bot opened (from views.open), filling its fields with `values`."""
        state: dict[str, Any] = {}
        for block in view["blocks"]:
            if block["type"] != "input":
                continue
            element = block["element"]
            value = values.get(block["block_id"])
            if element["type"] == "static_select":
                entry: dict[str, Any] = {"type": "static_select", "selected_option":
                                         {"value": value} if value else None}
            elif element["type"] == "multi_static_select":  # values comma-separated here
                entry = {"type": "multi_static_select", "selected_options": [
                    {"value": v} for v in (value or "").split(",") if v]}
            elif element["type"] == "datepicker":
                entry = {"type": "datepicker", "selected_date": value}
            else:
                entry = {"type": "plain_text_input", "value": value}
            state[block["block_id"]] = {element["action_id"]: entry}
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "test"},
            "user": {"id": user, "username": "hanako", "name": "hanako", "team_id": TEAM_ID},
            "api_app_id": "A0TEST001", "trigger_id": "12466734323.1395872398.7dbc7db2d1e0",
            # Slack's hash names the view as the app last set it: it changes on every update.
            "view": {**view, "id": view.get("id", "V0MODAL"), "state": {"values": state},
                     "hash": hashlib.sha256(json.dumps(view, sort_keys=True).encode())
                     .hexdigest()[:20]},
        }
        return self.interaction(payload)

    def shortcut(self, text: str, *, user: str = "U0EMPLOYEE",
                 channel: str = "C0GENERAL") -> tuple[int, bytes]:
        return self.interaction({
            "type": "message_action", "callback_id": "ask_about_message",
            "trigger_id": "12466734323.1395872398.7dbc7db2d1e0",
            "team": {"id": TEAM_ID, "domain": "test"},
            "user": {"id": user, "name": "hanako"},
            "channel": {"id": channel, "name": "general"},
            "message": {"type": "message", "user": "U0OTHER", "ts": "1700000002.000100",
                        "text": text},
            "response_url": self.api.response_url(),
        })


class SlackHarness(SlackSender):
    """The real Bolt app behind the real HTTP server, in this process, on a free port."""

    def __init__(self, core: Core, api: FakeSlackAPI, *, work: WorkQueue | None = None,
                 threads: int = 8, backlog_limit: int | None = None) -> None:
        self.core = core
        self.slack = SlackEnv(bot_token=BOT_TOKEN, app_token=None,
                              signing_secret=SIGNING_SECRET, api_url=api.url)
        # As the wiring builds it: the platform's ports, then the features, then the adapter.
        self.bot: Bot = assemble(core, {"slack": ports_for(self.slack)})
        self.app, self.ctx = build_app(self.bot.dispatcher, core, self.slack, work=work)
        self.routes = routes = Routes()
        limits = {} if backlog_limit is None else {"backlog_limit": backlog_limit}
        routes.add("/slack/events", SlackEndpoint(self.app, SIGNING_SECRET, self.ctx,
                                                  backlog=routes.backlog, **limits))
        routes.add("/readyz", Readiness(core))
        self.server = HttpServer(routes, host="127.0.0.1", port=0, threads=threads).start()
        super().__init__(api, self.server.port)

    def close(self) -> None:
        self.server.stop()
