"""Escalations to the compliance desk.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), primary_key=True),
        _when("created_at"),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("requester_name", sa.String(128), nullable=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("dm_user", sa.String(255), nullable=False),
        sa.Column("lang", sa.String(2), nullable=False),
        sa.Column("question_id", sa.Integer(), sa.ForeignKey("questions.id"), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("urgency", sa.String(8), nullable=False),
        sa.Column("bot_entry_id", sa.String(128), nullable=True),
        sa.Column("bot_score", sa.Float(), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(300), nullable=False),
        sa.Column("route", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _when("status_since"),
        sa.Column("owner", sa.String(300), nullable=True),
        sa.Column("owner_name", sa.String(128), nullable=True),
        _when("owner_since", nullable=True),
        _when("first_response_due"),
        _when("resolution_due"),
        _when("first_response_at", nullable=True),
        _when("resolved_at", nullable=True),
        sa.Column("warned_first_response", sa.Boolean(), nullable=False),
        sa.Column("warned_resolution", sa.Boolean(), nullable=False),
        sa.Column("triage_channel", sa.String(255), nullable=True),
        sa.Column("triage_message", sa.String(255), nullable=True),
        sa.Column("dm_channel", sa.String(255), nullable=True),
        sa.Column("dm_thread", sa.String(255), nullable=True),
    )
    op.create_index("ix_escalations_created_at", "escalations", ["created_at"])
    op.create_index("ix_escalations_requester", "escalations", ["requester"])
    op.create_index("ix_escalations_channel", "escalations", ["channel"])
    op.create_index("ix_escalations_status", "escalations", ["status"])
    # Every threaded DM asks whether it answers an escalation.
    op.create_index("ix_escalations_dm_thread", "escalations", ["dm_thread"])
    op.create_table(
        "escalation_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("escalation_id", sa.Integer(), sa.ForeignKey("escalations.id"),
                  nullable=False),
        _when("at"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_escalation_messages_escalation_id", "escalation_messages",
                    ["escalation_id"])


def downgrade() -> None:
    op.drop_table("escalation_messages")
    op.drop_table("escalations")
