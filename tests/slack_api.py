"""A loopback stand-in for the Slack Web API: the far side of the network, and nothing else.

It binds to port 0, speaks the Web API's wire format (form or JSON bodies, Bearer tokens,
`{"ok": ...}` answers, 429 with Retry-After) and records every call, so tests assert what the
bot really sent over HTTP. It also serves `response_url`s, which Slack hands to slash commands,
and the three steps of a file upload (files_upload_v2): files.getUploadURLExternal hands out
an upload URL on this server, the bytes are POSTed there (recorded as the call "upload"), and
files.completeUploadExternal shares them in a channel (`shared_files`).
"""

from __future__ import annotations

import json
import threading
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
class SharedFile:
    """A file the bot uploaded and shared: what a channel shows."""

    id: str
    channel: str
    filename: str
    title: str | None
    alt: str | None
    comment: str | None
    thread_ts: str | None
    data: bytes
    ts: str


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
        self.shared: list[SharedFile] = []
        self._ts = 1_700_000_000
        self._pending: dict[str, dict[str, Any]] = {}  # file id -> what getUploadURL was told
        self._uploaded: dict[str, bytes] = {}
        self.open = threading.Event()  # cleared by pause(): calls wait, as on a slow Slack
        self.open.set()
        super().__init__(self._handler_class())

    def pause(self) -> None:
        """Hold every call until resume(), as a Slack slow to answer would."""
        self.open.clear()

    def resume(self) -> None:
        self.open.set()

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

    def shared_files(self, channel: str | None = None) -> list[SharedFile]:
        with self._lock:
            return [f for f in self.shared if channel is None or f.channel == channel]

    # -- file uploads ------------------------------------------------------------------------

    def _upload_url(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = "F" + ts.replace(".", "")
        self._pending[file_id] = params
        return {"ok": True, "file_id": file_id,
                "upload_url": f"{self.root_url}/upload/v1/{file_id}"}

    def _upload(self, file_id: str, data: bytes) -> tuple[int, str]:
        with self._cond:
            self.calls.append(Call("upload", {"file_id": file_id, "length": len(data)}, None))
            self._cond.notify_all()
            queued = self.failures.get("upload")
            failure = queued.pop(0) if queued else None
            pending = self._pending.get(file_id)
            if failure is not None:
                return failure.status, "error"
            if pending is None or int(pending["length"]) != len(data):
                return 400, "bad upload"
            self._uploaded[file_id] = data
        return 200, f"OK - {len(data)}"

    def _complete(self, params: dict[str, Any], ts: str) -> tuple[int, dict[str, Any]]:
        channel = str(params.get("channel_id") or "")
        if channel.startswith("C") and channel not in self.channels:
            return 200, {"ok": False, "error": "channel_not_found"}
        files = json.loads(params.get("files") or "[]")
        if not files or any(f.get("id") not in self._uploaded for f in files):
            return 200, {"ok": False, "error": "file_not_found"}
        answers = []
        for item in files:
            pending = self._pending[item["id"]]
            shared = SharedFile(
                item["id"], channel, pending["filename"], item.get("title"),
                pending.get("alt_txt"), params.get("initial_comment"), params.get("thread_ts"),
                self._uploaded[item["id"]], ts)
            self.shared.append(shared)
            answers.append({"id": shared.id, "name": shared.filename, "title": shared.title,
                            "shares": {"public": {channel: [{"ts": ts}]}}})
        return 200, {"ok": True, "files": answers}

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
        if method == "files.getUploadURLExternal":
            with self._lock:
                return 200, self._upload_url(params, ts), {}
        if method == "files.completeUploadExternal":
            with self._lock:
                status, body = self._complete(params, ts)
            return status, body, {}
        if method == "conversations.open":
            return 200, {"ok": True, "channel": {"id": "D" + str(params.get("users", ""))}}, {}
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
                api.open.wait(timeout=60)
                length = int(self.headers.get("Content-Length") or 0)
                if self.path.startswith("/upload/v1/"):  # a file's bytes, as they are
                    status, text = api._upload(self.path.rsplit("/", 1)[-1],
                                               self.rfile.read(length))
                    self._send(status, text.encode(), "text/plain; charset=utf-8", {})
                    return
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
                self._send(status, json.dumps(body).encode(),
                           "application/json; charset=utf-8", headers)

            def _send(self, status: int, data: bytes, content_type: str,
                      headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
