"""What the reminder engine needs from a platform beyond the Messenger, and from the clock.

Platform adapters implement these; the engine never imports a platform SDK.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from bot.messages import Address, MessageRef
from bot.reminders.definitions import Audience

# Everything that decides "is it due" takes the time from here, so tests move time by hand.
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Directory(Protocol):
    """Who is in an audience (a channel, a user group, the whole workspace) on one platform."""

    def members(self, audience: Audience) -> list[str]:
        """Platform user ids, without bots and deactivated accounts."""
        ...


class PostedLookup(Protocol):
    """Whether a message carrying `marker` was already posted to `to` since `since`.

    A post that timed out or crashed mid-call may or may not have reached the user; asking the
    platform before sending again is what turns at-least-once into exactly-once.
    """

    def find_posted(self, to: Address, marker: str, since: datetime) -> MessageRef | None: ...
