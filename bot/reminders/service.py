"""Acknowledgements, a person's pending reminders, and the desk's status report.

Shared by the chat flow (the button, `/comply reminders`), the Slack App Home and the CLI, so
all of them tell the same story about who has acknowledged what.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import cast

from sqlalchemy import ColumnElement, Table, Update, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.audit import AuditTrail
from bot.clock import Clock, utcnow
from bot.db import Database, rowcount
from bot.keys import Keyring
from bot.messages import User
from bot.reminders.definitions import Reminder
from bot.reminders.models import (
    FAILED,
    PENDING,
    SENDING,
    SENT,
    ReminderAck,
    ReminderClock,
    ReminderDelivery,
    as_utc,
)


class AckResult(Enum):
    RECORDED = "recorded"
    ALREADY = "already"
    NOT_YOURS = "not_yours"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class AckOutcome:
    result: AckResult
    reminder: Reminder | None = None
    at: datetime | None = None  # when it was (or had already been) acknowledged
    next_due: datetime | None = None  # every-N-days reminders: when the next one comes


@dataclass(frozen=True)
class PendingReminder:
    """A reminder waiting for this person's acknowledgement."""

    reminder: Reminder
    delivery_id: int
    token: str
    occurrence: str
    since: datetime
    followups: int


@dataclass
class OccurrenceStatus:
    reminder_id: str
    occurrence: str  # the UTC time it was scheduled for; for every-N-days reminders, a month
    recipients: int = 0
    sent: int = 0
    pending: int = 0
    failed: int = 0
    acknowledged: int = 0
    not_acknowledged: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)  # past the last follow-up, for the desk

    def as_dict(self) -> dict[str, object]:
        return {
            "reminder_id": self.reminder_id, "occurrence": self.occurrence,
            "recipients": self.recipients, "sent": self.sent, "pending": self.pending,
            "failed": self.failed, "acknowledged": self.acknowledged,
            "not_acknowledged": len(self.not_acknowledged), "overdue": self.overdue,
        }


_DELIVERIES = cast(Table, ReminderDelivery.__table__)
_ACKS = cast(Table, ReminderAck.__table__)
_DELIVERY = select(
    _DELIVERIES.c.id, _DELIVERIES.c.reminder_id, _DELIVERIES.c.occurrence,
    _DELIVERIES.c.recipient, _DELIVERIES.c.kind, _DELIVERIES.c.token, _DELIVERIES.c.round,
).where(_DELIVERIES.c.id == bindparam("id")).with_for_update()
_EARLIER_ACK = select(_ACKS.c.acknowledged_at).where(
    _ACKS.c.reminder_id == bindparam("reminder_id"),
    _ACKS.c.occurrence == bindparam("occurrence"), _ACKS.c.recipient == bindparam("recipient"))
_ACK = _ACKS.insert()


def _closing(*which: ColumnElement[bool]) -> tuple[Update, Update]:
    """Drop the queued follow-ups of the deliveries `which` picks, then close them."""
    drop = _DELIVERIES.update().where(
        *which, _DELIVERIES.c.state == PENDING, _DELIVERIES.c.round > 0,
    ).values(state=SENT, round=_DELIVERIES.c.round - 1)
    close = _DELIVERIES.update().where(*which).values(
        acknowledged_at=bindparam("b_now"), followup_at=None)
    return drop, close


# An UPDATE reserves its columns' names for bind parameters: these are prefixed.
_CLOSE_ONE = _closing(_DELIVERIES.c.id == bindparam("b_id"))
_CLOSE_OPEN = _closing(  # a per-person clock: every delivery of theirs still open
    _DELIVERIES.c.reminder_id == bindparam("b_reminder_id"),
    _DELIVERIES.c.recipient == bindparam("b_recipient"),
    _DELIVERIES.c.acknowledged_at.is_(None))


def recipient_key(user: User) -> str:
    return f"{user.platform}:{user.id}"


