"""Checklist tables. The schema is owned by the checklists migration.

- A run is one start of a checklist (a transfer from HR's CSV, a webhook call, a command in
  chat, the yearly inventory's date), unique on (checklist, key): the key is what makes a
  replayed start start nothing (the CSV file's hash, the webhook's request id, the schedule's
  occurrence).
- An assignment is a row per (run, person), written with the run before anything is sent: who
  answers, who confirms, where it stands, the latest answers.
- A message is a row of the outbox, unique on (assignment, purpose, sequence, recipient) and
  written in the same transaction as the change that calls for it; the sender claims, paces,
  posts and looks up in-doubt rows exactly as the reminders' sender does.
- An escalation link ties an assignment to the desk's escalation for a "no" item or for being
  overdue, unique on (assignment, reason, item): each is escalated once.

People are platform ids ("slack:U0123"), as desk members are: checklists are named evidence
of who confirmed what. Audit events carry them in their details; their actor stays a
pseudonym, as everywhere in the trail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.clock import utcnow
from bot.models import Base

# Assignment states: waiting for the person (open, returned), for the confirmer (submitted),
# done (confirmed).
OPEN, SUBMITTED, RETURNED, CONFIRMED = "open", "submitted", "returned", "confirmed"
WAITING_FOR_PERSON = (OPEN, RETURNED)
# Message states: as the reminders' deliveries, and skipped (no longer true when its turn
# came: a review of answers already sent back, a follow-up of a checklist already done).
PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
# What a message is for.
ASK, REVIEW, RETURNED_NOTE, CONFIRMED_NOTE, REMIND, REMIND_REVIEW = (
    "ask", "review", "returned", "confirmed", "remind", "remind_review")


class ChecklistRun(Base):
    __tablename__ = "checklist_runs"
    __table_args__ = (UniqueConstraint("checklist_id", "key", name="uq_checklist_runs_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checklist_id: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))  # schedule, cli, csv, chat, webhook
    started_by: Mapped[str] = mapped_column(String(128))  # a pseudonym or a role
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    definition: Mapped[str] = mapped_column(Text)  # JSON: the checklist as it was asked
    people: Mapped[int] = mapped_column(Integer, default=0)


class ChecklistAssignment(Base):
    __tablename__ = "checklist_assignments"
    __table_args__ = (
        UniqueConstraint("run_id", "person", name="uq_checklist_assignments_person"),
        Index("ix_checklist_assignments_person", "person", "state"),
        Index("ix_checklist_assignments_confirmer", "confirmer", "state"),
        Index("ix_checklist_assignments_followup", "state", "next_followup_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("checklist_runs.id"), index=True)
    checklist_id: Mapped[str] = mapped_column(String(100))
    person: Mapped[str] = mapped_column(String(160))  # "slack:U0123"
    confirmer: Mapped[str] = mapped_column(String(160))  # "slack:U0456" or "desk"
    # Display names where the start gave them (HR's export, a mention): ids read badly.
    person_name: Mapped[str | None] = mapped_column(String(128))
    confirmer_name: Mapped[str | None] = mapped_column(String(128))
    token: Mapped[str] = mapped_column(String(16))  # in buttons and the messages' references
    state: Mapped[str] = mapped_column(String(12), default=OPEN)
    round: Mapped[int] = mapped_column(Integer, default=0)  # submissions so far
    answers: Mapped[str | None] = mapped_column(Text)  # JSON of the latest submission
    no_answers: Mapped[int] = mapped_column(Integer, default=0)  # "no" items in it
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stage_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    followups: Mapped[int] = mapped_column(Integer, default=0)  # in the current stage
    prompts: Mapped[int] = mapped_column(Integer, default=0)  # follow-ups ever queued
    next_followup_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    return_comment: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str | None] = mapped_column(String(160))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChecklistMessage(Base):
    __tablename__ = "checklist_messages"
    __table_args__ = (
        UniqueConstraint("assignment_id", "purpose", "seq", "recipient",
                         name="uq_checklist_messages_once"),
        Index("ix_checklist_messages_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("checklist_assignments.id"),
                                               index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer)  # the round it is about, or the follow-up number
    recipient: Mapped[str] = mapped_column(String(160))  # "slack:U0123" or "slack:C0DESK"
    kind: Mapped[str] = mapped_column(String(8))  # "user" (a DM) or "channel"
    token: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(8), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_channel: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def marker(self) -> str:
        """Carried in the message, so a post of unknown outcome can be found on the platform."""
        return f"C{self.id}-{self.token}"


class ChecklistEscalation(Base):
    __tablename__ = "checklist_escalations"
    __table_args__ = (UniqueConstraint("assignment_id", "reason", "item_id",
                                       name="uq_checklist_escalations_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("checklist_assignments.id"),
                                               index=True)
    reason: Mapped[str] = mapped_column(String(16))  # "no" (an item answered no) or "overdue"
    item_id: Mapped[str] = mapped_column(String(100))  # "" for overdue
    round: Mapped[int] = mapped_column(Integer)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChecklistCursor(Base):
    """How far a schedule has been planned, so a restart knows what it missed."""

    __tablename__ = "checklist_cursors"

    schedule: Mapped[str] = mapped_column(String(100), primary_key=True)
    planned_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
