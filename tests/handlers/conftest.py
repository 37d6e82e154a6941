"""The desk fixtures the escalation and desk flow tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core import Core, build_core
from tests.handlers.messenger import DESK_CONFIG, Clock, DeskHarness, RecordingMessenger, jst


@pytest.fixture
def desk_core(database, make_settings) -> Iterator[Core]:  # type: ignore[no-untyped-def]
    core = build_core(make_settings(DESK_CONFIG, DATABASE_URL=database.url))
    try:
        yield core
    finally:
        core.database.dispose()


@pytest.fixture
def desk(desk_core: Core) -> DeskHarness:
    return DeskHarness(desk_core, RecordingMessenger(), Clock(jst(2026, 11, 24, 10, 0)))
