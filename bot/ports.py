"""What a platform gives the flows and the background jobs, built by one factory per platform.

Each platform package exposes `ports(settings) -> PlatformPorts` (`bot.platforms.slack.ports`,
`bot.platforms.teams.ports`, `bot.platforms.console`); the wiring calls them for every
platform that has credentials, so `compliance-bot run` and every CLI command (a reminder sent
now to a Teams audience) reach a platform the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import Messenger
from bot.reminders.ports import Directory, PostedLookup


@dataclass(frozen=True)
class PlatformPorts:
    platform: str
    # Replies and notices the flows post first (desk triage, DMs); its client retries.
    messenger: Messenger
    # The reminder engine's own: a sender without built-in retries (the engine paces every
    # worker and pauses them all on a Retry-After), the audience directory, and the look-up
    # of a post whose outcome is in doubt (None where the platform cannot read history back).
    sender: Messenger
    directory: Directory
    lookup: PostedLookup | None = None
