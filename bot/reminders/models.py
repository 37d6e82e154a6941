"""Reminder tables. The schema is owned by migration 0005.

A delivery row is written before anything is sent and is unique on (reminder, occurrence,
recipient): that constraint, not the scheduler, is what makes "exactly once" hold across
crashes, restarts and a second instance. Recipients are platform ids ("slack:U0123"), unlike
askers elsewhere: the bot must address them and the desk must be able to name who has not
acknowledged. The audit trail still only ever sees pseudonyms.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.clock import utcnow
from bot.models import Base

# Delivery states: pending (to send at due_at), sending (claimed by a sender; unknown outcome
# if that sender died), sent, failed (gave up after max attempts).
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; everything is written as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def occurrence_key(moment: datetime) -> str:
    """An occurrence is named by its scheduled time in UTC, to the second."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


class ReminderOccurrence(Base):
    """One firing of a cron reminder, with the roster it was expanded to."""

    __tablename__ = "reminder_occurrences"
    __table_args__ = (UniqueConstraint("reminder_id", "occurrence",
                                       name="uq_reminder_occurrences_reminder_occurrence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder_id: Mapped[str] = mapped_column(String(100))
    occurrence: Mapped[str] = mapped_column(String(32))
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    planned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)


class ReminderDelivery(Base):
    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint("reminder_id", "occurrence", "recipient",
                         name="uq_reminder_deliveries_once"),
        Index("ix_reminder_deliveries_state_due", "state", "due_at"),
        Index("ix_reminder_deliveries_followup", "state", "followup_at"),
        Index("ix_reminder_deliveries_recipient", "recipient"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder_id: Mapped[str] = mapped_column(String(100))
    occurrence: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(160))  # "slack:U0123" or "slack:C0123"
    kind: Mapped[str] = mapped_column(String(8))  # "user" (a DM) or "channel"
    token: Mapped[str] = mapped_column(String(16))  # in the button and the message's reference
    state: Mapped[str] = mapped_column(String(8), default=PENDING)
    round: Mapped[int] = mapped_column(Integer, default=0)  # 0 the reminder, n the nth follow-up
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # in this round
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    round_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The last attempt's outcome is unknown (crash, timeout, 5xx): ask the platform first.
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    followup_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_channel: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def platform(self) -> str:
        return self.recipient.partition(":")[0]

    @property
    def target(self) -> str:
        return self.recipient.partition(":")[2]

    @property
    def marker(self) -> str:
        """Carried in the message, so a post of unknown outcome can be found on the platform."""
        return f"R{self.id}-{self.round}-{self.token}"


class ReminderAck(Base):
    """Who acknowledged which occurrence, and when (several people on one channel broadcast)."""

    __tablename__ = "reminder_acks"
    __table_args__ = (UniqueConstraint("reminder_id", "occurrence", "recipient",
                                       name="uq_reminder_acks_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder_id: Mapped[str] = mapped_column(String(100))
    occurrence: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(160))
    delivery_id: Mapped[int | None] = mapped_column(Integer)
    acknowledged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReminderClock(Base):
    """A person's clock for an every-N-days reminder: restarted by each acknowledgement."""

    __tablename__ = "reminder_clocks"
    __table_args__ = (
        UniqueConstraint("reminder_id", "recipient", name="uq_reminder_clocks_person"),
        Index("ix_reminder_clocks_due", "reminder_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder_id: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(160))
    anchor_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    planned_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # still in the audience


class ReminderCursor(Base):
    """How far a reminder has been planned, so a restart knows what it missed."""

    __tablename__ = "reminder_cursors"

    reminder_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    planned_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    audience_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SchedulerLease(Base):
    """Who runs the sweeps: held until expires_at, taken over by anyone once it has passed."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    generation: Mapped[int] = mapped_column(Integer, default=0)
