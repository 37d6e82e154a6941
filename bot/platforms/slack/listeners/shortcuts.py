"""The message shortcut "Ask compliance" (its name in deploy/slack/manifest.yaml)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.messages import IncomingMessage
from bot.platforms.slack.blocks import message_args
from bot.platforms.slack.context import SlackContext, guarded, payload_user
from bot.untrusted import dict_field, text_field

ASK_ABOUT_MESSAGE = "ask_about_message"


def register(app: App, ctx: SlackContext) -> None:
    @app.message_shortcut(ASK_ABOUT_MESSAGE)
    @guarded(ctx, "shortcut")
    def on_ask_about(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user = payload_user(body)
        text = text_field(dict_field(body, "message"), "text", "") or ""
        if user is None:
            return
        reply = ctx.dispatcher.question(IncomingMessage(user, text))
        respond(response_type="ephemeral", replace_original=False, **message_args(reply))
