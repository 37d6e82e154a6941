"""The `/comply` slash command: questions and the command words the router knows."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.messages import IncomingMessage
from bot.platforms.slack.blocks import message_args
from bot.platforms.slack.context import SlackContext, guarded, slack_user

COMMAND = "/comply"


def register(app: App, ctx: SlackContext) -> None:
    @app.command(COMMAND)
    @guarded(ctx, "command")
    def on_comply(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()  # within Slack's 3 seconds; the answer follows through response_url
        user = slack_user(body.get("user_id"), body.get("user_name"))
        if user is None:
            return
        channel = body.get("channel_id") if isinstance(body.get("channel_id"), str) else None
        text = body.get("text") if isinstance(body.get("text"), str) else ""
        reply = ctx.dispatcher.command(IncomingMessage(user, text, channel))
        trigger = body.get("trigger_id")
        if reply.form is not None and isinstance(trigger, str):
            ctx.open_form(trigger, reply)
            return
        # Questions about compliance are nobody else's business: answers stay ephemeral.
        respond(response_type="ephemeral", **message_args(reply))
