"""The reminder engine against a controllable clock: what goes out when, and only once."""

from __future__ import annotations

import json
import logging
import time as real_time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.audit import verify
from bot.core import build_core
from bot.messages import MessengerError, User
from bot.models import AuditEvent
from bot.reminders.definitions import load_reminders
from bot.reminders.models import (
    FAILED,
    SENT,
    ReminderDelivery,
    ReminderOccurrence,
    SchedulerLease,
)
from bot.reminders.scheduler import reminder_scheduler
from bot.reminders.service import AckResult, ReminderService
from tests.bot.reminders.fakes import (
    SHIPPED,
    Died,
    FakeClock,
    FakeTime,
    RecordingMessenger,
    StaticDirectory,
    make_scheduler,
    reminder_settings,
)

JST_10AM = 1  # 10:00 in Tokyo is 01:00 UTC


def shipped(*ids: str):  # type: ignore[no-untyped-def]
    return [r for r in load_reminders(SHIPPED) if r.id in ids]


def first_posts(messenger: RecordingMessenger, kind: str = "user") -> list[str]:
    """Recipients of reminders proper, follow-ups left out."""
    return [to.id for to, reply, _ in messenger.posts
            if to.kind == kind and not (reply.title or "").startswith("再送")]


def rows(core, model):  # type: ignore[no-untyped-def]
    with core.database.transaction() as session:
        return list(session.execute(sa.select(model)).scalars())


def actions(core) -> list[str]:  # type: ignore[no-untyped-def]
    return [event.action for event in rows(core, AuditEvent)]


def service(core, clock) -> ReminderService:  # type: ignore[no-untyped-def]
    return ReminderService(core.database, core.audit, core.keyring,
                           load_reminders(SHIPPED), clock)


def press(core, clock, messenger, user_id: str, nth: int = -1):  # type: ignore[no-untyped-def]
    """The user presses the acknowledgement button of the nth message they received."""
    reply = [reply for to, reply, _ in messenger.posts if to.id == user_id][nth]
    delivery_id, token = reply.buttons[0].value.split(".")
    return service(core, clock).acknowledge(User("slack", user_id), int(delivery_id), token)


# -- the seed obligations ----------------------------------------------------------------------


def test_training_goes_out_in_february_and_august_once_each(rcore):
    clock = FakeClock(datetime(2027, 1, 15, tzinfo=UTC))
    messenger = RecordingMessenger()
    scheduler = make_scheduler(rcore, messenger, clock, directory=StaticDirectory(
        ["U1", "U2", "U3"]), reminders=shipped("conduct-rule-training"))
    scheduler.sweep()
    clock.set(datetime(2027, 2, 1, 0, 59, tzinfo=UTC))
    scheduler.sweep()
    assert messenger.posts == []
    clock.set(datetime(2027, 2, 1, JST_10AM, 0, 20, tzinfo=UTC))
    scheduler.sweep()
    assert sorted(first_posts(messenger)) == ["U1", "U2", "U3"]
    to, reply, _ = messenger.posts[0]
    assert to.kind == "user"
    assert "行為規制に関する定期研修" in reply.text and "conduct-rule training" in reply.text
    assert "https://learning.example.jp/conduct" in reply.text
    assert reply.buttons[0].action == "reminder.ack" and "受講しました" in reply.buttons[0].label
    for user in ("U1", "U2", "U3"):
        press(rcore, clock, messenger, user)
    for day in range(2, 200):  # a sweep a day through the rest of the year
        clock.set(datetime(2027, 1, 1, 12, tzinfo=UTC) + timedelta(days=day + 30))
        scheduler.sweep()
        if clock().month == 8:
            break
    assert Counter(first_posts(messenger)) == {"U1": 2, "U2": 2, "U3": 2}
    occurrences = sorted(o.occurrence for o in rows(rcore, ReminderOccurrence))
    assert occurrences == ["2027-02-01T01:00:00Z", "2027-08-01T01:00:00Z"]


def test_access_log_review_is_one_channel_post_in_april_and_october(rcore):
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    messenger = RecordingMessenger()
    scheduler = make_scheduler(rcore, messenger, clock, reminders=shipped("access-log-review"))
    while clock() < datetime(2028, 1, 1, tzinfo=UTC):
        scheduler.sweep()
        clock.advance(days=3)
    assert [to.id for to, _, _ in messenger.posts] == ["C0EXAMPLE3", "C0EXAMPLE3"]
    assert {to.kind for to, _, _ in messenger.posts} == {"channel"}
    assert sorted(o.occurrence for o in rows(rcore, ReminderOccurrence)) == [
        "2027-04-01T01:00:00Z", "2027-10-01T01:00:00Z"]
    assert "アクセスログ解析" in messenger.posts[0][1].text


