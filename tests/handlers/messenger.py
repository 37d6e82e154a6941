"""A test double of the platform side only: a Messenger that records what flows post.

Everything behind the dispatcher (flows, storage, audit) is the real code; this stands in for a
chat platform's Web API, with a fixed list of channels the bot is in, so tests can read what
a channel, a thread or a user's DM shows, and make the platform fail on purpose.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core import Core
from bot.messages import (
    ActionEvent,
    Address,
    Button,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    MessageRef,
    MessengerError,
    Reply,
    User,
)
from bot.wiring import Bot, assemble
from handlers.escalations.desk import DeskFlow

PLATFORM = "test"
DESK_CHANNEL, NETWORK_CHANNEL, URGENT_CHANNEL, LEAD_CHANNEL = (
    "C-DESK", "C-NW", "C-URGENT", "C-LEAD")
SATO = User(PLATFORM, "DESK1", "sato.h")  # desk members, named in the config below
SUZUKI = User(PLATFORM, "DESK2", "suzuki.k")
EMPLOYEE = User(PLATFORM, "U0SECRET", "Taro Yamada")
OUTSIDER = User(PLATFORM, "U0OTHER", "Jiro Other")

DESK_CONFIG = f"""
company:
  desk: {{ja: '#compliance-desk（行為規制相談窓口）', en: '#compliance-desk'}}
desk:
  members: ["{PLATFORM}:DESK1", "{PLATFORM}:DESK2"]
  names: {{"{PLATFORM}:DESK1": 佐藤, "{PLATFORM}:DESK2": 鈴木}}
  default_channel: {PLATFORM}:{DESK_CHANNEL}
  lead_channel: {PLATFORM}:{LEAD_CHANNEL}
  routes:
    - topics: [nonpublic-info, competitor-customer-data]
      channel: {PLATFORM}:{NETWORK_CHANNEL}
    - keywords: [託送]
      channel: {PLATFORM}:{NETWORK_CHANNEL}
    - urgency: [high]
      channel: {PLATFORM}:{URGENT_CHANNEL}
  sla:
    opens: "09:00"
    closes: "17:00"
    holidays: [2026-11-23]
    warn_before: 1h
    high: {{first_response: 2h, resolution: 1d}}
    normal: {{first_response: 1d, resolution: 3d}}
    low: {{first_response: 2d, resolution: 5d}}
"""


@dataclass
class Posted:
    to: Address
    reply: Reply
    ref: MessageRef


class RecordingMessenger:
    """Records post and update calls; posting to a channel the bot is not in fails."""
    threads = True


    def __init__(self, platform: str = PLATFORM,
                 channels: Iterable[str] = (DESK_CHANNEL, NETWORK_CHANNEL, URGENT_CHANNEL,
                                            LEAD_CHANNEL)) -> None:
        self.platform = platform
        self.channels = set(channels)
        self.posts: list[Posted] = []
        self.updates: list[tuple[MessageRef, Reply]] = []
        self.failing = False
        self._ts = itertools.count(1)

    def post(self, to: Address, reply: Reply) -> MessageRef:
        if self.failing:
            raise MessengerError("platform down")
        if to.kind == "channel" and to.id not in self.channels and not to.id.startswith("D-"):
            raise MessengerError("channel_not_found")
        channel = to.id if to.kind == "channel" else f"D-{to.id}"
        ref = MessageRef(self.platform, channel, f"{next(self._ts)}.0001")
        self.posts.append(Posted(to, reply, ref))
        return ref

    def update(self, ref: MessageRef, reply: Reply) -> None:
        if self.failing:
            raise MessengerError("platform down")
        self.updates.append((ref, reply))

    def can_post(self, channel: str) -> bool:
        return channel in self.channels

    # -- reading what the platform shows -----------------------------------------------------

    def shown(self, ref: MessageRef) -> Reply:
        """A message as it reads now: its last update, or as posted."""
        for updated, reply in reversed(self.updates):
            if updated == ref:
                return reply
        return next(p.reply for p in self.posts if p.ref == ref)

    def top_level(self, channel: str) -> list[Posted]:
        return [p for p in self.posts
                if p.to.kind == "channel" and p.to.id == channel and p.to.thread is None]

    def thread(self, ref: MessageRef) -> list[Reply]:
        return [p.reply for p in self.posts if p.to.thread == ref.id and p.ref.channel ==
                ref.channel]

    def dms(self, user: User) -> list[Posted]:
        return [p for p in self.posts if p.to.kind == "user" and p.to.id == user.id]


class Clock:
    """An injected clock the test moves forward; nothing is patched."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def jst(*args: int) -> datetime:
    """A wall-clock time in Tokyo (UTC+9, no DST) as UTC."""
    return datetime(*args, tzinfo=UTC) - timedelta(hours=9)


class DeskHarness:
    """Drives the dispatcher as an adapter does: messages, commands, button presses, forms."""

    def __init__(self, core: Core, messenger: RecordingMessenger, clock: Clock) -> None:
        core.messengers[messenger.platform] = messenger
        self.bot: Bot = assemble(core, options={"escalations": {"clock": clock}})
        self.messenger = messenger
        self.clock = clock
        self.desk: DeskFlow = self.bot.feature("escalations")

    def say(self, text: str, user: User = EMPLOYEE, *, channel: str | None = None,
            thread: str | None = None) -> Reply:
        return self.bot.dispatcher.message(IncomingMessage(user, text, channel, thread))

    def command(self, text: str, user: User = EMPLOYEE) -> Reply:
        return self.bot.dispatcher.command(IncomingMessage(user, text))

    def press(self, button: Button, user: User, message: MessageRef | None = None,
              ) -> Reply | None:
        return self.bot.dispatcher.action(ActionEvent(user, button.action, button.value,
                                              message=message))

    def submit(self, reply: Reply, user: User, **values: str) -> FormOutcome:
        """Fill in the form a reply opened: initial values, overridden by `values`."""
        assert reply.form is not None, reply.text
        form = reply.form
        filled = {f.name: f.initial or "" for f in form.fields}
        filled.update(values)
        return self.bot.dispatcher.submit(FormSubmission(user, form.id, filled, form.state))


def button(reply: Reply, action: str) -> Button:
    return next(b for b in reply.buttons if b.action == action)
