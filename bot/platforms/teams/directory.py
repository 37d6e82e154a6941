"""Teams as the reminder engine's directory: who is in a team, by AAD object id.

A channel audience (`teams:19:…@thread.tacv2`) is everyone in that channel's team, read page by
page from the Bot Connector (the bot must be installed in the team). Teams has no user groups,
and the Bot Connector cannot list a whole tenant, so those audiences are refused with a reason
the reminder's status shows; a list of users needs no directory at all.

There is no `find_posted`: the Bot Connector cannot read a chat's history back, so a reminder
whose post failed in doubt is sent again (at least once), as the engine does for any platform
without a lookup.
"""

from __future__ import annotations

from bot.messages import MessengerError
from bot.platforms.teams.connector import Connector, ConversationBook, channel_base
from bot.reminders.definitions import Audience


class TeamsDirectory:
    platform = "teams"

    def __init__(self, connector: Connector, book: ConversationBook) -> None:
        self.connector = connector
        self.book = book

    def members(self, audience: Audience) -> list[str]:
        """AAD object ids of the people in the audience; bots are never among them."""
        if audience.kind == "channel" and audience.target:
            channel = channel_base(audience.target)
            members = self.connector.members(self.book.channel_service_url(channel), channel)
            ids = [m.get("aadObjectId") for m in members
                   if not str(m.get("id", "")).startswith("28:")]
            return list(dict.fromkeys(i for i in ids if isinstance(i, str) and i))
        if audience.kind == "usergroup":
            raise MessengerError("Teams has no user groups: use a team channel or a user list")
        raise MessengerError("Teams cannot list a whole tenant: use a team channel or a user list")
