"""Mailbox key checks per person and window, shared by every instance (bot.reports.service).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_checks",
        sa.Column("bucket", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_key_checks_expires_at", "key_checks", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_key_checks_expires_at", table_name="key_checks")
    op.drop_table("key_checks")
