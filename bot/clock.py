"""The one clock idiom: everything that decides "is it due" takes the time from a `Clock`,
so tests move time by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)
