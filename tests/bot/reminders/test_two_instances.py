"""Two bot instances on one PostgreSQL database, the first killed mid-fan-out."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from bot.core import build_core
from bot.reminders.definitions import load_reminders
from bot.reminders.scheduler import ReminderScheduler
from tests.bot.reminders.fakes import (
    SHIPPED,
    Died,
    FakeClock,
    FakeTime,
    ProcessMessenger,
    RecordingMessenger,
    StaticDirectory,
    reminder_settings,
)

USERS = [f"U{n:04d}" for n in range(300)]


def _instance(core, messenger, platform, clock, holder):  # type: ignore[no-untyped-def]
    time_ = FakeTime()
    return ReminderScheduler(
        core, [r for r in load_reminders(SHIPPED) if r.id == "conduct-rule-training"],
        {"slack": messenger}, directories={"slack": StaticDirectory(USERS)},
        lookups={"slack": platform}, clock=clock, holder=holder,
        monotonic=time_.monotonic, sleep=time_.sleep,
    )


def _run(scheduler: ReminderScheduler, stop: threading.Event, log: list[str]) -> None:
    while not stop.is_set():
        try:
            _, send = scheduler.sweep()
        except Died:
            log.append(f"{scheduler.lease.holder} died")
            return
        if send is not None and send.outcomes:
            log.append(f"{scheduler.lease.holder} sent {sum(send.outcomes.values())}")
        time.sleep(0.005)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_each_recipient_gets_each_occurrence_exactly_once(database, make_settings):
    settings = reminder_settings(make_settings, database.url, workers=4, lease_ttl_s=5,
                                 post_timeout_s=1)
    core_a, core_b = build_core(settings), build_core(settings)
    platform = RecordingMessenger()
    clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
    a = _instance(core_a, ProcessMessenger(platform, die_after=120), platform, clock, "a")
    b = _instance(core_b, ProcessMessenger(platform), platform, clock, "b")
    a.sweep()  # a starts first: the definition's first sight
    clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
    assert a.plan_sweep() is not None  # a holds the lease and has planned the occurrence
    assert b.plan_sweep() is None
    stop, log = threading.Event(), []
    threads = [threading.Thread(target=_run, args=(s, stop, log)) for s in (a, b)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    try:
        while len(set(platform.received())) < len(USERS) and time.monotonic() < deadline:
            time.sleep(0.02)
            clock.advance(seconds=0.05)  # 2.5x real time: the dead holder's lease runs out
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        core_a.database.dispose()
        core_b.database.dispose()
    assert "a died" in log and any(line.startswith("b sent") for line in log)
    counts = Counter(platform.received())
    assert set(counts) == set(USERS)
    assert max(counts.values()) == 1, [u for u, n in counts.items() if n > 1]
