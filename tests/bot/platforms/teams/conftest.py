"""Fixtures: the loopback Microsoft side, and the bot's real Teams endpoint in front of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core import Core
from tests.bot.platforms.teams.harness import TeamsHarness
from tests.teams_api import FakeTeams


@pytest.fixture
def teams(core: Core, teams_api: FakeTeams) -> Iterator[TeamsHarness]:
    harness = TeamsHarness(core, teams_api)
    try:
        yield harness
    finally:
        harness.close()
