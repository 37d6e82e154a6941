"""Logging set-up: one line per event, text or JSON.

Flows log what happened (ids of our own rows, entry ids, scores), never message text or
platform payloads; that rule is kept at the call sites and checked by the tests.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from bot.config import LoggingSettings


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(payload, ensure_ascii=False)


def configure(
    settings: LoggingSettings, stream: TextIO | None = None, quiet: bool = False
) -> None:
    """`quiet`: one-shot commands print results on stdout; only warnings go to stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if settings.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel("WARNING" if quiet and settings.level in ("DEBUG", "INFO") else settings.level)
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
