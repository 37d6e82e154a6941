"""Logging set-up: one line per event, text or JSON, through a redaction step.

Flows log what happened (ids of our own rows, entry ids, scores), never message text or
platform payloads; that rule is kept at the call sites and checked by the tests. The redaction
filter is the second line of defence, for what a library or a careless line lets through:
platform user and channel ids, tokens, receipts' secret keys and e-mail addresses.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.config import LoggingSettings

# Order matters: tokens before the generic id patterns that would eat their tails.
REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bxox[abposre]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+"), "[token]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[jwt]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [token]"),
    # a receipt's secret key: five groups of four from the receipts' alphabet
    (re.compile(r"\b(?:[2-9A-HJKMNP-Z]{4}-){4}[2-9A-HJKMNP-Z]{4}\b"), "[secret]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # Teams and Azure AD: 29:…/a:…/8:orgid:… conversation and user ids, object-id GUIDs
    (re.compile(r"\b(?:29|28|a|8:orgid|19):[A-Za-z0-9_@.:=-]{6,}"), "[teams-id]"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                r"[0-9a-fA-F]{12}\b"), "[guid]"),
    # Slack user, channel, DM, group, team and enterprise ids (U0123ABCD, D0…, T0…)
    (re.compile(r"\b[UWCDGTE][A-Z0-9]{8,}\b"), "[slack-id]"),
)


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and drops its traceback text) before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            # A traceback's last line quotes the exception's message: keep the type only.
            message = f"{message} ({record.exc_info[0].__name__})"
        record.msg = redact(message)
        record.args = None
        record.exc_info = None
        record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, str | None] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(payload, ensure_ascii=False)


def configure(
    settings: LoggingSettings, stream: TextIO | None = None, quiet: bool = False,
    path: Path | None = None,
) -> None:
    """`quiet`: one-shot commands print results on stdout; only warnings go to stderr.
    `path`: append to that file instead (the console chat, whose terminal is the chat)."""
    handler: logging.Handler
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    else:
        handler = logging.StreamHandler(stream or sys.stderr)
    if settings.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel("WARNING" if quiet and settings.level in ("DEBUG", "INFO") else settings.level)
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
    # These two log request and response bodies at DEBUG: never below INFO, whatever is set.
    for name in ("slack_bolt", "slack_sdk"):
        logging.getLogger(name).setLevel(max(root.level, logging.INFO))
