"""What every loopback stand-in for a far-side API shares: a threaded HTTP server on port 0,
started and stopped as a context manager, and a condition to wait on recorded calls."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackServer:
    def __init__(self, handler_class: type[BaseHTTPRequestHandler]) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def root_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _wait(self, matching: Callable[[], list[Any]], count: int, timeout: float,
              describe: Callable[[], str]) -> list[Any]:
        """The bot answers from background threads: wait until `count` calls matched."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(describe())
                self._cond.wait(left)
            return matching()
