"""The checklists migration creates exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import bot.checklists.models  # noqa: F401  (registers the tables on Base.metadata)
from bot.models import Base


def test_migration_matches_the_models(database):
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    ours = [d for d in differences if "checklist_" in repr(d)]
    assert ours == []
