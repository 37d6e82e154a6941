"""The App Home tab: entry points and each flow's section (e.g. pending reminders)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.platforms.slack.blocks import MAX_BLOCKS, reply_blocks
from bot.platforms.slack.context import SlackContext, guarded, slack_user

HOME_BLOCK_LIMIT = 100  # a home view may hold 100 blocks


def home_view(ctx: SlackContext, user_id: str) -> dict[str, Any]:
    user = slack_user(user_id)
    assert user is not None
    blocks: list[dict[str, Any]] = []
    for index, reply in enumerate(ctx.dispatcher.home(user)):
        section = reply_blocks(reply)[:MAX_BLOCKS]
        if index:
            section.insert(0, {"type": "divider"})
        if len(blocks) + len(section) > HOME_BLOCK_LIMIT:
            break
        blocks += section
    return {"type": "home", "blocks": blocks}


def register(app: App, ctx: SlackContext) -> None:
    @app.event("app_home_opened")
    @guarded(ctx, "app_home_opened")
    def on_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or slack_user(event.get("user")) is None:
            return
        ctx.client.views_publish(user_id=event["user"], view=home_view(ctx, event["user"]))
