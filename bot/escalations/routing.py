"""Which triage channel an escalation goes to, and the start-up check of every channel.

Rules are tried in the order the YAML lists them and the first that matches wins, so a
curator can read the routing top to bottom; anything no rule claims goes to the default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.config import ConfigError
from bot.escalations.settings import EscalationSettings, split_channel
from bot.messages import Messenger
from bot.search.text import normalize

DEFAULT_ROUTE = "default"


@dataclass(frozen=True)
class Routed:
    channel: str  # "platform:channel_id"
    route: str  # "routes[2]" or "default"


def _keyword_in(keyword: str, text: str) -> bool:
    folded = normalize(keyword)
    if folded.isascii():
        # "ID" must not match "idea": ASCII keywords match whole words.
        return re.search(rf"(?<![a-z0-9]){re.escape(folded)}(?![a-z0-9])", text) is not None
    return folded in text


def route(
    settings: EscalationSettings,
    *,
    topics: Iterable[str],
    category: str | None,
    text: str,
    urgency: str,
) -> Routed:
    """The first rule whose every named condition holds; `text` is question plus context."""
    if settings.default_channel is None:
        raise ValueError("escalations are not configured (desk.default_channel)")
    topic_set = set(topics)
    folded = normalize(text)
    for number, rule in enumerate(settings.routes):
        if rule.topics and not topic_set.intersection(rule.topics):
            continue
        if rule.categories and category not in rule.categories:
            continue
        if rule.urgency and urgency not in rule.urgency:
            continue
        if rule.keywords and not any(_keyword_in(k, folded) for k in rule.keywords):
            continue
        return Routed(rule.channel, f"routes[{number}]")
    return Routed(settings.default_channel, DEFAULT_ROUTE)


def check_settings(
    settings: EscalationSettings,
    messengers: Mapping[str, Messenger],
    *,
    topics: Iterable[str],
    categories: Iterable[str],
) -> None:
    """Refuse to start with a rule that can never match or a channel the bot cannot post to.

    A typo in a topic or a channel would otherwise surface only when an employee's question
    is lost. Messengers may offer `can_post(channel_id) -> bool` (Slack asks
    conversations.info); without one, only the platform is checked. With no messenger at all
    (the console) there is nowhere to post, so only the rules are checked.
    """
    known_topics, known_categories = set(topics), set(categories)
    for number, rule in enumerate(settings.routes):
        for topic in rule.topics:
            if topic not in known_topics:
                raise ConfigError(f"desk.routes[{number}].topics: unknown topic {topic!r} "
                                  "(see knowledge/topics.yaml)")
        for category in rule.categories:
            if category not in known_categories:
                known = ", ".join(sorted(known_categories))
                raise ConfigError(f"desk.routes[{number}].categories: unknown category "
                                  f"{category!r} (known: {known})")
    if not messengers:
        return
    for setting, channel in settings.channels():
        platform, channel_id = split_channel(channel)
        messenger = messengers.get(platform)
        if messenger is None:
            raise ConfigError(f"{setting}: the bot does not run on {platform!r}, so it cannot "
                              f"post to {channel}")
        can_post = getattr(messenger, "can_post", None)
        if can_post is not None and not can_post(channel_id):
            raise ConfigError(f"{setting}: the bot cannot post to {channel} "
                              "(unknown channel, or the bot is not a member)")
