"""Scheduled reminders, deliveries and acknowledgements.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reminder_occurrences",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reminder_id", sa.String(100), nullable=False),
        sa.Column("occurrence", sa.String(32), nullable=False),
        _ts("scheduled_for", nullable=False),
        _ts("planned_at", nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("reminder_id", "occurrence",
                            name="uq_reminder_occurrences_reminder_occurrence"),
    )
    op.create_table(
        "reminder_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reminder_id", sa.String(100), nullable=False),
        sa.Column("occurrence", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(160), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("token", sa.String(16), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("due_at", nullable=False),
        _ts("round_since", nullable=False),
        sa.Column("in_doubt", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        _ts("claimed_at"),
        _ts("first_sent_at"),
        _ts("last_sent_at"),
        _ts("followup_at"),
        _ts("acknowledged_at"),
        sa.Column("message_channel", sa.String(64), nullable=True),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        _ts("created_at", nullable=False),
        sa.UniqueConstraint("reminder_id", "occurrence", "recipient",
                            name="uq_reminder_deliveries_once"),
    )
    op.create_index("ix_reminder_deliveries_state_due", "reminder_deliveries",
                    ["state", "due_at"])
    op.create_index("ix_reminder_deliveries_followup", "reminder_deliveries",
                    ["state", "followup_at"])
    op.create_index("ix_reminder_deliveries_recipient", "reminder_deliveries", ["recipient"])
    op.create_table(
        "reminder_acks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reminder_id", sa.String(100), nullable=False),
        sa.Column("occurrence", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(160), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        _ts("acknowledged_at", nullable=False),
        sa.UniqueConstraint("reminder_id", "occurrence", "recipient",
                            name="uq_reminder_acks_once"),
    )
    op.create_table(
        "reminder_clocks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reminder_id", sa.String(100), nullable=False),
        sa.Column("recipient", sa.String(160), nullable=False),
        _ts("anchor_at", nullable=False),
        _ts("due_at", nullable=False),
        _ts("planned_due_at"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("reminder_id", "recipient", name="uq_reminder_clocks_person"),
    )
    op.create_index("ix_reminder_clocks_due", "reminder_clocks", ["reminder_id", "due_at"])
    op.create_table(
        "reminder_cursors",
        sa.Column("reminder_id", sa.String(100), primary_key=True),
        _ts("planned_until", nullable=False),
        _ts("audience_checked_at"),
    )
    leases = op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=True),
        _ts("expires_at", nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
    )
    op.bulk_insert(leases, [{"name": "reminders", "holder": None,
                             "expires_at": datetime(2000, 1, 1, tzinfo=UTC), "generation": 0}])


def downgrade() -> None:
    op.drop_table("scheduler_leases")
    op.drop_table("reminder_cursors")
    op.drop_table("reminder_clocks")
    op.drop_table("reminder_acks")
    op.drop_table("reminder_deliveries")
    op.drop_table("reminder_occurrences")