class ReminderService:
    def __init__(self, database: Database, audit: AuditTrail, keyring: Keyring,
                 reminders: Iterable[Reminder], clock: Clock = utcnow) -> None:
        self.database = database
        self.audit = audit
        self.keyring = keyring
        self.reminders = {reminder.id: reminder for reminder in reminders}
        self.clock = clock

    # -- acknowledgements --------------------------------------------------------------------

    def acknowledge(self, user: User, delivery_id: int, token: str) -> AckOutcome:
        """Record who acknowledged what and when; restart an every-N-days clock.

        A promised write: the acknowledgement and its audit event are committed before the
        outcome is returned, and so before the person is thanked. After a company-wide
        reminder thousands press within a minute: presses arriving together share one
        transaction (Database.grouped)."""
        now = self.clock()
        me = recipient_key(user)
        actor = self.keyring.pseudonym(user.platform, user.id)

        def record(session: Session) -> AckOutcome:
            return self._acknowledge(session, delivery_id, token, me, actor, now)

        try:
            return self.database.grouped(record)
        except IntegrityError:  # the same person pressed twice at the same moment
            reminder = None
            with self.database.transaction() as session:
                delivery = session.get(ReminderDelivery, delivery_id)
                if delivery is not None:
                    reminder = self.reminders.get(delivery.reminder_id)
            return AckOutcome(AckResult.ALREADY, reminder, now)

    def _acknowledge(self, session: Session, delivery_id: int, token: str, me: str,
                     actor: str, now: datetime) -> AckOutcome:
        # Core statements built once, not ORM objects: this runs for every press of a burst,
        # and the unit of work (identity map, flush) cost more than the statements.
        delivery = session.execute(_DELIVERY, {"id": delivery_id}).first()
        reminder = self.reminders.get(delivery.reminder_id) if delivery else None
        if (delivery is None or reminder is None or delivery.token != token
                or reminder.acknowledge is None):
            return AckOutcome(AckResult.UNKNOWN)
        if delivery.kind == "user" and delivery.recipient != me:
            return AckOutcome(AckResult.NOT_YOURS, reminder)
        occurrence = {"reminder_id": delivery.reminder_id, "occurrence": delivery.occurrence,
                      "recipient": me}
        earlier = session.execute(_EARLIER_ACK, occurrence).scalar()
        if earlier is not None:
            return AckOutcome(AckResult.ALREADY, reminder, as_utc(earlier))
        session.execute(_ACK, {**occurrence, "delivery_id": delivery.id, "acknowledged_at": now})
        closed = 0
        if delivery.kind == "user":
            # This occurrence and, for a per-person clock, any older one left open. A
            # follow-up still queued is dropped: the person has already answered.
            mine = {"b_id": delivery.id, "b_reminder_id": reminder.id, "b_recipient": me}
            drop, close = _CLOSE_OPEN if reminder.is_interval else _CLOSE_ONE
            session.execute(drop, mine)
            closed = rowcount(session.execute(close, {**mine, "b_now": now}))
        next_due = self._restart_clock(session, reminder, me, now)
        self.audit.record(
            session, actor=actor, action="reminder.acknowledged",
            subject=f"reminder:{reminder.id}:{delivery.occurrence}",
            details={"delivery_id": delivery.id, "round": delivery.round,
                     "broadcast": delivery.kind == "channel", "closed": closed,
                     "next_due": next_due.isoformat() if next_due else None},
        )
        return AckOutcome(AckResult.RECORDED, reminder, now, next_due)

    def _restart_clock(self, session: Session, reminder: Reminder, me: str,
                       now: datetime) -> datetime | None:
        if reminder.schedule.every_days is None:
            return None
        next_due = now + timedelta(days=reminder.schedule.every_days)
        clock = session.execute(select(ReminderClock).where(
            ReminderClock.reminder_id == reminder.id, ReminderClock.recipient == me,
        ).with_for_update()).scalar_one_or_none()
        if clock is None:
            session.add(ReminderClock(reminder_id=reminder.id, recipient=me, anchor_at=now,
                                      due_at=next_due, planned_due_at=None, active=True))
        else:
            clock.anchor_at, clock.due_at = now, next_due
        return next_due

    # -- what a person still has to do -------------------------------------------------------

    def pending_for(self, user: User) -> list[PendingReminder]:
        """Reminders sent (or on their way) to this person and not yet acknowledged."""
        me = recipient_key(user)
        with self.database.transaction() as session:
            rows = session.execute(
                select(ReminderDelivery).where(
                    ReminderDelivery.recipient == me, ReminderDelivery.kind == "user",
                    ReminderDelivery.acknowledged_at.is_(None),
                ).order_by(ReminderDelivery.occurrence, ReminderDelivery.id)
            ).scalars().all()
        pending = []
        for row in rows:
            reminder = self.reminders.get(row.reminder_id)
            if reminder is None or reminder.acknowledge is None or not reminder.enabled:
                continue
            pending.append(PendingReminder(
                reminder=reminder, delivery_id=row.id, token=row.token,
                occurrence=row.occurrence, since=as_utc(row.first_sent_at or row.created_at),
                followups=row.round,
            ))
        return pending

    # -- for the desk ------------------------------------------------------------------------

    def status(self, reminder_id: str | None = None) -> list[OccurrenceStatus]:
        """Per occurrence: sent, pending, failed, acknowledged, and who is overdue."""
        now = self.clock()
        query = select(ReminderDelivery).order_by(
            ReminderDelivery.reminder_id, ReminderDelivery.occurrence, ReminderDelivery.id)
        acks_query = select(ReminderAck.reminder_id, ReminderAck.occurrence,
                            func.count()).group_by(ReminderAck.reminder_id,
                                                   ReminderAck.occurrence)
        if reminder_id is not None:
            query = query.where(ReminderDelivery.reminder_id == reminder_id)
            acks_query = acks_query.where(ReminderAck.reminder_id == reminder_id)
        statuses: dict[tuple[str, str], OccurrenceStatus] = {}
        with self.database.transaction() as session:
            acks = {(r, o): n for r, o, n in session.execute(acks_query)}
            for row in session.execute(query).scalars():
                reminder = self.reminders.get(row.reminder_id)
                # Per-person clocks make one occurrence per person: report them by month.
                label = row.occurrence[:7] if reminder and reminder.is_interval else row.occurrence
                status = statuses.setdefault((row.reminder_id, label),
                                             OccurrenceStatus(row.reminder_id, label))
                status.recipients += 1
                if row.state == SENT:
                    status.sent += 1
                elif row.state in (PENDING, SENDING):
                    status.pending += 1
                elif row.state == FAILED:
                    status.failed += 1
                if row.kind == "channel":
                    status.acknowledged += acks.get((row.reminder_id, row.occurrence), 0)
                elif row.acknowledged_at is not None:
                    status.acknowledged += 1
                elif reminder is not None and reminder.acknowledge is not None:
                    status.not_acknowledged.append(row.recipient)
                    if self._overdue(reminder, row, now):
                        status.overdue.append(row.recipient)
        return list(statuses.values())

    @staticmethod
    def _overdue(reminder: Reminder, row: ReminderDelivery, now: datetime) -> bool:
        """Followed up as often as the policy allows, and the last one has had its days too."""
        policy = reminder.follow_up
        if policy is None or row.state != SENT or row.last_sent_at is None:
            return False
        waited = now - as_utc(row.last_sent_at) >= timedelta(days=policy.after_days)
        return row.round >= policy.max_times and waited
