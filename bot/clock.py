"""The one clock idiom: code that decides "is it due" takes a `Clock`, so tests move time by hand.

`utcnow` is the production clock and the default for timestamp columns: always timezone-aware,
in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
