"""Activities as the Bot Connector delivers them, read into one typed, checked value.

Only the fields the bot uses are read, and each must have the type the Bot Framework schema
gives it: a payload that does not is refused with a 400 before any flow sees it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from bot.messages import User
from bot.platforms.teams.cards import printable
from bot.platforms.teams.connector import Person, channel_base

HANDLED = frozenset({"message", "conversationUpdate", "invoke"})
MAX_ID = 1024
GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# [^<]: each try stops at the next tag, so "<at>" x n is linear, not quadratic.
MENTION = re.compile(r"<at\b[^<>]*>[^<]*</at>", re.IGNORECASE)
BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
TAG = re.compile(r"</?(?:p|div|span|b|i|u|strong|em|font)\b[^>]*>", re.IGNORECASE)


class Malformed(ValueError):
    """The payload is not an activity of a shape Teams sends; the reason is safe to log."""


@dataclass(frozen=True)
class Activity:
    type: str
    id: str | None
    service_url: str
    channel_id: str
    conversation: str
    conversation_type: str  # "personal", "channel" or "groupChat"
    tenant: str | None
    from_id: str
    aad_id: str | None
    from_name: str | None
    recipient_id: str | None
    text: str
    value: Any
    name: str | None  # of an invoke, e.g. "task/fetch"
    reply_to_id: str | None
    locale: str | None
    members_added: tuple[str, ...]
    # Came with a token that was checked; False only in development mode (Agents Playground).
    verified: bool = False
    # People the text @mentions, from its mention entities: (Teams id, AAD object id, name).
    mentions: tuple[tuple[str, str | None, str | None], ...] = ()

    @property
    def person(self) -> Person:
        """The sender as this activity names them: their Teams id, service URL and tenant."""
        return Person(self.from_id, self.service_url, self.tenant)

    @property
    def personal(self) -> bool:
        return self.conversation_type == "personal"

    @property
    def user_key(self) -> str:
        """The AAD object id: the same person in every chat, team and tenant app."""
        return self.aad_id or self.from_id

    @property
    def user(self) -> User:
        return User("teams", self.user_key, self.from_name)

    @property
    def where(self) -> str:
        """The key of the chat for flows and MessageRefs: the user (1:1) or the channel id."""
        return self.user_key if self.personal else channel_base(self.conversation)

    @property
    def thread(self) -> str | None:
        """In a channel, the root message of the reply chain; elsewhere there are no threads."""
        if self.conversation_type != "channel":
            return None
        _, _, root = self.conversation.partition(";messageid=")
        return root or self.reply_to_id or self.id

    @property
    def lang(self) -> str | None:
        locale = (self.locale or "").lower()
        return "ja" if locale.startswith("ja") else "en" if locale.startswith("en") else None

    @property
    def bot_added(self) -> bool:
        return self.recipient_id is not None and self.recipient_id in self.members_added

    @property
    def from_bot(self) -> bool:
        return self.from_id.startswith("28:")


def clean_text(text: str) -> str:
    """Mentions (`<at>Bot</at>`) and the little HTML Teams may add removed, entities decoded."""
    text = MENTION.sub(" ", text)
    text = BREAK.sub("\n", text)
    text = TAG.sub("", text)
    return printable(html.unescape(text)).replace("\xa0", " ").strip()


def _opt(payload: dict[str, Any], name: str, kind: type = str) -> Any:
    value = payload.get(name)
    if value is not None and not isinstance(value, kind):
        raise Malformed(f"{name} has the wrong type")
    if isinstance(value, str) and len(value) > MAX_ID and name != "text":
        raise Malformed(f"{name} is too long")
    return value


def _obj(payload: dict[str, Any], name: str) -> dict[str, Any]:
    return _opt(payload, name, dict) or {}


def _need(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise Malformed(f"{name} is missing")
    return value


def parse_activity(payload: dict[str, Any]) -> Activity:
    kind = _need(_opt(payload, "type"), "type")
    conversation = _obj(payload, "conversation")
    sender = _obj(payload, "from")
    recipient = _obj(payload, "recipient")
    channel_data = _obj(payload, "channelData")
    tenant_data = _obj(channel_data, "tenant")
    members = _opt(payload, "membersAdded", list) or []
    if not all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in members):
        raise Malformed("membersAdded has the wrong type")
    handled = kind in HANDLED
    conversation_id = _opt(conversation, "id")
    from_id = _opt(sender, "id")
    activity_id = _opt(payload, "id")
    if handled:
        _need(conversation_id, "conversation.id")
        _need(from_id, "from.id")
        _need(activity_id, "id")
    aad_id = _opt(sender, "aadObjectId")
    conversation_type = _opt(conversation, "conversationType") or (
        "groupChat" if conversation.get("isGroup") is True else "personal")
    return Activity(
        type=kind,
        id=activity_id,
        service_url=_need(_opt(payload, "serviceUrl"), "serviceUrl"),
        channel_id=_need(_opt(payload, "channelId"), "channelId"),
        conversation=conversation_id or "",
        conversation_type=conversation_type,
        tenant=_opt(conversation, "tenantId") or _opt(tenant_data, "id"),
        from_id=from_id or "",
        aad_id=aad_id if isinstance(aad_id, str) and GUID.fullmatch(aad_id) else None,
        from_name=printable(_opt(sender, "name") or "")[:128] or None,
        recipient_id=_opt(recipient, "id"),
        text=_opt(payload, "text") or "",
        value=payload.get("value"),
        name=_opt(payload, "name"),
        reply_to_id=_opt(payload, "replyToId"),
        locale=_opt(payload, "locale"),
        members_added=tuple(m["id"] for m in members),
        mentions=_mentions(payload, _opt(recipient, "id")),
    )


def _mentions(payload: dict[str, Any], bot: str | None
              ) -> tuple[tuple[str, str | None, str | None], ...]:
    """The people a message mentions, the bot left out; malformed entities are ignored (they
    only ever add names, never take a message away)."""
    entities = payload.get("entities")
    found: list[tuple[str, str | None, str | None]] = []
    for entity in entities if isinstance(entities, list) else []:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned")
        if not isinstance(mentioned, dict):
            continue
        teams_id, aad, name = (mentioned.get(key) for key in ("id", "aadObjectId", "name"))
        if not isinstance(teams_id, str) or not teams_id or len(teams_id) > MAX_ID \
                or teams_id == bot or teams_id.startswith("28:"):
            continue
        aad = aad if isinstance(aad, str) and GUID.fullmatch(aad) else None
        name = printable(name)[:128] if isinstance(name, str) and name else None
        if all(teams_id != seen for seen, _, _ in found):
            found.append((teams_id, aad, name))
    return tuple(found)
