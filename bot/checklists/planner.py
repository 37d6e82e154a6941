"""The plan sweep: scheduled runs, follow-ups and the overdue escalation, from the database.

- A schedule keeps a cursor, as a reminder does: after downtime the latest missed date is
  started once; the run's key is the schedule and the date, so a sweep repeated after a crash
  or racing another instance starts nothing twice.
- A follow-up is a message row numbered by the assignment's follow-up count, queued in the
  transaction that counts it: each is queued once.
- An overdue checklist (past due, its follow-ups spent) gets one escalation to the desk: the
  escalation, the link that makes it unique and the audit event commit together.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audit import SYSTEM
from bot.checklists.definitions import Checklist
from bot.checklists.models import (
    CONFIRMED,
    REMIND,
    REMIND_REVIEW,
    SUBMITTED,
    WAITING_FOR_PERSON,
    ChecklistAssignment,
    ChecklistCursor,
    ChecklistRun,
)
from bot.checklists.rows import StartRow
from bot.checklists.service import ChecklistService, as_utc, definition_of, escalated_overdue
from bot.checklists.settings import DESK, ChecklistSchedule
from bot.reminders.definitions import Audience, Schedule
from bot.reminders.models import occurrence_key
from bot.reminders.ports import Directory

log = logging.getLogger(__name__)
BATCH = 200


class RosterError(Exception):
    """The audience cannot be resolved now; retried at the next sweep."""


@dataclass
class PlanResult:
    started: dict[str, int] = field(default_factory=dict)  # schedule -> people
    followups: int = 0
    escalated: list[int] = field(default_factory=list)  # assignment ids
    escalations: list[int] = field(default_factory=list)  # escalation ids, to publish
    errors: dict[str, str] = field(default_factory=dict)


class Planner:
    def __init__(self, service: ChecklistService, schedules: tuple[ChecklistSchedule, ...],
                 directories: Mapping[str, Directory]) -> None:
        self.service = service
        self.database = service.database
        self.schedules = [s for s in schedules if s.enabled]
        self.directories = directories

    def plan(self, now: datetime) -> PlanResult:
        result = PlanResult()
        for schedule in self.schedules:
            try:
                started = self._plan_schedule(schedule, now)
            except RosterError as exc:
                log.warning("checklist schedule %s: audience not resolved, retrying next "
                            "sweep: %s", schedule.name, exc)
                result.errors[schedule.name] = str(exc)
                continue
            if started:
                result.started[schedule.name] = started
        result.followups = self.follow_up(now)
        self.escalate_overdue(now, result)
        return result

    # -- schedules ---------------------------------------------------------------------------

    def roster(self, schedule: ChecklistSchedule) -> list[str]:
        audience = Audience.model_validate(schedule.audience)
        if audience.users is not None:
            return list(dict.fromkeys(audience.users))
        platform = audience.platform
        assert platform is not None
        directory = self.directories.get(platform)
        if directory is None:
            raise RosterError(f"no directory for platform {platform!r}")
        try:
            members = directory.members(audience)
        except Exception as exc:  # a platform outage must not stop the other schedules
            raise RosterError(f"{audience.describe()}: {exc}") from exc
        return [f"{platform}:{member}" for member in dict.fromkeys(members)]

    def _plan_schedule(self, schedule: ChecklistSchedule, now: datetime) -> int:
        checklist = self.service.checklists.get(schedule.checklist)
        if checklist is None or not checklist.enabled:
            return 0
        cron = Schedule(cron=schedule.crontab(), timezone=schedule.timezone)
        with self.database.transaction() as session:
            cursor = session.get(ChecklistCursor, schedule.name)
            if cursor is None:  # first sight: it starts now, it does not replay history
                session.add(ChecklistCursor(schedule=schedule.name, planned_until=now))
                return 0
            since = as_utc(cursor.planned_until)
        fire = cron.latest_between(since, now)
        if fire is None:
            with self.database.transaction() as session:
                cursor = session.get(ChecklistCursor, schedule.name, with_for_update=True)
                if cursor is not None and as_utc(cursor.planned_until) < now:
                    cursor.planned_until = now
            return 0
        people = self.roster(schedule)  # outside any transaction: it calls the platform
        rows = [StartRow(person, DESK if person == schedule.confirmer else schedule.confirmer,
                         where=f"{schedule.name}:{person}")
                for person in people]
        if checklist.confirmer == DESK:
            rows = [StartRow(row.person, DESK, where=row.where) for row in rows]
        with self.database.transaction() as session:
            cursor = session.get(ChecklistCursor, schedule.name, with_for_update=True)
            assert cursor is not None
            if as_utc(cursor.planned_until) >= fire:  # another sweep planned it meanwhile
                return 0
            started = self.service.start(
                checklist.id, rows, key=f"{schedule.name}@{occurrence_key(fire)}",
                source="schedule", actor=SYSTEM, session=session)
            cursor.planned_until = now
        return started.people if started.created else 0

    # -- follow-ups --------------------------------------------------------------------------

    def follow_up(self, now: datetime) -> int:
        """Whoever a checklist waits for, reminded when their follow-up is due."""
        queued = 0
        while True:
            with self.database.transaction() as session:
                rows = session.execute(
                    select(ChecklistAssignment, ChecklistRun)
                    .join(ChecklistRun, ChecklistRun.id == ChecklistAssignment.run_id)
                    .where(ChecklistAssignment.state != CONFIRMED,
                           ChecklistAssignment.next_followup_at <= now)
                    .order_by(ChecklistAssignment.id).limit(BATCH)
                    .with_for_update(of=ChecklistAssignment)).all()
                if not rows:
                    return queued
                for assignment, run in rows:
                    self._queue_followup(session, assignment, definition_of(run), now)
                    queued += 1
                self.service.audit.record(
                    session, actor=SYSTEM, action="checklist.followups_queued",
                    subject="checklist_assignments",
                    details={"assignments": [a.id for a, _ in rows]})

    def _queue_followup(self, session: Session, assignment: ChecklistAssignment,
                        checklist: Checklist, now: datetime) -> None:
        policy = checklist.follow_up
        if policy is None or assignment.followups >= policy.max_times:
            assignment.next_followup_at = None
            return
        assignment.followups += 1
        assignment.prompts += 1
        if assignment.state in WAITING_FOR_PERSON:
            self.service.queue(session, assignment, REMIND, assignment.prompts,
                               assignment.person, now)
        elif assignment.state == SUBMITTED:
            self.service.queue(session, assignment, REMIND_REVIEW, assignment.prompts,
                               assignment.confirmer, now)
        assignment.next_followup_at = (now + timedelta(days=policy.after_days)
                                       if assignment.followups < policy.max_times else None)

    # -- overdue -----------------------------------------------------------------------------

    def escalate_overdue(self, now: datetime, result: PlanResult) -> None:
        """Past due with its follow-ups spent (none pending) and not yet escalated: one
        escalation each, once."""
        last = 0
        while True:
            with self.database.transaction() as session:
                rows = session.execute(
                    select(ChecklistAssignment, ChecklistRun)
                    .join(ChecklistRun, ChecklistRun.id == ChecklistAssignment.run_id)
                    .where(ChecklistAssignment.state != CONFIRMED,
                           ChecklistAssignment.due_at <= now,
                           ChecklistAssignment.escalated_at.is_(None),
                           ChecklistAssignment.next_followup_at.is_(None),
                           ChecklistAssignment.id > last)
                    .order_by(ChecklistAssignment.id).limit(BATCH)
                    .with_for_update(of=ChecklistAssignment)).all()
                for assignment, run in rows:
                    if not definition_of(run).escalate_overdue:
                        continue
                    number = escalated_overdue(session, self.service, assignment, run, now)
                    result.escalated.append(assignment.id)
                    if number is not None:
                        result.escalations.append(number)
            if len(rows) < BATCH:
                return
            last = rows[-1][0].id
