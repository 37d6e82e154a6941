"""A core with the shipped checklists, the desk of tests.handlers.messenger and a clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.checklists.definitions import load_checklists
from bot.checklists.service import ChecklistService
from bot.core import Core, build_core
from tests.bot.reminders.fakes import FakeClock
from tests.handlers.messenger import DESK_CONFIG, PLATFORM, RecordingMessenger

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "knowledge" / "checklists"
HR = f"{PLATFORM}:HR1"
TARO, SATO, HANAKO = f"{PLATFORM}:U0TARO", f"{PLATFORM}:U0SATO", f"{PLATFORM}:U0HANAKO"


def checklist_config(path: Path = SHIPPED, *, desk: str = DESK_CONFIG,
                     **overrides: object) -> str:
    values: dict[str, object] = {
        "path": str(path), "starters": f"[{HR}]", "rate_per_second": 1000, "burst": 1000,
        "workers": 2, "lease_ttl_s": 60, "post_timeout_s": 10, "max_attempts": 3, **overrides}
    section = "\n".join(f"  {key}: {value}" for key, value in values.items())
    return desk + f"checklists:\n{section}\n"


def platform_desk(platform: str, member: str, channel: str) -> str:
    """A desk of one member and one channel on a real platform's ids."""
    return (f"company:\n  desk: {{ja: '#compliance-desk（行為規制相談窓口）', "
            f"en: '#compliance-desk'}}\n"
            f"desk:\n  members: ['{platform}:{member}']\n"
            f"  default_channel: '{platform}:{channel}'\n")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2027, 4, 1, 1, 0, tzinfo=UTC))  # 10:00 in Tokyo


@pytest.fixture
def ccore(database, make_settings) -> Iterator[Core]:  # type: ignore[no-untyped-def]
    core = build_core(make_settings(checklist_config(), DATABASE_URL=database.url))
    try:
        yield core
    finally:
        core.database.dispose()


def service_for(core: Core, clock: FakeClock) -> ChecklistService:
    definitions = load_checklists(core.settings.file.checklists.path)
    return ChecklistService.for_core(core, definitions.by_id(), clock=clock)


@pytest.fixture
def desk_messenger(ccore: Core) -> RecordingMessenger:
    """The platform the flows post to first (the desk's triage cards)."""
    messenger = RecordingMessenger()
    ccore.messengers[PLATFORM] = messenger
    return messenger


@pytest.fixture
def service(ccore: Core, clock: FakeClock, desk_messenger: RecordingMessenger
            ) -> ChecklistService:
    return service_for(ccore, clock)