def test_password_rotation_runs_one_clock_per_person_restarted_by_acknowledgement(rcore):
    day0 = datetime(2027, 3, 1, tzinfo=UTC)
    clock = FakeClock(day0)
    directory = StaticDirectory(["A", "B"])
    messenger = RecordingMessenger()
    scheduler = make_scheduler(rcore, messenger, clock, directory=directory,
                               reminders=shipped("password-change"))

    def day(n: int) -> None:
        clock.set(day0 + timedelta(days=n, hours=1))
        scheduler.sweep()

    for n in range(90):
        day(n)
    assert messenger.posts == []
    day(90)
    assert sorted(first_posts(messenger)) == ["A", "B"]
    assert "パスワードを変更しました" in messenger.posts[0][1].buttons[0].label

    day(92)
    outcome = press(rcore, clock, messenger, "A")
    assert outcome.result is AckResult.RECORDED
    assert outcome.next_due == day0 + timedelta(days=92 + 90, hours=1)
    directory.everyone.append("C")  # joins on day 100; their clock starts then
    for n in range(93, 182):
        day(n)
    # B never acknowledges: followed up every 3 days, at most 3 times, then listed for the desk.
    assert Counter(to.id for to, _, _ in messenger.posts) == {"A": 1, "B": 4}
    [status] = service(rcore, clock).status("password-change")
    assert status.overdue == ["slack:B"] and status.acknowledged == 1

    day(182)  # 90 days after A's acknowledgement
    assert Counter(first_posts(messenger)) == {"A": 2, "B": 1}
    day(190)  # 90 days after C joined
    assert Counter(first_posts(messenger)) == {"A": 2, "B": 1, "C": 1}
    assert press(rcore, clock, messenger, "A").result is AckResult.RECORDED  # on day 190
    assert press(rcore, clock, messenger, "A").result is AckResult.ALREADY
    for n in range(191, 280):
        day(n)
    assert Counter(first_posts(messenger))["A"] == 2
    day(280)
    assert Counter(first_posts(messenger))["A"] == 3


def test_yearly_inventory_and_id_check_go_to_their_user_groups(rcore):
    clock = FakeClock(datetime(2027, 4, 20, tzinfo=UTC))
    directory = StaticDirectory([], groups={"S0EXAMPLE1": ["OWN1", "OWN2"],
                                            "S0EXAMPLE2": ["TERM1"]})
    messenger = RecordingMessenger()
    scheduler = make_scheduler(rcore, messenger, clock, directory=directory, reminders=shipped(
        "id-password-annual-check", "terminal-inventory"))
    while clock() < datetime(2028, 4, 20, tzinfo=UTC):
        scheduler.sweep()
        clock.advance(days=5)
    assert Counter(first_posts(messenger)) == {"OWN1": 1, "OWN2": 1, "TERM1": 1}


# -- downtime, crashes and the platform misbehaving -------------------------------------------


def test_occurrence_missed_during_downtime_is_delivered_once(rcore):
    clock = FakeClock(datetime(2027, 7, 25, tzinfo=UTC))
    messenger = RecordingMessenger()
    scheduler = make_scheduler(rcore, messenger, clock, directory=StaticDirectory(["U1", "U2"]),
                               reminders=shipped("conduct-rule-training"))
    scheduler.sweep()
    clock.set(datetime(2027, 8, 5, 9, tzinfo=UTC))  # the bot was down over 1 August
    restarted = make_scheduler(rcore, messenger, clock, directory=StaticDirectory(["U1", "U2"]),
                               reminders=shipped("conduct-rule-training"))
    for _ in range(5):
        restarted.sweep()
        clock.advance(hours=1)
    assert sorted(first_posts(messenger)) == ["U1", "U2"]
    [occurrence] = rows(rcore, ReminderOccurrence)
    assert occurrence.occurrence == "2027-08-01T01:00:00Z"


def test_a_long_outage_sends_only_the_latest_missed_occurrence(rcore):
    clock = FakeClock(datetime(2027, 1, 10, tzinfo=UTC))
    messenger = RecordingMessenger()
    scheduler = make_scheduler(rcore, messenger, clock, directory=StaticDirectory(["U1"]),
                               reminders=shipped("conduct-rule-training"))
    scheduler.sweep()
    clock.set(datetime(2027, 9, 1, tzinfo=UTC))  # February and August both missed
    scheduler.sweep()
    assert first_posts(messenger) == ["U1"]
    assert [o.occurrence for o in rows(rcore, ReminderOccurrence)] == ["2027-08-01T01:00:00Z"]


def _fan_out(rcore, messenger, clock, users, *, lookup=True, holder=None):  # type: ignore[no-untyped-def]
    scheduler = make_scheduler(rcore, messenger, clock, directory=StaticDirectory(users),
                               reminders=shipped("conduct-rule-training"), lookup=lookup,
                               holder=holder)
    return scheduler


