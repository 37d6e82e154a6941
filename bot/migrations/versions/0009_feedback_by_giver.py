"""Ratings found by question and giver: the rating press's "same as last time?" read.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_feedback_question_giver", "feedback", ["question_id", "giver", "id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_question_giver", table_name="feedback")
