"""Test doubles at the neutral level: a clock, a recording messenger, a directory.

The reminder engine is exercised for real (database, lease, planner, sender, audit); only the
platform and the passing of time are stand-ins.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import Settings
from bot.core import Core, build_core
from bot.messages import Address, MessageRef, MessengerError, Reply
from bot.reminders.definitions import Audience, Reminder, load_reminders
from bot.reminders.scheduler import ReminderScheduler

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "knowledge" / "reminders" / "reminders.yaml"


class FakeClock:
    """A wall clock the test moves by hand; thread-safe enough for two schedulers."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self.now = moment

    def advance(self, **delta: float) -> None:
        with self._lock:
            self.now += timedelta(**delta)


class FakeTime:
    """monotonic() and sleep() for the pacer: sleeping only moves the number on."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.t += seconds


class Died(BaseException):
    """Stands for the process being killed: nothing in the sender may catch it."""


class RecordingMessenger:
    """Records every message that reached the platform, and can fail on chosen calls.

    `failures[n]` is raised on the nth call (1-based) without posting; `posted_then[n]` posts and
    then raises, as a platform that times out after accepting the message does.
    """

    platform = "slack"
    threads = True

    def __init__(self, failures: dict[int, BaseException] | None = None,
                 posted_then: dict[int, BaseException] | None = None) -> None:
        self.failures = dict(failures or {})
        self.posted_then = dict(posted_then or {})
        self.posts: list[tuple[Address, Reply, MessageRef]] = []
        self.calls = 0
        self.lookups = 0
        self.dead = False
        self._lock = threading.Lock()

    def post(self, to: Address, reply: Reply) -> MessageRef:
        with self._lock:
            if self.dead:  # the sending process was killed: its other threads die with it
                raise Died()
            self.calls += 1
            call = self.calls
            if call in self.failures:
                raise self._raise(self.failures.pop(call))
            ref = MessageRef("slack", f"D-{to.id}" if to.kind == "user" else to.id,
                             f"{call}.000100")
            self.posts.append((to, reply, ref))
            if call in self.posted_then:
                raise self._raise(self.posted_then.pop(call))
            return ref

    def _raise(self, exc: BaseException) -> BaseException:
        self.dead = isinstance(exc, Died)
        return exc

    def revive(self) -> None:
        """The process is restarted: the platform itself never went away."""
        self.dead = False

    def update(self, ref: MessageRef, reply: Reply) -> None:
        pass

    def find_posted(self, to: Address, marker: str, since: datetime) -> MessageRef | None:
        with self._lock:
            self.lookups += 1
            for address, reply, ref in self.posts:
                if address == to and marker in (reply.footnote or ""):
                    return ref
        return None

    def received(self, kind: str = "user") -> list[str]:
        """Who got something, once per message (duplicates show up twice)."""
        return [address.id for address, _, _ in self.posts if address.kind == kind]


class StaticDirectory:
    def __init__(self, everyone: Iterable[str], groups: dict[str, list[str]] | None = None,
                 channels: dict[str, list[str]] | None = None) -> None:
        self.everyone = list(everyone)
        self.groups = groups or {}
        self.channels = channels or {}
        self.calls = 0

    def members(self, audience: Audience) -> list[str]:
        self.calls += 1
        if audience.kind == "all_members":
            return list(self.everyone)
        if audience.kind == "usergroup":
            return list(self.groups[audience.target or ""])
        return list(self.channels[audience.target or ""])


def reminder_settings(make_settings, database_url: str, path: Path = SHIPPED,  # type: ignore[no-untyped-def]
                      **overrides: object) -> Settings:
    values = {"path": str(path), "rate_per_second": 1000, "burst": 1000, "workers": 2,
              "lease_ttl_s": 60, "post_timeout_s": 10, "max_attempts": 3,
              "directory_refresh_s": 3600, **overrides}
    section = "\n".join(f"  {key}: {value}" for key, value in values.items())
    return make_settings(
        "company:\n  training_url: 'https://learning.example.jp/conduct'\n"
        f"reminders:\n{section}\n",
        DATABASE_URL=database_url,
    )


def make_scheduler(core: Core, messenger: RecordingMessenger, clock: FakeClock, *,
                   directory: StaticDirectory | None = None, lookup: bool = True,
                   reminders: list[Reminder] | None = None, holder: str | None = None,
                   time: FakeTime | None = None) -> ReminderScheduler:
    time = time or FakeTime()
    return ReminderScheduler(
        core,
        reminders if reminders is not None else load_reminders(core.settings.file.reminders.path),
        {"slack": messenger},
        directories={"slack": directory} if directory else {},
        lookups={"slack": messenger} if lookup else {},
        clock=clock, holder=holder, monotonic=time.monotonic, sleep=time.sleep,
    )


def build(settings: Settings) -> Core:
    return build_core(settings)


__all__ = ["Died", "FakeClock", "FakeTime", "MessengerError", "RecordingMessenger",
           "StaticDirectory", "build", "make_scheduler", "reminder_settings"]


class ProcessMessenger:
    """One bot process's view of the shared platform: it can be killed after N posts.

    The post that kills it lands on the platform first, as a SIGKILL between Slack's answer and
    the database write would leave it; every later call of the dead process fails with Died.
    """

    platform = "slack"
    threads = True

    def __init__(self, shared: RecordingMessenger, die_after: int | None = None) -> None:
        self.shared = shared
        self.die_after = die_after
        self.posted = 0
        self.dead = False
        self._lock = threading.Lock()

    def post(self, to: Address, reply: Reply) -> MessageRef:
        with self._lock:
            if self.dead:
                raise Died()
            ref = self.shared.post(to, reply)
            self.posted += 1
            if self.die_after is not None and self.posted >= self.die_after:
                self.dead = True
                raise Died()
            return ref

    def update(self, ref: MessageRef, reply: Reply) -> None:
        pass
