"""The reminder deliveries counter: one count per delivery recorded sent or given up."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.messages import MessengerError
from bot.metrics import REGISTRY
from bot.reminders.definitions import load_reminders
from tests.bot.reminders.fakes import (
    SHIPPED,
    FakeClock,
    RecordingMessenger,
    StaticDirectory,
    make_scheduler,
)

TRAINING = [r for r in load_reminders(SHIPPED) if r.id == "conduct-rule-training"]


def deliveries(result: str) -> float:
    return REGISTRY.get_sample_value("compliance_bot_reminder_deliveries_total",
                                     {"result": result}) or 0.0


def test_each_sent_delivery_is_counted_once(rcore):  # type: ignore[no-untyped-def]
    clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
    messenger = RecordingMessenger()
    scheduler = make_scheduler(rcore, messenger, clock,
                               directory=StaticDirectory(["U1", "U2", "U3"]), reminders=TRAINING)
    sent, failed = deliveries("sent"), deliveries("failed")
    scheduler.sweep()
    clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
    scheduler.sweep()
    scheduler.sweep()  # nothing more is due: nothing more is counted
    assert len(messenger.posts) == 3
    assert deliveries("sent") == sent + 3
    assert deliveries("failed") == failed


def test_a_delivery_given_up_is_counted_failed(rcore):  # type: ignore[no-untyped-def]
    clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
    messenger = RecordingMessenger(failures={n: MessengerError("Slack Web API: 404 "
                                                               "channel_not_found")
                                             for n in range(1, 10)})
    scheduler = make_scheduler(rcore, messenger, clock, directory=StaticDirectory(["GONE"]),
                               reminders=TRAINING, lookup=False)
    sent, failed = deliveries("sent"), deliveries("failed")
    scheduler.sweep()
    clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
    for _ in range(4):  # three attempts, then given up
        scheduler.sweep()
        clock.advance(minutes=10)
    assert deliveries("failed") == failed + 1
    assert deliveries("sent") == sent
