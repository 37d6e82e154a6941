"""Checklists with a second confirmer: runs, a row per (run, person), the outbox of messages,
links to the desk's escalations and schedule cursors. The sender's lease is a row of
scheduler_leases ("checklists"), made by its first holder.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

# The revision and the one before it, in one place (renumbered if another lands first).
revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "checklist_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("checklist_id", sa.String(100), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("started_by", sa.String(128), nullable=False),
        _ts("started_at", nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.UniqueConstraint("checklist_id", "key", name="uq_checklist_runs_key"),
    )
    op.create_table(
        "checklist_assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("checklist_runs.id"), nullable=False),
        sa.Column("checklist_id", sa.String(100), nullable=False),
        sa.Column("person", sa.String(160), nullable=False),
        sa.Column("confirmer", sa.String(160), nullable=False),
        sa.Column("person_name", sa.String(128), nullable=True),
        sa.Column("confirmer_name", sa.String(128), nullable=True),
        sa.Column("token", sa.String(16), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=True),
        sa.Column("no_answers", sa.Integer(), nullable=False),
        _ts("due_at", nullable=False),
        _ts("stage_since", nullable=False),
        sa.Column("followups", sa.Integer(), nullable=False),
        sa.Column("prompts", sa.Integer(), nullable=False),
        _ts("next_followup_at"),
        _ts("submitted_at"),
        _ts("returned_at"),
        sa.Column("return_comment", sa.Text(), nullable=True),
        _ts("confirmed_at"),
        sa.Column("confirmed_by", sa.String(160), nullable=True),
        _ts("escalated_at"),
        _ts("created_at", nullable=False),
        sa.UniqueConstraint("run_id", "person", name="uq_checklist_assignments_person"),
    )
    op.create_index("ix_checklist_assignments_run_id", "checklist_assignments", ["run_id"])
    op.create_index("ix_checklist_assignments_person", "checklist_assignments",
                    ["person", "state"])
    op.create_index("ix_checklist_assignments_confirmer", "checklist_assignments",
                    ["confirmer", "state"])
    op.create_index("ix_checklist_assignments_followup", "checklist_assignments",
                    ["state", "next_followup_at"])
    op.create_table(
        "checklist_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assignment_id", sa.Integer(), sa.ForeignKey("checklist_assignments.id"),
                  nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(160), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("token", sa.String(16), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("due_at", nullable=False),
        sa.Column("in_doubt", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        _ts("claimed_at"),
        _ts("sent_at"),
        sa.Column("message_channel", sa.String(64), nullable=True),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        _ts("created_at", nullable=False),
        sa.UniqueConstraint("assignment_id", "purpose", "seq", "recipient",
                            name="uq_checklist_messages_once"),
    )
    op.create_index("ix_checklist_messages_assignment_id", "checklist_messages",
                    ["assignment_id"])
    op.create_index("ix_checklist_messages_state_due", "checklist_messages",
                    ["state", "due_at"])
    op.create_table(
        "checklist_escalations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assignment_id", sa.Integer(), sa.ForeignKey("checklist_assignments.id"),
                  nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), sa.ForeignKey("escalations.id"),
                  nullable=True),
        _ts("created_at", nullable=False),
        sa.UniqueConstraint("assignment_id", "reason", "item_id",
                            name="uq_checklist_escalations_once"),
    )
    op.create_index("ix_checklist_escalations_assignment_id", "checklist_escalations",
                    ["assignment_id"])
    op.create_table(
        "checklist_cursors",
        sa.Column("schedule", sa.String(100), primary_key=True),
        _ts("planned_until", nullable=False),
    )


def downgrade() -> None:
    op.execute("DELETE FROM scheduler_leases WHERE name = 'checklists'")
    op.drop_table("checklist_cursors")
    op.drop_table("checklist_escalations")
    op.drop_table("checklist_messages")
    op.drop_table("checklist_assignments")
    op.drop_table("checklist_runs")
