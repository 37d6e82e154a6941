"""Reports, their mailbox and the desk notices sent about them (schema: migration 0003).

No column holds who reported: an anonymous report has no reporter column at all, and a named
one keeps the name inside the encrypted content. Every free text is ciphertext (bot.reports.
crypto); what stays readable is what the desk's lists and the legal deadlines need.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import Base


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(160))  # scrypt, see bot.reports.receipts
    category: Mapped[str] = mapped_column(String(32))
    named: Mapped[bool] = mapped_column(Boolean)
    lang: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(24), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The desk hears of the report at a random moment after it arrived.
    notify_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content: Mapped[str | None] = mapped_column(Text)  # sealed JSON; NULL once purged
    exclusions: Mapped[str | None] = mapped_column(Text)  # sealed JSON list of platform:user_id
    # Wrong-key throttling, per case and without any trace of who guessed.
    # Unused since cases are no longer locked (the per-person limit is KeyCheck); kept so the
    # schema needs no migration that drops columns on a table holding evidence.
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReportMessage(Base):
    """One message of the two-way mailbox; `kind` is message, reason (not investigated) or
    outcome (closed)."""

    __tablename__ = "report_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author: Mapped[str] = mapped_column(String(8))  # "desk" or "reporter", never a person
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(Text)  # sealed; NULL once purged


class ReportNotice(Base):
    """What the desk channel was told about a case, so each notice is sent once."""

    __tablename__ = "report_notices"
    __table_args__ = (UniqueConstraint("report_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # "new", "acknowledge.due_soon", ...
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    message_ref: Mapped[str | None] = mapped_column(String(200))


class KeyCheck(Base):
    """Mailbox key checks per person and time window, shared by every instance: the limit on
    scrypt work a person can make the bot do. `bucket` is a keyed hash of who and which window,
    so no row names anyone, and rows are deleted once their window has passed."""

    __tablename__ = "key_checks"

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
