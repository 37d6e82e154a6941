"""What every Slack listener shares, and the few ways a neutral reply reaches a Slack user."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.dispatch import Dispatcher
from bot.events import EventLedger
from bot.i18n import t
from bot.messages import Reply, User
from bot.platforms.slack.blocks import message_args, modal_view
from bot.platforms.slack.messenger import api_error

log = logging.getLogger("bot.platforms.slack")


MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^<>]*)?>")  # [^<>]: linear on "<@U1|" x n


def strip_mentions(text: str) -> str:
    return MENTION.sub(" ", text).strip()


def slack_user(user_id: object, name: object = None) -> User | None:
    """Only a well-formed Slack id becomes a user; anything else is treated as malformed.

    The name (where Slack sends one) lets the desk see who escalated; the report flow drops
    it with the id at its boundary when the reporter stays anonymous.
    """
    if isinstance(user_id, str) and re.fullmatch(r"[UW][A-Z0-9]{2,30}", user_id):
        return User("slack", user_id, name[:80] if isinstance(name, str) and name else None)
    return None


def payload_user(body: dict[str, Any]) -> User | None:
    """The user of an interaction payload (block_actions, view_submission, shortcuts)."""
    user = body.get("user")
    if not isinstance(user, dict):
        return None
    return slack_user(user.get("id"), user.get("name") or user.get("username"))


@dataclass
class SlackContext:
    dispatcher: Dispatcher
    client: WebClient
    ledger: EventLedger

    @property
    def default_lang(self) -> str:
        return self.dispatcher.default_lang

    def post(self, channel: str, reply: Reply, *, user: str | None = None,
             thread: str | None = None) -> None:
        """Ephemeral replies in a channel are shown to `user` alone; in a DM everything is."""
        kwargs: dict[str, Any] = {"thread_ts": thread} if thread else {}
        if reply.ephemeral and user and not channel.startswith("D"):
            self.client.chat_postEphemeral(channel=channel, user=user, **message_args(reply),
                                           **kwargs)
        else:
            self.client.chat_postMessage(channel=channel, **message_args(reply), **kwargs)

    def open_form(self, trigger_id: str, reply: Reply) -> None:
        assert reply.form is not None
        self.client.views_open(trigger_id=trigger_id, view=modal_view(reply.form))

    def apologise(self, channel: str | None, user: str | None, lang: str | None) -> None:
        if not channel:
            return
        reply = Reply(t("slack.apology", lang or self.default_lang), lang or self.default_lang,
                      ephemeral=True)
        try:
            self.post(channel, reply, user=user)
        except SlackClientError as exc:
            log.error("apology not delivered either: %s", api_error(exc))
        except OSError as exc:  # Slack unreachable: the first failure is already logged
            log.error("apology not delivered either: %s", type(exc).__name__)


def where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and user a payload came from, for an apology; (None, None) if unknown."""
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    channel = event.get("channel") or body.get("channel_id")
    if isinstance(body.get("channel"), dict):
        channel = body["channel"].get("id")
    user = event.get("user") or body.get("user_id")
    if isinstance(body.get("user"), dict):
        user = body["user"].get("id")
    channel = channel if isinstance(channel, str) else None
    user = user if isinstance(user, str) else None
    return channel, user


def guarded(ctx: SlackContext, name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A failure inside a listener is logged as one line and the user gets a short apology.

    Bolt's own handler would log the whole exception; a line with Slack's error code (never
    the request) is what an operator needs, and the listener thread lives on.
    """

    def decorate(listener: Callable[..., None]) -> Callable[..., None]:
        @wraps(listener)
        def run(*args: Any, **kwargs: Any) -> None:
            try:
                listener(*args, **kwargs)
                return
            except SlackClientError as exc:
                log.error("%s: Slack Web API call failed: %s", name, api_error(exc))
            except Exception as exc:  # a bug must not pass silently, nor leak the payload
                log.error("%s: failed: %s", name, type(exc).__name__)
                # Frames only: an exception's message may quote the payload, its code may not.
                log.debug("%s: at\n%s", name, "".join(traceback.format_tb(exc.__traceback__)))
            body = kwargs.get("body")
            if isinstance(body, dict) and body.get("type") != "view_submission":
                channel, user = where(body)
                ctx.apologise(channel or user, user, None)

        return run

    return decorate
