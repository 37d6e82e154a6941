"""Button presses on the bot's messages and home screen, routed to the flow that made them."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.messages import ActionEvent, MessageRef
from bot.platforms.slack.blocks import flow_action, message_args
from bot.platforms.slack.context import SlackContext, guarded, payload_user


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
        channel_info = body.get("channel") if isinstance(body.get("channel"), dict) else {}
        channel = channel_info.get("id") if isinstance(channel_info.get("id"), str) else None
        message = body.get("message") if isinstance(body.get("message"), dict) else None
        ref = thread = None
        if channel and message and isinstance(message.get("ts"), str):
            ref = MessageRef("slack", channel, message["ts"])
            thread = message.get("thread_ts") if isinstance(message.get("thread_ts"), str) else None
        event = ActionEvent(user, flow_action(str(action.get("action_id"))), value, channel, ref)
        reply = ctx.dispatcher.action(event)
        if reply is None:
            return
        trigger = body.get("trigger_id")
        if reply.form is not None and isinstance(trigger, str):
            ctx.open_form(trigger, reply)
        elif reply.ephemeral and body.get("response_url"):
            respond(response_type="ephemeral", replace_original=False, **message_args(reply))
        elif channel and ref:
            ctx.post(channel, reply, user=user.id, thread=thread or ref.id)
        else:  # the home tab or a modal: the reply goes to the user's DM with the bot
            ctx.post(user.id, reply)
