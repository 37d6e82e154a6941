"""What every Slack listener shares, and the few ways a neutral reply reaches a Slack user."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.core import Core
from bot.dispatch import Dispatcher
from bot.events import EventLedger
from bot.i18n import t
from bot.messages import Reply, User
from bot.platforms.shared import Route, WorkQueue, count_api_error, log_failure, route
from bot.platforms.slack.blocks import message_args, modal_view
from bot.platforms.slack.busy import Busy
from bot.platforms.slack.messenger import api_error
from bot.untrusted import dict_field, text_field

log = logging.getLogger("bot.platforms.slack")


MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^<>]*)?>")  # [^<>]: linear on "<@U1|" x n
_USER = re.compile(r"<@([UW][A-Z0-9]{2,30})(?:\|([^<>]*))?>")
# What Slack escapes in a slash command's text (should_escape): channels, groups, links.
_ESCAPED = re.compile(r"<([#!@]?)([^<>|]*)(?:\|([^<>]*))?>")


def read_mentions(text: str, *, bot: str | None = None) -> tuple[str, tuple[User, ...]]:
    """Text without its mentions, and the people it mentions (in order, once each, the bot
    left out): `/comply checklist transfer @taro` names Taro. Channels, user groups and links
    Slack escaped are shown as typed ("#general", "@here", the URL)."""
    people: list[User] = []
    for match in _USER.finditer(text):
        user = slack_user(match.group(1), match.group(2))
        if user is not None and user.id != bot and all(p.id != user.id for p in people):
            people.append(user)
    text = MENTION.sub(" ", text)

    def shown(match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        if sigil == "#":
            return f"#{label or target}"
        if sigil == "!":
            return label or "@" + target.partition("^")[0]
        return target
    text = _ESCAPED.sub(shown, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", text).strip(), tuple(people)


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
    core: Core
    client: WebClient
    ledger: EventLedger
    # Listeners run here; when it is full the door answers busy instead (bot.platforms.slack.busy).
    work: WorkQueue
    busy: Busy

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

    def deliver(self, reply: Reply, *, user: str, channel: str | None = None,
                thread: str | None = None, trigger: object = None,
                respond: Callable[..., Any] | None = None) -> None:
        """Where a reply goes (`shared.route`): its form opens with the trigger; a private
        reply goes through response_url where Slack gave one (it needs no channel
        membership), else ephemeral in the channel; the rest is posted where the user spoke,
        or to their DM when that was the home tab or a modal."""
        where = route(reply)
        if where is Route.FORM and isinstance(trigger, str):
            self.open_form(trigger, reply)
        elif where is not Route.HERE and respond is not None:
            respond(response_type="ephemeral", replace_original=False, **message_args(reply))
        elif channel:
            self.post(channel, reply, user=user, thread=thread)
        else:
            self.post(user, reply)

    def open_form(self, trigger_id: str, reply: Reply) -> None:
        assert reply.form is not None
        self.client.views_open(trigger_id=trigger_id, view=modal_view(reply.form))

    def apologise(self, channel: str | None, user: str | None, lang: str | None) -> None:
        if not channel:
            return
        reply = Reply(t("platform.apology", lang or self.default_lang), lang or self.default_lang,
                      ephemeral=True)
        try:
            self.post(channel, reply, user=user)
        except SlackClientError as exc:
            log.error("apology not delivered either: %s", api_error(exc))
        except OSError as exc:  # Slack unreachable: the first failure is already logged
            log.error("apology not delivered either: %s", type(exc).__name__)


def where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and user a payload came from, for an apology; (None, None) if unknown."""
    event = dict_field(body, "event")
    channel = (text_field(dict_field(body, "channel"), "id") or text_field(event, "channel")
               or text_field(body, "channel_id"))
    user = (text_field(dict_field(body, "user"), "id") or text_field(event, "user")
            or text_field(body, "user_id"))
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
                code = api_error(exc)
                count_api_error("slack", code)
                log_failure(log, f"{name}: Slack Web API call failed", exc, code=code)
            except Exception as exc:  # a bug must not pass silently, nor leak the payload
                log_failure(log, name, exc)
            body = kwargs.get("body")
            if isinstance(body, dict) and body.get("type") != "view_submission":
                channel, user = where(body)
                ctx.apologise(channel or user, user, None)

        return run

    return decorate
