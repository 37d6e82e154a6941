"""Anonymous reports and their mailbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_number", sa.String(16), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(160), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("named", sa.Boolean(), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        _ts("received_at", nullable=False),
        _ts("acknowledged_at"),
        _ts("decided_at"),
        _ts("feedback_at"),
        _ts("closed_at"),
        _ts("purged_at"),
        _ts("notify_after", nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("exclusions", sa.Text(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        _ts("locked_until"),
    )
    op.create_index("ix_reports_status", "reports", ["status"])
    op.create_table(
        "report_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=False),
        _ts("created_at", nullable=False),
        sa.Column("author", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
    )
    op.create_index("ix_report_messages_report_id", "report_messages", ["report_id"])
    op.create_table(
        "report_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        _ts("sent_at", nullable=False),
        sa.Column("message_ref", sa.String(200), nullable=True),
        sa.UniqueConstraint("report_id", "kind", name="uq_report_notices_report_id_kind"),
    )
    op.create_index("ix_report_notices_report_id", "report_notices", ["report_id"])


def downgrade() -> None:
    op.drop_table("report_notices")
    op.drop_table("report_messages")
    op.drop_table("reports")
