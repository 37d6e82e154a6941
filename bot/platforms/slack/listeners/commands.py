"""The `/comply` slash command: questions and the command words the router knows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.messages import IncomingMessage
from bot.platforms.slack.context import SlackContext, guarded, read_mentions, slack_user
from bot.untrusted import text_field

COMMAND = "/comply"


def register(app: App, ctx: SlackContext) -> None:
    @app.command(COMMAND)
    @guarded(ctx, "command")
    def on_comply(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()  # within Slack's 3 seconds; the answer follows through response_url
        user = slack_user(body.get("user_id"), body.get("user_name"))
        if user is None:
            return
        channel = text_field(body, "channel_id")
        # The manifest asks Slack to escape mentions (should_escape), so @taro arrives as an id.
        text, mentions = read_mentions(text_field(body, "text", "") or "")
        reply = ctx.dispatcher.command(IncomingMessage(user, text, channel, mentions=mentions))
        # Questions about compliance are nobody else's business: answers stay ephemeral.
        ctx.deliver(replace(reply, ephemeral=True), user=user.id,
                    trigger=body.get("trigger_id"), respond=respond)
