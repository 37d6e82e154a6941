"""Routing rules, table-driven, and the start-up check of the channels they name."""

from __future__ import annotations

import pytest

from bot.config import ConfigError
from bot.escalations.routing import check_settings, route
from bot.escalations.settings import EscalationSettings
from bot.messages import Address, MessageRef, Reply

SETTINGS = EscalationSettings.model_validate({
    "default_channel": "slack:CDESK",
    "lead_channel": "slack:CLEAD",
    "routes": [
        {"topics": ["nonpublic-info", "competitor-customer-data"], "channel": "slack:CNW"},
        {"categories": ["terminals-and-offices"], "urgency": ["high"], "channel": "slack:CFAC"},
        {"keywords": ["託送", "ID"], "channel": "slack:CIT"},
        {"urgency": ["high"], "channel": "slack:CURGENT"},
    ],
})

CASES = [
    # topics, category, question + context, urgency -> channel, rule
    (["nonpublic-info"], "information", "", "normal", "slack:CNW", "routes[0]"),
    # The first matching rule wins, though a later one (urgency) matches too.
    (["x", "competitor-customer-data"], "information", "", "high", "slack:CNW", "routes[0]"),
    (["terminal-handling"], "terminals-and-offices", "", "high", "slack:CFAC", "routes[1]"),
    # Every condition a rule names must hold: the category alone is not enough.
    (["terminal-handling"], "terminals-and-offices", "", "normal", "slack:CDESK", "default"),
    ([], None, "託送料金の明細はどこで見られますか", "low", "slack:CIT", "routes[2]"),
    # Keywords match after width and case folding, and ASCII ones only as whole words.
    ([], None, "前の部署のＩＤは使えますか", "normal", "slack:CIT", "routes[2]"),
    ([], None, "may I use my old id?", "normal", "slack:CIT", "routes[2]"),
    ([], None, "I have an idea for the training", "normal", "slack:CDESK", "default"),
    ([], None, "社員食堂のメニュー", "high", "slack:CURGENT", "routes[3]"),
    ([], None, "社員食堂のメニュー", "low", "slack:CDESK", "default"),
]


@pytest.mark.parametrize(("topics", "category", "text", "urgency", "channel", "rule"), CASES)
def test_routing_rules(topics, category, text, urgency, channel, rule):
    routed = route(SETTINGS, topics=topics, category=category, text=text, urgency=urgency)
    assert (routed.channel, routed.route) == (channel, rule)


class Platform:
    """A messenger of the platform side only; `known` are the channels the bot is in."""

    def __init__(self, known: set[str] | None = None) -> None:
        self.platform = "slack"
        self.known = known

    def post(self, to: Address, reply: Reply) -> MessageRef:
        raise AssertionError("the start-up check posts nothing")

    def update(self, ref: MessageRef, reply: Reply) -> None:
        raise AssertionError("the start-up check updates nothing")


class CheckingPlatform(Platform):
    def can_post(self, channel: str) -> bool:
        return self.known is not None and channel in self.known


TOPICS = ["nonpublic-info", "competitor-customer-data", "terminal-handling"]
CATEGORIES = ["information", "terminals-and-offices"]
ALL = {"CDESK", "CLEAD", "CNW", "CFAC", "CIT", "CURGENT"}


def _check(messengers) -> None:  # type: ignore[no-untyped-def]
    check_settings(SETTINGS, messengers, topics=TOPICS, categories=CATEGORIES)


def test_every_named_channel_is_checked_at_startup():
    _check({"slack": CheckingPlatform(ALL)})
    for missing, setting in [("CFAC", "desk.routes[1].channel"),
                             ("CDESK", "desk.default_channel"),
                             ("CLEAD", "desk.lead_channel")]:
        with pytest.raises(ConfigError) as raised:
            _check({"slack": CheckingPlatform(ALL - {missing})})
        assert str(raised.value).startswith(f"{setting}: the bot cannot post to slack:{missing}")


def test_a_messenger_without_can_post_is_only_checked_for_its_platform():
    _check({"slack": Platform()})
    with pytest.raises(ConfigError, match="does not run on 'slack'"):
        _check({"teams": Platform()})


def test_rules_must_name_known_topics_and_categories_even_without_a_platform():
    _check({})
    with pytest.raises(ConfigError, match=r"desk\.routes\[0\]\.topics: unknown topic 'nonpublic"):
        check_settings(SETTINGS, {}, topics=TOPICS[1:], categories=CATEGORIES)
    with pytest.raises(ConfigError, match=r"desk\.routes\[1\]\.categories: unknown category"):
        check_settings(SETTINGS, {}, topics=TOPICS, categories=["information"])
