"""Posting to a request's `response_url` over kept-alive connections.

Bolt's `respond` (slack_sdk's WebhookClient) opens a new connection, and against Slack a new
TLS session, for every post. A burst of presses after a company-wide reminder posts hundreds
of answers a second to the same host, and the handshakes were a tenth of a press's CPU on
loopback, more over TLS. urllib3's pool keeps the connections; slack_sdk offers no pooled
webhook client, so this small class stands in for `respond` with the same keyword arguments.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import urllib3

from bot.platforms.shared import WORKERS, count_api_error

log = logging.getLogger("bot.platforms.slack")

TIMEOUT = urllib3.Timeout(connect=5.0, read=10.0)


class ResponseUrlError(RuntimeError):
    """Slack refused a response_url post (expired after 30 minutes or 5 uses, or malformed)."""


class ResponseUrls:
    def __init__(self, *, connections: int = WORKERS) -> None:
        # One pool per host (Slack uses one); as many kept connections as workers posting.
        self._pool = urllib3.PoolManager(num_pools=4, maxsize=connections, block=False,
                                         timeout=TIMEOUT, retries=False)

    def post(self, url: str, **message: Any) -> None:
        """What Bolt's `respond(**message)` sends: the message's fields as one JSON object.
        Raises ResponseUrlError when Slack answers with an error, OSError-like urllib3
        errors when it cannot be reached (the listener's guard logs either in one line)."""
        body = json.dumps({k: v for k, v in message.items() if v is not None},
                          ensure_ascii=False).encode("utf-8")
        response = self._pool.request("POST", url, body=body, headers={
            "Content-Type": "application/json;charset=utf-8"})
        if response.status >= 400:
            count_api_error("slack", f"response_url_{response.status}")
            raise ResponseUrlError(f"response_url answered {response.status}")

    def to(self, url: str) -> Any:
        """A `respond`-shaped callable for one request's response_url."""
        return lambda **message: self.post(url, **message)

    def close(self) -> None:
        self._pool.clear()
