"""The bot's one HTTP server: Slack's events, Teams' activities, health and metrics.

A small WSGI router on waitress (a production WSGI server in pure Python) rather than a web
framework: the bot serves a handful of fixed paths, and every one of them checks its own
input before anything else runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from waitress.server import create_server

log = logging.getLogger(__name__)


class Request:
    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method: str = environ.get("REQUEST_METHOD", "GET")
        self.path: str = environ.get("PATH_INFO", "/")

    def header(self, name: str) -> str | None:
        key = "HTTP_" + name.upper().replace("-", "_")
        if name.lower() == "content-type":
            key = "CONTENT_TYPE"
        value = self.environ.get(key)
        return value if isinstance(value, str) else None

    def headers_multi(self) -> dict[str, str | Sequence[str]]:
        headers: dict[str, str | Sequence[str]] = {key[5:].lower().replace("_", "-"): [value]
                   for key, value in self.environ.items()
                   if key.startswith("HTTP_") and isinstance(value, str)}
        if self.environ.get("CONTENT_TYPE"):
            headers["content-type"] = [self.environ["CONTENT_TYPE"]]
        return headers

    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    def content_length(self) -> int:
        raw = self.environ.get("CONTENT_LENGTH") or "0"
        return int(raw) if str(raw).isdigit() else -1

    def too_large(self, limit: int) -> bool:
        return self.content_length() > limit or self.content_length() < 0

    def body(self, limit: int = 1024 * 1024) -> bytes | None:
        """At most `limit` bytes; None when the client sends more than it may."""
        data = self.environ["wsgi.input"].read(min(self.content_length(), limit + 1))
        return None if len(data) > limit else data


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def text(cls, status: int, text: str) -> Response:
        return cls(status, [("Content-Type", "text/plain; charset=utf-8")], text.encode())

    @classmethod
    def json(cls, status: int, data: bytes) -> Response:
        return cls(status, [("Content-Type", "application/json")], data)


Handler = Callable[[Request], Response]

REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request",
           401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           413: "Payload Too Large", 415: "Unsupported Media Type",
           422: "Unprocessable Content", 500: "Internal Server Error",
           503: "Service Unavailable"}


class Routes:
    """A WSGI application mapping fixed paths to handlers."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {"/healthz": lambda _: Response.text(200, "ok")}
        self._backlog: Callable[[], int] = lambda: 0  # set by the server that serves these

    def backlog(self) -> int:
        """Requests read by the server and not yet given a thread. The last of a deep backlog
        has already waited: Slack's door answers busy past a bound rather than acknowledging
        seconds late (bot.platforms.slack.http)."""
        return self._backlog()

    def count_backlog_with(self, count: Callable[[], int]) -> None:
        """Called by the server that serves these routes, which alone knows its queue."""
        self._backlog = count

    def add(self, path: str, handler: Handler) -> None:
        self.handlers[path] = handler

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        handler = self.handlers.get(request.path)
        try:
            response = handler(request) if handler else Response.text(404, "not found")
        except Exception as exc:  # never a traceback to the caller, never the body in the log
            log.error("%s %s failed: %s", request.method, request.path, type(exc).__name__)
            response = Response.text(500, "internal error")
        reason = REASONS.get(response.status, "")
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(f"{response.status} {reason}", headers)
        return [response.body]


class HttpServer:
    """waitress in a background thread; port 0 picks a free port (tests, benchmarks)."""

    def __init__(self, routes: Routes, host: str = "0.0.0.0", port: int = 3000,
                 threads: int = 8) -> None:
        # waitress's default of 100 open connections is kept: its loop asks every open
        # connection whether it is readable and writable on each turn, so accepting a whole
        # burst at once (1,000 were tried) cost more than the burst's requests themselves.
        self.server = create_server(routes, host=host, port=port, threads=threads,
                                    ident="compliance-bot", clear_untrusted_proxy_headers=True)
        dispatcher = self.server.task_dispatcher
        routes.count_backlog_with(lambda: len(dispatcher.queue))
        self._thread = threading.Thread(target=self._serve, name="http", daemon=True)
        self._stopping = False

    def _serve(self) -> None:
        try:
            self.server.run()
        except OSError:
            # Closing the sockets from another thread wakes the loop with EBADF: that is a stop.
            if not self._stopping:
                raise

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def start(self) -> HttpServer:
        self._thread.start()
        log.info("HTTP server listening on port %s", self.port)
        return self

    def stop(self) -> None:
        self._stopping = True
        self.server.task_dispatcher.shutdown()
        self.server.close()
        self._thread.join(timeout=5)
