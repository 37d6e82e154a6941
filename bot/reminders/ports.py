"""What the reminder engine needs from a platform beyond the Messenger (the clock: bot.clock).

Platform adapters implement these; the engine never imports a platform SDK.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.messages import Address, MessageRef
from bot.reminders.definitions import Audience


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
