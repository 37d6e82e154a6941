"""Escalation tables (migration 0004; the weekly report's, 0007). Named, unlike reports: the
desk must answer the asker.

The asker is stored as their pseudonym for audit and reports, plus their platform user id as
the one address the desk's reply can reach; that id is never logged or put in the audit trail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.clock import utcnow
from bot.models import Base

OPEN, CLAIMED, RESOLVED = "open", "claimed", "resolved"


class Escalation(Base):
    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    requester: Mapped[str] = mapped_column(String(64), index=True)  # pseudonym
    requester_name: Mapped[str | None] = mapped_column(String(128))  # as the platform gave it
    platform: Mapped[str] = mapped_column(String(16))
    dm_user: Mapped[str] = mapped_column(String(255))  # the requester's id: their DM address
    lang: Mapped[str] = mapped_column(String(2))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    question: Mapped[str] = mapped_column(Text)
    context: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[str] = mapped_column(String(8))
    bot_entry_id: Mapped[str | None] = mapped_column(String(128))  # the bot's best attempt
    bot_score: Mapped[float] = mapped_column(Float, default=0.0)
    topics: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of topic ids
    category: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(300), index=True)  # "platform:channel_id"
    route: Mapped[str] = mapped_column(String(32))  # "routes[2]" or "default"
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    owner: Mapped[str | None] = mapped_column(String(300))  # desk member "platform:user_id"
    owner_name: Mapped[str | None] = mapped_column(String(128))
    owner_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_response_due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolution_due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    warned_first_response: Mapped[bool] = mapped_column(Boolean, default=False)
    warned_resolution: Mapped[bool] = mapped_column(Boolean, default=False)
    # The triage message (MessageRef) and the first DM to the requester, whose thread the
    # conversation continues in; None until posted.
    triage_channel: Mapped[str | None] = mapped_column(String(255))
    triage_message: Mapped[str | None] = mapped_column(String(255))
    dm_channel: Mapped[str | None] = mapped_column(String(255))
    dm_thread: Mapped[str | None] = mapped_column(String(255), index=True)


class EscalationMessage(Base):
    """What the desk and the requester said to each other, in order: the thread's record."""

    __tablename__ = "escalation_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    role: Mapped[str] = mapped_column(String(16))  # "desk" or "requester"
    author: Mapped[str] = mapped_column(String(64))  # pseudonym
    text: Mapped[str] = mapped_column(Text)


class WeeklyReportPost(Base):
    """The desk's weekly report, one row per week (migration 0007).

    The week is the primary key, so of two instances that find the report due only the one
    whose insert succeeds posts it (bot.escalations.weekly); the row is deleted again when the
    post fails, so the next check tries again.
    """

    __tablename__ = "desk_weekly_reports"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)  # ISO week, "2026-W50"
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str] = mapped_column(String(64))  # host and process id, for the logs
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str | None] = mapped_column(String(300))  # "platform:channel_id"
    message: Mapped[str | None] = mapped_column(String(255))  # the post's message id
