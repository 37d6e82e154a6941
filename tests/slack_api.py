"""A loopback stand-in for the Slack Web API: the far side of the network, and nothing else.

It binds to port 0, speaks the Web API's wire format (form or JSON bodies, Bearer tokens,
`{"ok": ...}` answers, 429 with Retry-After) and records every call, so tests assert what the
bot really sent over HTTP. It also serves `response_url`s, which Slack hands to slash commands.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from tests.loopback import LoopbackServer

BOT_TOKEN = "xoxb-test-token"
BOT_USER_ID = "UBOT0001"
TEAM_ID = "T0TEST001"


@dataclass
class Call:
    method: str  # "chat.postMessage", or "response_url" for a response_url post
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)

    def blocks_text(self) -> str:
        """All text inside the call's blocks or view, for assertions on what a user saw."""
        return json.dumps(self.params.get("blocks") or self.params.get("view") or [],
                          ensure_ascii=False)


@dataclass
class Failure:
    status: int = 200
    error: str | None = None  # a Slack error code, answered with ok=false
    retry_after: int | None = None


class FakeSlackAPI(LoopbackServer):
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[Failure]] = {}
        self.channels: set[str] = {"C0DESK001", "C0GENERAL"}
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self._ts = 1_700_000_000
        super().__init__(self._handler_class())

    @property
    def url(self) -> str:
        return self.root_url + "/api/"

    def response_url(self, name: str = "r1") -> str:
        return self.url.replace("/api/", f"/response/{name}")

    # -- what tests use ----------------------------------------------------------------------

    def fail(self, method: str, *failures: Failure) -> None:
        """The next calls of `method` fail as given, in order."""
        with self._lock:
            self.failures.setdefault(method, []).extend(failures)

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Bolt answers in background threads: wait until `count` calls of `method` arrived."""
        return self._wait(
            lambda: [c for c in self.calls if c.method == method], count, timeout,
            lambda: f"expected {count} {method} call(s), got {[c.method for c in self.calls]}")

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    # -- the API -----------------------------------------------------------------------------

    def _answer(self, method: str, params: dict[str, Any], token: str | None
                ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._cond:
            self.calls.append(Call(method, params, token))
            self._cond.notify_all()
            queued = self.failures.get(method)
            failure = queued.pop(0) if queued else None
            self._ts += 1
            ts = f"{self._ts}.000100"
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return failure.status, {"ok": False, "error": failure.error or "ratelimited"}, headers
        if method == "response_url":
            return 200, {"ok": True}, {}
        if token != BOT_TOKEN:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if method in self.handlers:
            return 200, self.handlers[method](params), {}
        channel = str(params.get("channel", ""))
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            if channel.startswith("C") and channel not in self.channels:
                return 200, {"ok": False, "error": "channel_not_found"}, {}
            body = {"ok": True, "channel": channel, "ts": params.get("ts") or ts}
            if method == "chat.postEphemeral":
                body = {"ok": True, "message_ts": ts}
            return 200, body, {}
        if method == "auth.test":
            return 200, {"ok": True, "user_id": BOT_USER_ID, "team_id": TEAM_ID,
                         "bot_id": "B0BOT0001", "url": "https://test.slack.com/"}, {}
        if method == "conversations.info":
            if channel not in self.channels:
                return 200, {"ok": False, "error": "channel_not_found"}, {}
            return 200, {"ok": True, "channel": {"id": channel, "is_member": True}}, {}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            return 200, {"ok": True, "view": {"id": "V" + ts.replace(".", "")}}, {}
        return 200, {"ok": True}, {}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(raw) if raw else {}
                else:
                    params = dict(parse_qsl(raw, keep_blank_values=True))
                    for key in ("blocks", "view", "attachments"):
                        if isinstance(params.get(key), str):
                            params[key] = json.loads(params[key])
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
                token = token or params.pop("token", None)
                if self.path.startswith("/response/"):
                    method = "response_url"
                else:
                    method = self.path.removeprefix("/api/")
                status, body, headers = api._answer(method, params, token)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
