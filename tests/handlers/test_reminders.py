"""Reminders as employees meet them: the button in the DM, `/comply reminders`, the home tab."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.audit import verify
from bot.core import Core, build_core
from bot.messages import Button, IncomingMessage, User
from bot.models import AuditEvent
from bot.reminders.definitions import load_reminders
from bot.reminders.models import ReminderAck
from tests.bot.reminders.fakes import (
    SHIPPED,
    FakeClock,
    RecordingMessenger,
    StaticDirectory,
    make_scheduler,
    reminder_settings,
)
from tests.chat import TestChat

HANAKO = User("slack", "U0HANAKO", "Hanako")
TARO = User("slack", "U0TARO", "Taro")


@pytest.fixture
def rcore(database, make_settings) -> Iterator[Core]:  # type: ignore[no-untyped-def]
    core = build_core(reminder_settings(make_settings, database.url))
    try:
        yield core
    finally:
        core.database.dispose()


def deliver(core: Core, *ids: str, users=(HANAKO, TARO), when=datetime(2027, 2, 1, 2, tzinfo=UTC)):  # type: ignore[no-untyped-def]
    """Run the scheduler over an occurrence of the given shipped reminders."""
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    messenger = RecordingMessenger()
    scheduler = make_scheduler(
        core, messenger, clock, directory=StaticDirectory([u.id for u in users]),
        reminders=[r for r in load_reminders(SHIPPED) if r.id in ids])
    scheduler.sweep()
    clock.set(when)
    scheduler.sweep()
    return messenger


def button_of(messenger: RecordingMessenger, user_or_channel: str) -> Button:
    [reply] = [reply for to, reply, _ in messenger.posts if to.id == user_or_channel]
    return reply.buttons[0]


def audit(core: Core) -> list[AuditEvent]:
    with core.database.transaction() as session:
        return list(session.execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).scalars())


def test_pressing_the_button_records_who_acknowledged_when_under_a_pseudonym(rcore):
    messenger = deliver(rcore, "conduct-rule-training")
    chat = TestChat(rcore, HANAKO)
    reply = chat.press(button_of(messenger, HANAKO.id))
    assert reply.ephemeral and "記録しました" in reply.text and "行為規制研修" in reply.text
    [event] = [e for e in audit(rcore) if e.action == "reminder.acknowledged"]
    assert event.actor == rcore.keyring.pseudonym("slack", HANAKO.id)
    assert event.subject == "reminder:conduct-rule-training:2027-02-01T01:00:00Z"
    assert HANAKO.id not in event.actor + event.details + event.subject
    assert json.loads(event.details)["round"] == 0
    again = chat.press(button_of(messenger, HANAKO.id))
    assert "記録済み" in again.text
    with rcore.database.transaction() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(ReminderAck)).scalar() == 1
        assert verify(session, rcore.keyring).ok


def test_someone_elses_or_a_tampered_button_is_refused(rcore):
    messenger = deliver(rcore, "conduct-rule-training")
    hanakos = button_of(messenger, HANAKO.id)
    assert "別の方宛て" in TestChat(rcore, TARO).press(hanakos).text
    forged = Button(hanakos.label, hanakos.action, hanakos.value.split(".")[0] + ".00000000")
    assert "見つかりませんでした" in TestChat(rcore, HANAKO).press(forged).text
    assert "見つかりませんでした" in TestChat(rcore, HANAKO).press(
        Button("x", "reminder.ack", "nonsense")).text
    assert not [e for e in audit(rcore) if e.action == "reminder.acknowledged"]


def test_comply_reminders_lists_what_is_pending_until_acknowledged(rcore):
    messenger = deliver(rcore, "conduct-rule-training", "password-change")
    chat = TestChat(rcore, HANAKO)
    english = chat.bot.dispatcher.command(IncomingMessage(HANAKO, "reminders"))
    assert english.lang == "en" and english.title == "Reminders waiting for you"
    assert [name for name, _ in english.fields] == ["Conduct-rule training"]
    listed = chat.bot.dispatcher.command(IncomingMessage(HANAKO, "リマインダー"))
    assert listed.lang == "ja" and listed.ephemeral
    [(name, since)] = listed.fields
    assert name == "行為規制研修の受講のお願い" and since.startswith("2027-02-01")
    [button] = listed.buttons
    assert button.value == button_of(messenger, HANAKO.id).value
    chat.press(button)
    done = chat.bot.dispatcher.command(IncomingMessage(HANAKO, "リマインダー"))
    assert done.fields == [] and "ありません" in done.text
    # Taro has not acknowledged: still pending for him, and on his home tab.
    [section] = [home(TARO, "ja") for home in chat.bot.registry.home_sections
                 if home.__qualname__.startswith("ReminderFlow")]
    assert section is not None and len(section.buttons) == 1
    [mine] = [home(HANAKO, "ja") for home in chat.bot.registry.home_sections
              if home.__qualname__.startswith("ReminderFlow")]
    assert mine is None


def test_a_channel_broadcast_is_acknowledged_by_each_reader(rcore):
    messenger = deliver(rcore, "access-log-review", when=datetime(2027, 4, 1, 2, tzinfo=UTC))
    button = button_of(messenger, "C0EXAMPLE3")
    assert "記録しました" in TestChat(rcore, HANAKO).press(button).text
    assert "記録しました" in TestChat(rcore, TARO).press(button).text
    assert "記録済み" in TestChat(rcore, TARO).press(button).text
    bot = TestChat(rcore).bot
    [status] = bot.feature("reminders").service.status("access-log-review")
    assert (status.recipients, status.sent, status.acknowledged) == (1, 1, 2)


def test_acknowledging_a_password_change_says_when_the_next_one_comes(rcore):
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    messenger = RecordingMessenger()
    scheduler = make_scheduler(rcore, messenger, clock, directory=StaticDirectory([HANAKO.id]),
                               reminders=[r for r in load_reminders(SHIPPED)
                                          if r.id == "password-change"])
    scheduler.sweep()
    clock.set(datetime(2027, 4, 2, tzinfo=UTC))
    scheduler.sweep()
    reply = TestChat(rcore, HANAKO).press(button_of(messenger, HANAKO.id))
    assert "パスワード変更のお願い" in reply.text and "次回のご案内は" in reply.text