def test_crash_midway_resumes_without_duplicates_or_losses(rcore):
    users = [f"U{n:02d}" for n in range(12)]
    clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
    # Call 5 reaches Slack and then the process dies before recording it.
    messenger = RecordingMessenger(posted_then={5: Died()})
    first = _fan_out(rcore, messenger, clock, users, holder="first")
    first.sweep()
    clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
    with pytest.raises(Died):
        first.sweep()
    assert len(messenger.posts) < len(users)
    states = Counter(row.state for row in rows(rcore, ReminderDelivery))
    assert states["sending"] >= 1  # left behind by the dead sender

    messenger.revive()
    second = _fan_out(rcore, messenger, clock, users, holder="second")
    assert second.sweep() == (None, None)  # the dead holder's lease has not expired yet
    clock.advance(seconds=61)
    second.sweep()
    assert Counter(messenger.received()) == dict.fromkeys(users, 1)
    assert messenger.lookups >= 1
    assert {row.state for row in rows(rcore, ReminderDelivery)} == {SENT}
    assert "reminder.in_doubt_recovered" in actions(rcore)
    assert actions(rcore).count("reminders.lease_taken") == 2
    with rcore.database.transaction() as session:
        assert verify(session, rcore.keyring).ok


def test_without_a_lookup_an_in_doubt_delivery_is_sent_again(rcore):
    """At least once where the platform cannot tell: a duplicate beats a lost reminder."""
    users = ["U1", "U2", "U3"]
    clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
    messenger = RecordingMessenger(posted_then={2: MessengerError("Slack Web API: 500")})
    scheduler = _fan_out(rcore, messenger, clock, users, lookup=False)
    scheduler.sweep()
    clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
    scheduler.sweep()
    clock.advance(seconds=5)  # past the retry backoff
    scheduler.sweep()
    counts = Counter(messenger.received())
    assert sorted(counts.values()) == [1, 1, 2]


def test_server_error_after_posting_is_looked_up_not_resent(rcore):
    users = ["U1", "U2", "U3"]
    clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
    messenger = RecordingMessenger(failures={1: MessengerError("Slack Web API: 500")},
                                   posted_then={3: MessengerError("Slack Web API: 500")})
    scheduler = _fan_out(rcore, messenger, clock, users)
    scheduler.sweep()
    clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
    scheduler.sweep()
    assert len(messenger.received()) == 2  # one refused, one landed but reported failed
    clock.advance(seconds=5)
    scheduler.sweep()
    assert Counter(messenger.received()) == dict.fromkeys(users, 1)
    assert messenger.lookups == 2  # both errors left their rows in doubt


def test_retry_after_pauses_every_sender_and_the_message_still_goes_once(rcore):
    users = ["U1", "U2", "U3", "U4"]
    clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
    messenger = RecordingMessenger(failures={2: MessengerError("429", retry_after=7.0)})
    time = FakeTime()
    scheduler = make_scheduler(rcore, messenger, clock, directory=StaticDirectory(users),
                               reminders=shipped("conduct-rule-training"), time=time)
    scheduler.sweep()
    clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
    scheduler.sweep()
    assert Counter(messenger.received()) == dict.fromkeys(users, 1)
    assert sum(time.slept) >= 7.0
    assert all(row.attempts == 1 for row in rows(rcore, ReminderDelivery))


def test_a_recipient_that_keeps_failing_is_given_up_and_audited(rcore):
    clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
    messenger = RecordingMessenger(failures={n: MessengerError("Slack Web API: 404 "
                                                               "channel_not_found")
                                             for n in range(1, 10)})
    scheduler = _fan_out(rcore, messenger, clock, ["GONE"], lookup=False)
    scheduler.sweep()
    clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
    for _ in range(4):
        scheduler.sweep()
        clock.advance(minutes=10)
    [row] = rows(rcore, ReminderDelivery)
    assert row.state == FAILED and row.attempts == 3 and "channel_not_found" in row.last_error
    failed = [e for e in rows(rcore, AuditEvent) if e.action == "reminder.delivery_failed"]
    assert len(failed) == 1 and json.loads(failed[0].details)["attempts"] == 3
    [status] = service(rcore, clock).status()
    assert status.failed == 1 and status.sent == 0


# -- one instance at a time -------------------------------------------------------------------


