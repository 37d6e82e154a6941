from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core import Core, build_core
from bot.db import Database
from tests.bot.reminders.fakes import reminder_settings


@pytest.fixture
def rcore(database: Database, make_settings) -> Iterator[Core]:  # type: ignore[no-untyped-def]
    """A core whose settings name the shipped reminder definitions."""
    core = build_core(reminder_settings(make_settings, database.url))
    try:
        yield core
    finally:
        core.database.dispose()
