"""The Bot Connector v3 REST API, where people and channels are, and the neutral Messenger.

Calls are retried on 429, 412, 502 and 504 (the statuses the Bot Connector documents as
transient) with exponential backoff and jitter, never sooner than a Retry-After; a 401 fetches
a fresh token once. Our token is only ever sent to a service URL that arrived in a verified
inbound token, or to the configured one: a forged `serviceUrl` cannot collect it.

Failures become `MessengerError`s whose text names the status only: URLs carry conversation
ids, so neither they nor response bodies are ever put in a message or a log line.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import requests

from bot.messages import Address, MessageRef, MessengerError, Reply
from bot.metrics import PLATFORM_API_ERRORS, PLATFORM_RATE_LIMITED
from bot.platforms.teams.auth import TokenError
from bot.platforms.teams.cards import encode, message_activity

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 412, 502, 504})
CALL_TIMEOUT_S = 15
MAX_WAIT_S = 30.0  # a longer Retry-After is handed to the caller (e.g. the reminder pacer)


class Credentials(Protocol):
    def token(self) -> str: ...

    def invalidate(self) -> None: ...


def _path(*parts: str) -> str:
    return "".join("/" + quote(part, safe="") for part in parts)


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


class Connector:
    """One Bot Connector client for every service URL the bot talks to."""

    def __init__(self, credentials: Credentials | None, session: requests.Session,
                 trusted: Callable[[str], bool], *, max_attempts: int = 4,
                 backoff_s: float = 0.5, max_wait_s: float = MAX_WAIT_S,
                 sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random) -> None:
        self.credentials = credentials
        self.session = session
        self.trusted = trusted
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self.jitter = jitter

    # -- the REST calls ----------------------------------------------------------------------

    def send(self, service_url: str, conversation: str, activity: dict[str, Any]) -> str:
        """A new message in the conversation (a new post when it is a bare channel id)."""
        body = self._call("POST", service_url, _path("v3", "conversations", conversation,
                                                     "activities"), activity)
        return _activity_id(body)

    def reply(self, service_url: str, conversation: str, reply_to: str,
              activity: dict[str, Any]) -> str:
        """A reply to `reply_to`: in a channel, in that message's reply chain."""
        activity = {**activity, "replyToId": reply_to}
        body = self._call("POST", service_url, _path("v3", "conversations", conversation,
                                                     "activities", reply_to), activity)
        return _activity_id(body)

    def update(self, service_url: str, conversation: str, activity_id: str,
               activity: dict[str, Any]) -> None:
        self._call("PUT", service_url, _path("v3", "conversations", conversation, "activities",
                                             activity_id), {**activity, "id": activity_id})

    def delete(self, service_url: str, conversation: str, activity_id: str) -> None:
        self._call("DELETE", service_url, _path("v3", "conversations", conversation,
                                                "activities", activity_id))

    def create_personal(self, service_url: str, bot_id: str, member: str,
                        tenant: str | None) -> str:
        """The 1:1 chat between the bot and `member` (Teams returns the existing one)."""
        params: dict[str, Any] = {"bot": {"id": bot_id}, "members": [{"id": member}],
                                  "isGroup": False}
        if tenant:
            params["tenantId"] = tenant
            params["channelData"] = {"tenant": {"id": tenant}}
        body = self._call("POST", service_url, "/v3/conversations", params)
        conversation = body.get("id")
        if not isinstance(conversation, str) or not conversation:
            raise MessengerError("Teams Bot Connector: no conversation id in the answer")
        return conversation

    def members(self, service_url: str, conversation: str, *, page_size: int = 500
                ) -> list[dict[str, Any]]:
        """Everyone in a team, channel or chat, page by page."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            query = f"?pageSize={page_size}"
            if token:
                query += "&continuationToken=" + quote(token, safe="")
            body = self._call("GET", service_url,
                              _path("v3", "conversations", conversation, "pagedmembers") + query)
            page = body.get("members")
            found += [m for m in page if isinstance(m, dict)] if isinstance(page, list) else []
            token = body.get("continuationToken")
            if not isinstance(token, str) or not token:
                return found

    # -- one call, with its retries ----------------------------------------------------------

    def _call(self, method: str, service_url: str, path: str,
              body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = service_url.rstrip("/") + path
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            headers = ({"Content-Type": "application/json; charset=utf-8"}
                       if body is not None else {})
            if self.credentials is not None and self.trusted(service_url):
                try:
                    headers["Authorization"] = "Bearer " + self.credentials.token()
                except TokenError as exc:
                    raise MessengerError(f"Teams token: {exc}") from None
            try:
                response = self.session.request(
                    method, url, data=None if body is None else encode(body), headers=headers,
                    timeout=CALL_TIMEOUT_S)
            except requests.RequestException as exc:
                # Maybe sent, maybe not: the caller decides (a reminder is then in doubt).
                PLATFORM_API_ERRORS.labels("teams", type(exc).__name__).inc()
                raise MessengerError(f"Teams Bot Connector unreachable ({type(exc).__name__})"
                                     ) from None
            status = response.status_code
            if (status == 401 and "Authorization" in headers and not refreshed
                    and self.credentials is not None):
                self.credentials.invalidate()
                refreshed = True
                attempt -= 1
                continue
            if status == 429:
                PLATFORM_RATE_LIMITED.labels("teams").inc()
            if status in RETRY_STATUSES:
                retry_after = _retry_after(response)
                wait = self.backoff_s * 2 ** (attempt - 1)
                wait = max(wait, retry_after or 0.0) + wait * 0.5 * self.jitter()
                if attempt < self.max_attempts and wait <= self.max_wait_s:
                    log.info("teams %s answered %s: retrying in %.1f s", method, status, wait)
                    self.sleep(wait)
                    continue
                slow_down = retry_after if retry_after is not None else (
                    wait if status == 429 else None)
                PLATFORM_API_ERRORS.labels("teams", str(status)).inc()
                raise MessengerError(f"Teams Bot Connector: {status}", retry_after=slow_down)
            if status >= 400:
                PLATFORM_API_ERRORS.labels("teams", str(status)).inc()
                raise MessengerError(f"Teams Bot Connector: {status}")
            if not response.content:
                return {}
            try:
                answer = response.json()
            except ValueError:
                return {}
            return answer if isinstance(answer, dict) else {}


def _activity_id(body: dict[str, Any]) -> str:
    activity_id = body.get("id")
    if not isinstance(activity_id, str) or not activity_id:
        raise MessengerError("Teams Bot Connector: no activity id in the answer")
    return activity_id


# -- where people and channels are ---------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """What sending to someone needs: their Teams id (29:…), service URL and tenant."""

    teams_id: str
    service_url: str
    tenant: str | None


def channel_base(conversation: str) -> str:
    """`19:…@thread.tacv2;messageid=123` (a reply chain) → the channel `19:…@thread.tacv2`."""
    return conversation.split(";", 1)[0]


def is_channel_key(key: str) -> bool:
    """Channels and group chats are `19:…`; every other key is a user (an AAD object id)."""
    return key.startswith("19:")


class ConversationBook:
    """What verified activities taught us: people's Teams ids, 1:1 chats and service URLs.

    Kept in memory and bounded: after a restart a user is reached through the configured
    service URL, the tenant and their AAD object id, which Teams accepts for a 1:1 chat with
    anyone who has the app installed, so nothing here needs to survive.
    """

    def __init__(self, default_service_url: str, tenant: str | None,
                 limit: int = 100_000) -> None:
        self.default_service_url = default_service_url
        self.tenant = tenant if tenant and tenant != "botframework.com" else None
        self.limit = limit
        self._people: OrderedDict[str, Person] = OrderedDict()
        self._personal: OrderedDict[str, str] = OrderedDict()
        self._channels: OrderedDict[str, str] = OrderedDict()
        self._trusted: set[str] = {default_service_url}
        self._lock = threading.Lock()

    def _put(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.limit:
            table.popitem(last=False)

    def learn(self, user_key: str, person: Person, *, personal: str | None = None,
              channel: str | None = None) -> None:
        with self._lock:
            self._trusted.add(person.service_url)
            self._put(self._people, user_key, person)
            if personal:
                self._put(self._personal, user_key, personal)
            if channel:
                self._put(self._channels, channel, person.service_url)

    def trusted(self, service_url: str) -> bool:
        with self._lock:
            return service_url in self._trusted

    def person(self, user_key: str) -> Person:
        with self._lock:
            known = self._people.get(user_key)
        return known or Person(user_key, self.default_service_url, self.tenant)

    def key_of(self, teams_id: str) -> str | None:
        """The user key (AAD object id) of someone seen by their Teams id (29:…)."""
        with self._lock:
            for key, person in reversed(self._people.items()):
                if person.teams_id == teams_id:
                    return key
        return None

    def personal(self, user_key: str) -> str | None:
        with self._lock:
            return self._personal.get(user_key)

    def remember_personal(self, user_key: str, conversation: str) -> None:
        with self._lock:
            self._put(self._personal, user_key, conversation)

    def channel_service_url(self, channel: str) -> str:
        with self._lock:
            return self._channels.get(channel_base(channel), self.default_service_url)


# -- the neutral Messenger ------------------------------------------------------------------------


class TeamsMessenger:
    """Proactive messages: desk triage cards in channels, DMs, reminders.

    Addresses and MessageRefs use short keys that fit the flows' columns: a channel is its
    `19:…` id (a thread is its root message id), a user is their AAD object id, whose 1:1
    chat id (a long `a:…` string) is looked up or created when needed.
    """

    platform = "teams"
    threads = False  # a 1:1 chat has no threads

    def __init__(self, connector: Connector, book: ConversationBook, bot_id: str) -> None:
        self.connector = connector
        self.book = book
        self.bot_id = bot_id  # "28:<app id>"

    def personal_chat(self, user_key: str, *, via: Person | None = None,
                      remember: bool = True) -> tuple[str, str]:
        """(service URL, conversation id) of the bot's 1:1 chat with the user.

        `via`: the person as the activity being answered names them, so the chat is opened at
        that activity's service URL. `remember=False` (an activity without a token) neither
        reads nor stores the book's chats: what such an activity claims is never kept.
        """
        person = via or self.book.person(user_key)
        conversation = self.book.personal(user_key) if remember else None
        if conversation is None:
            conversation = self.connector.create_personal(
                person.service_url, self.bot_id, person.teams_id, person.tenant)
            if remember:
                self.book.remember_personal(user_key, conversation)
        return person.service_url, conversation

    def post(self, to: Address, reply: Reply) -> MessageRef:
        activity = message_activity(reply)
        if to.kind == "user":
            service_url, conversation = self.personal_chat(to.id)
            return MessageRef("teams", to.id, self.connector.send(service_url, conversation,
                                                                  activity))
        channel = channel_base(to.id)
        service_url = self.book.channel_service_url(channel)
        if to.thread:
            thread = f"{channel};messageid={to.thread}"
            activity_id = self.connector.reply(service_url, thread, to.thread, activity)
        else:
            activity_id = self.connector.send(service_url, channel, activity)
        return MessageRef("teams", channel, activity_id)

    def _where(self, ref: MessageRef) -> tuple[str, str]:
        if is_channel_key(ref.channel):
            return self.book.channel_service_url(ref.channel), channel_base(ref.channel)
        return self.personal_chat(ref.channel)

    def update(self, ref: MessageRef, reply: Reply) -> None:
        service_url, conversation = self._where(ref)
        self.connector.update(service_url, conversation, ref.id, message_activity(reply))

    def delete(self, ref: MessageRef) -> None:
        service_url, conversation = self._where(ref)
        self.connector.delete(service_url, conversation, ref.id)
