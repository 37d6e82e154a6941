"""A yearly terminal inventory to 2,000 people, on the clock the test moves: each person gets
it once across two instances and a restart midway; those who do not answer are followed up
as often as the checklist says, then escalated to the desk once."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.checklists.models import ChecklistAssignment, ChecklistEscalation, ChecklistMessage
from bot.checklists.scheduler import ChecklistScheduler
from bot.checklists.service import Answer, ChecklistService
from bot.core import Core, build_core
from bot.escalations.models import Escalation
from bot.messages import User
from bot.models import AuditEvent
from tests.bot.checklists.conftest import checklist_config, service_for
from tests.bot.reminders.fakes import (
    Died,
    FakeClock,
    FakeTime,
    ProcessMessenger,
    RecordingMessenger,
    StaticDirectory,
)

PEOPLE = [f"U{n:04d}" for n in range(2000)]
INFO = "UINFO01"  # the information manager who confirms
SCHEDULE = f"""[{{checklist: terminal-inventory, yearly: "06-01", at: "10:00",
    audience: {{all_members: slack}}, confirmer: "slack:{INFO}"}}]"""
START = datetime(2027, 5, 31, 0, 0, tzinfo=UTC)
FIRE = datetime(2027, 6, 1, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo


def _instance(core: Core, clock: FakeClock, messenger, platform: RecordingMessenger,  # type: ignore[no-untyped-def]
              holder: str) -> tuple[ChecklistScheduler, ChecklistService]:
    service = service_for(core, clock)
    time_ = FakeTime()
    scheduler = ChecklistScheduler(
        service, {"slack": messenger}, company=core.company_values,
        directories={"slack": StaticDirectory(PEOPLE)},
        lookups={"slack": platform}, clock=clock, holder=holder,
        monotonic=time_.monotonic, sleep=time_.sleep)
    return scheduler, service


def _sweep_until_dead(scheduler: ChecklistScheduler) -> bool:
    """Sweep until nothing is left or the instance is killed; True if it died."""
    try:
        for _ in range(200):
            _, sent = scheduler.sweep()
            if sent is None or not sent.outcomes:
                return False
    except Died:
        return True
    return False


def _count(core: Core, model, *where) -> int:  # type: ignore[no-untyped-def]
    with core.database.transaction() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_yearly_inventory_reaches_2000_people_once_then_follows_up_and_escalates(
        database, make_settings):
    settings = make_settings(checklist_config(schedules=SCHEDULE, workers=4, lease_ttl_s=60,
                                              post_timeout_s=10),
                             DATABASE_URL=database.url)
    core_a, core_b = build_core(settings), build_core(settings)
    platform = RecordingMessenger()
    clock = FakeClock(START)
    try:
        a, _ = _instance(core_a, clock, ProcessMessenger(platform, die_after=700), platform, "a")
        b, _ = _instance(core_b, clock, ProcessMessenger(platform, die_after=600), platform, "b")
        a.sweep()  # the schedule is first seen: it starts then, it replays nothing
        assert _count(core_a, ChecklistAssignment) == 0
        clock.set(FIRE + timedelta(minutes=5))
        assert _sweep_until_dead(a)  # a plans the run, sends 700, and is killed
        assert b.sweep() == (None, None)  # a's lease still runs: b waits
        clock.advance(seconds=61)
        assert _sweep_until_dead(b)  # b takes over, finishes a's in-doubt batch, is killed
        platform.revive()
        clock.advance(seconds=61)
        restarted, service = _instance(core_a, clock, ProcessMessenger(platform), platform,
                                       "a-restarted")
        assert not _sweep_until_dead(restarted)  # a again, after a restart: the rest
        assert not _sweep_until_dead(b)  # and b, alive again, finds nothing to do
        counts = Counter(platform.received())
        assert set(counts) == set(PEOPLE)
        assert max(counts.values()) == 1, [p for p, n in counts.items() if n > 1][:5]
        assert platform.lookups >= 1  # the in-doubt batches were looked up, not resent
        assert _count(core_a, ChecklistAssignment) == len(PEOPLE)

        # Two people answer and are confirmed; one answers and waits for the confirmer.
        confirmer = User("slack", INFO)
        with core_a.database.transaction() as session:
            first = {a.person: a for a in session.execute(
                sa.select(ChecklistAssignment).where(ChecklistAssignment.person.in_(
                    ["slack:U0000", "slack:U0001", "slack:U0002"]))).scalars()}
        for person, assignment in sorted(first.items()):
            answers = [Answer("asset-tag", value="PC-0001"), Answer("location", value="本店3F"),
                       Answer("matches-register", "yes"), Answer("set-up-for-my-company", "yes")]
            user = User("slack", person.partition(":")[2])
            assert service.submit(user, assignment.id, 0, assignment.token, answers).result.value \
                == "done"
            if person != "slack:U0002":
                service.confirm(confirmer, assignment.id, 1, assignment.token)

        # Follow-ups: every 7 days, at most twice, to whoever each checklist waits for.
        for week in (1, 2, 3):
            clock.set(FIRE + timedelta(days=7 * week, minutes=10))
            assert not _sweep_until_dead(restarted)
        counts = Counter(platform.received())
        assert counts[PEOPLE[-1]] == 3  # the inventory and two follow-ups
        assert counts["U0000"] == counts["U0001"] == 2  # the inventory, confirmed
        assert counts["U0002"] == 1  # the inventory; now it waits for the confirmer
        # The confirmer acted on the first two before their reviews' turn came (skipped, not
        # sent); the third review went out, then its two follow-ups.
        assert counts[INFO] == 1 + 2
        assert _count(core_a, Escalation) == 0  # not due yet (30 days)

        # Due: each one still open is escalated once, however often the sweep runs.
        clock.set(FIRE + timedelta(days=30, minutes=10))
        restarted.sweep()
        b.sweep()
        clock.advance(hours=1)
        restarted.sweep()
        assert _count(core_a, Escalation) == len(PEOPLE) - 2
        assert _count(core_a, ChecklistEscalation) == len(PEOPLE) - 2
        with core_a.database.transaction() as session:
            waiting = session.execute(sa.select(Escalation.dm_user).where(
                Escalation.dm_user.in_(["U0002", INFO]))).scalars().all()
            events = session.execute(sa.select(AuditEvent.details).where(
                AuditEvent.action == "checklist.overdue_escalated")).scalars().all()
        assert waiting == [INFO]  # U0002's checklist waits for the confirmer: they are named
        assert len(events) == len(PEOPLE) - 2
        assert {json.loads(e)["followups"] for e in events} == {2}
        assert _count(core_a, ChecklistMessage, ChecklistMessage.state == "pending") == 0
        [status] = service.status()
        assert (status.people, status.done, status.waiting_for_confirmer) == (2000, 2, 1)
        assert len(status.overdue) == 1998
        assert {o["escalated"] for o in status.overdue} == {"yes"}
    finally:
        core_a.database.dispose()
        core_b.database.dispose()