def test_only_the_lease_holder_sweeps_and_another_takes_over_when_it_stops(rcore):
    clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
    messenger = RecordingMessenger()
    a = _fan_out(rcore, messenger, clock, ["U1"], holder="a")
    b = _fan_out(rcore, messenger, clock, ["U1"], holder="b")
    assert a.sweep()[0] is not None
    assert b.sweep() == (None, None)
    clock.advance(seconds=31)
    a.sweep()  # renews once half the lease is gone
    clock.advance(seconds=45)
    assert b.sweep() == (None, None)  # 76 s after a's first sweep, but only 45 since it renewed
    clock.advance(seconds=16)
    assert b.sweep()[0] is not None
    assert a.sweep() == (None, None)
    b.stop()  # a clean stop hands the lease over at once
    assert a.sweep()[0] is not None
    taken = [json.loads(e.after)["holder"] for e in rows(rcore, AuditEvent)
             if e.action == "reminders.lease_taken"]
    assert taken == ["a", "b", "a"]


def test_a_directory_outage_delays_the_occurrence_but_never_skips_it(rcore):
    class Flaky(StaticDirectory):
        down = True

        def members(self, audience):  # type: ignore[no-untyped-def]
            if self.down:
                raise MessengerError("Slack Web API: 503 service_unavailable")
            return super().members(audience)

    directory = Flaky(["U1", "U2"])
    clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
    messenger = RecordingMessenger()
    scheduler = make_scheduler(rcore, messenger, clock, directory=directory,
                               reminders=shipped("conduct-rule-training"))
    scheduler.sweep()
    clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
    plan, _ = scheduler.sweep()
    assert plan is not None and "503" in plan.errors["conduct-rule-training"]
    assert messenger.posts == [] and rows(rcore, ReminderOccurrence) == []
    directory.down = False
    clock.advance(minutes=1)
    scheduler.sweep()
    assert sorted(first_posts(messenger)) == ["U1", "U2"]


def test_a_disabled_reminder_is_neither_planned_nor_sent(rcore, tmp_path):
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "  - id: conduct-rule-training\n", "  - id: conduct-rule-training\n    enabled: false\n")
    (tmp_path / "off.yaml").write_text(text, encoding="utf-8")
    reminders = [r for r in load_reminders(tmp_path / "off.yaml")
                 if r.id == "conduct-rule-training"]
    assert reminders[0].enabled is False
    clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
    messenger = RecordingMessenger()
    scheduler = make_scheduler(rcore, messenger, clock, directory=StaticDirectory(["U1"]),
                               reminders=reminders)
    scheduler.sweep()
    clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
    scheduler.sweep()
    assert messenger.posts == [] and rows(rcore, ReminderDelivery) == []


def test_apscheduler_runs_the_two_sweeps_and_stop_hands_the_lease_over(database, make_settings):
    core = build_core(reminder_settings(make_settings, database.url, plan_interval_s=0.2,
                                        send_interval_s=0.2))
    try:
        clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
        messenger = RecordingMessenger()
        scheduler = make_scheduler(core, messenger, clock, directory=StaticDirectory(["U1"]),
                                   reminders=shipped("conduct-rule-training"))
        scheduler.start()
        assert sorted(scheduler.running_jobs) == ["reminders.plan", "reminders.send"]
        real_time.sleep(0.5)
        clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
        deadline = real_time.monotonic() + 10
        while not messenger.posts and real_time.monotonic() < deadline:
            real_time.sleep(0.05)
        scheduler.stop()
        assert first_posts(messenger) == ["U1"]
        [lease] = rows(core, SchedulerLease)
        assert lease.holder is None
    finally:
        core.database.dispose()


def test_no_reminder_scheduler_when_reminders_are_off(core):
    assert core.settings.file.reminders.path is None
    assert reminder_scheduler(core, {"slack": RecordingMessenger()}) is None


def test_sweeps_log_one_line_per_delivered_batch_and_nothing_when_idle(database, make_settings,
                                                                       caplog):
    """At INFO, a minute of sweeps every few seconds is not a page of log: APScheduler's two
    lines per run are held back, and an idle sweep says nothing."""
    caplog.set_level(logging.INFO)
    core = build_core(reminder_settings(make_settings, database.url, plan_interval_s=0.05,
                                        send_interval_s=0.05))
    try:
        clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
        messenger = RecordingMessenger()
        scheduler = make_scheduler(core, messenger, clock, directory=StaticDirectory(["U1"]),
                                   reminders=shipped("conduct-rule-training"))
        scheduler.start()
        real_time.sleep(0.6)  # idle sweeps
        clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
        deadline = real_time.monotonic() + 10
        while not messenger.posts and real_time.monotonic() < deadline:
            real_time.sleep(0.05)
        real_time.sleep(0.6)  # idle again
        scheduler.stop()
    finally:
        core.database.dispose()
    assert first_posts(messenger) == ["U1"]
    assert not [r for r in caplog.records if r.name.startswith("apscheduler")
                and r.levelno < logging.WARNING]
    sent_lines = [r for r in caplog.records if r.getMessage().startswith("reminders sent:")]
    assert len(sent_lines) == 1 and "sent 1" in sent_lines[0].getMessage()
