"""Slack as the reminder engine's directory: who is in an audience, and what was already posted.

`members` resolves a reminder's audience (users.list, conversations.members,
usergroups.users.list, following cursors); `find_posted` looks a reminder of unknown outcome up
in the conversation's history by the marker every reminder carries, so a crash or a 5xx after
Slack accepted the message does not turn into a second copy.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.config import SlackEnv
from bot.messages import Address, MessageRef
from bot.platforms.slack.messenger import SlackMessenger, messenger_error
from bot.reminders.definitions import Audience

log = logging.getLogger(__name__)

# What these calls need on top of the app's other scopes (for the manifest).
DIRECTORY_SCOPES = frozenset({
    "users:read",        # users.list: all members, and telling people from bots
    "usergroups:read",   # usergroups.users.list
    "channels:read",     # conversations.members, public channels
    "groups:read",       # conversations.members, private channels
    "im:write",          # conversations.open: the DM a reminder went to
    "im:history",        # conversations.history of that DM
    "channels:history",  # conversations.history of a broadcast channel
    "groups:history",
})
PAGE = 200  # Slack's recommended page size for cursored methods
HISTORY_PAGES = 5  # a reminder is looked up within minutes of being sent: recent pages suffice


def reminder_ports(slack: SlackEnv, *, timeout_s: int = 10) -> tuple[SlackMessenger,
                                                                      SlackDirectory]:
    """A messenger and a directory for the reminder engine, over a client that never retries.

    The reminder sender paces every worker and pauses them all on a 429's Retry-After; a
    client retrying on its own would sleep in one worker while the others carry on, and a post
    retried after a connection reset could arrive twice. Keep `timeout_s` below
    `reminders.post_timeout_s`.
    """
    client = WebClient(token=slack.bot_token, timeout=timeout_s,
                       base_url=slack.api_url or WebClient.BASE_URL)
    client.retry_handlers = []
    return SlackMessenger(client), SlackDirectory(client)


class SlackDirectory:
    platform = "slack"

    def __init__(self, client: WebClient) -> None:
        self.client = client

    # -- audiences ---------------------------------------------------------------------------

    def members(self, audience: Audience) -> list[str]:
        """People only: bots, Slackbot and deactivated accounts never get a reminder."""
        try:
            if audience.kind == "usergroup":
                response = self.client.usergroups_users_list(usergroup=audience.target or "")
                return self._people(response.get("users", []))
            if audience.kind == "channel":
                ids = [user for page in self._pages(self.client.conversations_members,
                                                    channel=audience.target)
                       for user in page.get("members", [])]
                return self._people(ids)
            return list(self._humans())
        except SlackClientError as exc:
            raise messenger_error(exc) from None

    def _pages(self, method: Any, **kwargs: Any) -> Iterator[Any]:
        cursor = None
        while True:
            response = method(limit=PAGE, cursor=cursor, **kwargs) if cursor else method(
                limit=PAGE, **kwargs)
            yield response
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def _humans(self) -> dict[str, None]:
        """Active people in the workspace, in Slack's order (a dict keeps it and is a set)."""
        humans: dict[str, None] = {}
        for page in self._pages(self.client.users_list):
            for user in page.get("members", []):
                if user.get("deleted") or user.get("is_bot") or user.get("id") == "USLACKBOT":
                    continue
                humans[user["id"]] = None
        return humans

    def _people(self, ids: list[str]) -> list[str]:
        humans = self._humans()
        return [user for user in dict.fromkeys(ids) if user in humans]

    # -- in-doubt deliveries -----------------------------------------------------------------

    def find_posted(self, to: Address, marker: str, since: datetime) -> MessageRef | None:
        try:
            channel = to.id
            if to.kind == "user":
                channel = self.client.conversations_open(users=to.id)["channel"]["id"]
            pages = self._pages(self.client.conversations_history, channel=channel,
                                oldest=f"{since.timestamp():.6f}")
            for number, page in enumerate(pages):
                for message in page.get("messages", []):
                    if marker in json.dumps(message, ensure_ascii=False):
                        return MessageRef("slack", channel, str(message["ts"]))
                if number + 1 >= HISTORY_PAGES:
                    log.warning("reminder %s: not in the last %d history pages", marker,
                                HISTORY_PAGES)
                    break
        except SlackClientError as exc:
            raise messenger_error(exc) from None
        return None
