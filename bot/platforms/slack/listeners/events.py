"""Messages to the bot: DMs (message.im) and @mentions, answered where they were asked."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltResponse

from bot.messages import IncomingMessage
from bot.platforms.slack.context import SlackContext, guarded, read_mentions, slack_user
from bot.untrusted import text_field


def register(app: App, ctx: SlackContext) -> None:
    @app.middleware
    def once_per_event(body: dict[str, Any], next: Any) -> BoltResponse | None:
        """Redeliveries (X-Slack-Retry-Num) and copies at other instances stop here, acked."""
        event_id = body.get("event_id")
        if (body.get("type") == "event_callback" and isinstance(event_id, str)
                and not ctx.ledger.claim(event_id)):
            return BoltResponse(status=200, body="")
        response: BoltResponse | None = next()
        return response

    @app.event("app_mention")
    @guarded(ctx, "app_mention")
    def on_mention(event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
        user = slack_user(event.get("user"))
        channel = event.get("channel")
        ts = event.get("ts")
        if user is None or not isinstance(channel, str) or not isinstance(ts, str):
            return
        thread = text_field(event, "thread_ts", ts)
        text, mentions = read_mentions(text_field(event, "text", "") or "",
                                       bot=_bot_user(body, context))
        reply = ctx.dispatcher.message(IncomingMessage(user, text, channel, thread, mentions))
        if reply.form is not None:  # a typed command: a message event has no trigger
            reply = ctx.dispatcher.launcher(reply, text)
        ctx.deliver(reply, user=user.id, channel=channel, thread=thread)

    @app.event({"type": "message", "channel_type": "im"})
    @guarded(ctx, "message.im")
    def on_direct_message(event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
        # Edits, deletions, joins and our own posts arrive here too: only people's new messages.
        if event.get("subtype") or event.get("bot_id"):
            return
        user = slack_user(event.get("user"))
        channel = event.get("channel")
        if user is None or not isinstance(channel, str):
            return
        thread = text_field(event, "thread_ts")
        text, mentions = read_mentions(text_field(event, "text", "") or "",
                                       bot=_bot_user(body, context))
        reply = ctx.dispatcher.message(IncomingMessage(user, text, channel, thread, mentions))
        if reply.form is not None:  # a typed command: a message event has no trigger
            reply = ctx.dispatcher.launcher(reply, text)
        ctx.deliver(reply, user=user.id, channel=channel, thread=thread)


def _bot_user(body: dict[str, Any], context: Any) -> str | None:
    """The bot's own user id (Bolt's context, else the event's authorizations): its mention is
    not a person the message names."""
    known = context.get("bot_user_id") if hasattr(context, "get") else None
    if isinstance(known, str) and known:
        return known
    authorizations = body.get("authorizations")
    if isinstance(authorizations, list):
        for entry in authorizations:
            if isinstance(entry, dict) and entry.get("is_bot") and isinstance(
                    entry.get("user_id"), str):
                return str(entry["user_id"])
    return None
