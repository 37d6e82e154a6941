"""Bolt listeners grouped by the surface they serve, each module with its own `register`."""

from __future__ import annotations

import re

from slack_bolt import Ack, App

from bot.platforms.slack.context import SlackContext
from bot.platforms.slack.listeners import actions, commands, events, home, shortcuts, views


def register(app: App, ctx: SlackContext) -> None:
    for surface in (events, commands, actions, views, shortcuts, home):
        surface.register(app, ctx)
    _register_fallbacks(app)


def _register_fallbacks(app: App) -> None:
    """Registered last (Bolt runs the first listener that matches): what no flow wants is
    acked and dropped with a 200, so Slack neither retries it nor shows the user an error."""

    @app.event(re.compile(".*"))
    def ignore_other_events() -> None:
        pass

    @app.action(re.compile(".*"))
    def ignore_unknown_action(ack: Ack) -> None:
        ack()

    @app.view(re.compile(".*"))
    def ignore_unknown_view(ack: Ack) -> None:
        ack()

    @app.shortcut(re.compile(".*"))
    def ignore_unknown_shortcut(ack: Ack) -> None:
        ack()
