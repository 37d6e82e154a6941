"""Slack's ports: the messenger flows post with, and the reminder engine's sender, directory
and look-up, over a client of its own that never retries (see `directory.reminder_ports`)."""

from __future__ import annotations

from bot.config import Settings, SlackEnv
from bot.platforms.slack.directory import reminder_ports
from bot.platforms.slack.messenger import SlackMessenger, web_client
from bot.ports import PlatformPorts


def ports(settings: Settings) -> PlatformPorts:
    assert settings.slack is not None
    return ports_for(settings.slack)


def ports_for(slack: SlackEnv) -> PlatformPorts:
    sender, directory = reminder_ports(slack)
    return PlatformPorts("slack", SlackMessenger(web_client(slack)), sender, directory,
                         directory)
