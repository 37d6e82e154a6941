"""Button presses on the bot's messages and home screen, routed to the flow that made them."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.messages import ActionEvent, MessageRef
from bot.platforms.slack.blocks import flow_action
from bot.platforms.slack.context import SlackContext, guarded, payload_user
from bot.untrusted import dict_field, text_field


def register(app: App, ctx: SlackContext) -> None:
    @app.action(re.compile(r"^[a-z_]+\.[a-z_.]+(\|\d+)?$"))
    @guarded(ctx, "action")
    def on_button(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                  respond: Respond) -> None:
        ack()
        user = payload_user(body)
        value = action.get("value")
        if user is None or not isinstance(value, str):
            return
        channel = text_field(dict_field(body, "channel"), "id")
        message = dict_field(body, "message")
        ts = text_field(message, "ts")
        ref = MessageRef("slack", channel, ts) if channel and ts else None
        thread = text_field(message, "thread_ts") if ref else None
        event = ActionEvent(user, flow_action(str(action.get("action_id"))), value, channel, ref)
        reply = ctx.dispatcher.action(event)
        if reply is None:
            return
        ctx.deliver(reply, user=user.id, channel=channel if ref else None,
                    thread=(thread or ref.id) if ref else None, trigger=body.get("trigger_id"),
                    respond=respond if body.get("response_url") else None)
