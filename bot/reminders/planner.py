"""What is due: the planning sweep turns definitions and the clock into delivery rows.

It keeps a cursor per reminder, so after downtime it sees the occurrences it missed and plans
the latest one, once (a backlog of stale reminders would teach people to ignore them). Rows are
inserted with ON CONFLICT DO NOTHING against the (reminder, occurrence, recipient) key, so a
sweep repeated after a crash, or racing another instance, adds nothing twice.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.audit import SYSTEM, AuditTrail
from bot.db import Database, rowcount
from bot.reminders.definitions import Reminder
from bot.reminders.models import (
    PENDING,
    SENT,
    ReminderClock,
    ReminderCursor,
    ReminderDelivery,
    ReminderOccurrence,
    as_utc,
    occurrence_key,
)
from bot.reminders.ports import Directory

log = logging.getLogger(__name__)


class RosterError(Exception):
    """The audience cannot be resolved now (no directory, platform error); retried next sweep."""


def insert_ignore(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING, on PostgreSQL and SQLite alike."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(rows), 1000):
        session.execute(insert(model).on_conflict_do_nothing(), rows[start:start + 1000])


@dataclass
class PlanResult:
    """New rows per reminder id, for logs and tests."""

    deliveries: dict[str, int] = field(default_factory=dict)
    followups: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class Planner:
    def __init__(self, database: Database, audit: AuditTrail, reminders: Iterable[Reminder],
                 directories: Mapping[str, Directory], *, directory_refresh_s: float) -> None:
        self.database = database
        self.audit = audit
        self.reminders = [r for r in reminders if r.enabled]
        self.directories = directories
        self.directory_refresh = timedelta(seconds=directory_refresh_s)

    # -- audiences ---------------------------------------------------------------------------

    def roster(self, reminder: Reminder) -> list[tuple[str, str]]:
        """(recipient, kind) pairs: the channel itself for a broadcast, else one per person."""
        audience = reminder.audience
        if reminder.broadcast:
            assert audience.channel is not None
            return [(audience.channel, "channel")]
        if audience.users is not None:
            return [(user, "user") for user in dict.fromkeys(audience.users)]
        platform = audience.platform
        assert platform is not None
        directory = self.directories.get(platform)
        if directory is None:
            raise RosterError(f"no directory for platform {platform!r}")
        try:
            members = directory.members(audience)
        except Exception as exc:  # a platform outage must not stop the other reminders
            raise RosterError(f"{audience.describe()}: {exc}") from exc
        return [(f"{platform}:{member}", "user") for member in dict.fromkeys(members)]

    # -- the sweep ---------------------------------------------------------------------------

    def plan(self, now: datetime) -> PlanResult:
        result = PlanResult()
        for reminder in self.reminders:
            try:
                if reminder.is_interval:
                    added = self._plan_interval(reminder, now)
                else:
                    added = self._plan_cron(reminder, now)
            except RosterError as exc:
                log.warning("reminder %s: audience not resolved, retrying next sweep: %s",
                            reminder.id, exc)
                result.errors[reminder.id] = str(exc)
                continue
            if added:
                result.deliveries[reminder.id] = added
            if reminder.follow_up is not None:
                queued = self._queue_followups(reminder, now)
                if queued:
                    result.followups[reminder.id] = queued
        return result

    def plan_now(self, reminder: Reminder, now: datetime, actor: str) -> tuple[str, int]:
        """An unscheduled occurrence (`reminders send ID --now`): planned like a cron one."""
        roster = self.roster(reminder)
        key = occurrence_key(now)
        with self.database.transaction() as session:
            added = self._expand(session, reminder, key, now, roster, now, actor=actor)
        return key, added

    # -- cron reminders ----------------------------------------------------------------------

    def _plan_cron(self, reminder: Reminder, now: datetime) -> int:
        with self.database.transaction() as session:
            cursor = session.get(ReminderCursor, reminder.id)
            if cursor is None:
                # First sight of a definition: it starts now, it does not replay history.
                session.add(ReminderCursor(reminder_id=reminder.id, planned_until=now))
                return 0
            since = as_utc(cursor.planned_until)
            fire = reminder.schedule.latest_between(since, now)
            if fire is None:
                cursor.planned_until = max(since, now)
                return 0
        roster = self.roster(reminder)  # outside any transaction: it calls the platform
        with self.database.transaction() as session:
            cursor = session.get(ReminderCursor, reminder.id, with_for_update=True)
            assert cursor is not None
            if as_utc(cursor.planned_until) >= fire:  # another sweep planned it meanwhile
                return 0
            added = self._expand(session, reminder, occurrence_key(fire), fire, roster, now)
            cursor.planned_until = now
        return added

    def _expand(self, session: Session, reminder: Reminder, key: str, scheduled: datetime,
                roster: list[tuple[str, str]], now: datetime, *, actor: str = SYSTEM) -> int:
        manual = actor != SYSTEM
        insert_ignore(session, ReminderOccurrence, [{
            "reminder_id": reminder.id, "occurrence": key, "scheduled_for": scheduled,
            "planned_at": now, "recipients": len(roster), "manual": manual,
        }])
        before = self._count(session, reminder.id, key)
        insert_ignore(session, ReminderDelivery, [
            self._row(reminder.id, key, recipient, kind, now) for recipient, kind in roster
        ])
        added = self._count(session, reminder.id, key) - before
        self.audit.record(
            session, actor=actor, action="reminder.occurrence_planned",
            subject=f"reminder:{reminder.id}:{key}",
            details={"scheduled_for": occurrence_key(scheduled), "recipients": len(roster),
                     "new_deliveries": added, "manual": manual,
                     "audience": reminder.audience.describe()},
        )
        log.info("reminder %s occurrence %s: %d deliveries planned", reminder.id, key, added)
        return added

    @staticmethod
    def _count(session: Session, reminder_id: str, key: str) -> int:
        return session.execute(
            select(func.count()).select_from(ReminderDelivery).where(
                ReminderDelivery.reminder_id == reminder_id, ReminderDelivery.occurrence == key)
        ).scalar_one()

    @staticmethod
    def _row(reminder_id: str, key: str, recipient: str, kind: str,
             now: datetime) -> dict[str, Any]:
        return {
            "reminder_id": reminder_id, "occurrence": key, "recipient": recipient, "kind": kind,
            "token": secrets.token_hex(4), "state": PENDING, "round": 0, "attempts": 0,
            "due_at": now, "round_since": now, "in_doubt": False, "created_at": now,
        }

    # -- every-N-days reminders --------------------------------------------------------------

    def _plan_interval(self, reminder: Reminder, now: datetime) -> int:
        assert reminder.schedule.every_days is not None
        interval = timedelta(days=reminder.schedule.every_days)
        with self.database.transaction() as session:
            cursor = session.get(ReminderCursor, reminder.id)
            checked = cursor.audience_checked_at if cursor else None
        if checked is None or now - as_utc(checked) >= self.directory_refresh:
            try:
                self._refresh_clocks(reminder, self.roster(reminder), now, interval)
            except RosterError as exc:  # those already known are still reminded when due
                log.warning("reminder %s: audience not refreshed: %s", reminder.id, exc)
        with self.database.transaction() as session:
            due = session.execute(
                select(ReminderClock).where(
                    ReminderClock.reminder_id == reminder.id,
                    ReminderClock.active.is_(True),
                    ReminderClock.due_at <= now,
                    or_(ReminderClock.planned_due_at.is_(None),
                        ReminderClock.planned_due_at != ReminderClock.due_at),
                ).with_for_update()
            ).scalars().all()
            if not due:
                return 0
            insert_ignore(session, ReminderDelivery, [
                self._row(reminder.id, occurrence_key(clock.due_at), clock.recipient, "user", now)
                for clock in due
            ])
            for clock in due:
                clock.planned_due_at = clock.due_at
            self.audit.record(
                session, actor=SYSTEM, action="reminder.cycles_due",
                subject=f"reminder:{reminder.id}", details={"deliveries": len(due)},
            )
        log.info("reminder %s: %d people due", reminder.id, len(due))
        return len(due)

    def _refresh_clocks(self, reminder: Reminder, roster: list[tuple[str, str]],
                        now: datetime, interval: timedelta) -> None:
        """New members start their clock today; those who left stop being reminded."""
        members = {recipient for recipient, _ in roster}
        with self.database.transaction() as session:
            clocks = {clock.recipient: clock for clock in session.execute(
                select(ReminderClock).where(ReminderClock.reminder_id == reminder.id)
            ).scalars()}
            new = sorted(members - set(clocks))
            insert_ignore(session, ReminderClock, [
                {"reminder_id": reminder.id, "recipient": recipient, "anchor_at": now,
                 "due_at": now + interval, "planned_due_at": None, "active": True}
                for recipient in new
            ])
            left = returned = 0
            for recipient, clock in clocks.items():
                if clock.active and recipient not in members:
                    clock.active, left = False, left + 1
                elif not clock.active and recipient in members:
                    clock.active, returned = True, returned + 1
            cursor = session.get(ReminderCursor, reminder.id, with_for_update=True)
            if cursor is None:
                session.add(ReminderCursor(reminder_id=reminder.id, planned_until=now,
                                           audience_checked_at=now))
            else:
                cursor.audience_checked_at = now
            if new or left or returned:
                self.audit.record(
                    session, actor=SYSTEM, action="reminder.audience_refreshed",
                    subject=f"reminder:{reminder.id}",
                    details={"started": len(new), "stopped": left, "resumed": returned},
                )

    # -- follow-ups --------------------------------------------------------------------------

    def _queue_followups(self, reminder: Reminder, now: datetime) -> int:
        """Sent, not acknowledged, follow-up due: the same row goes back to pending, next round."""
        assert reminder.follow_up is not None
        with self.database.transaction() as session:
            result = session.execute(
                update(ReminderDelivery).where(and_(
                    ReminderDelivery.reminder_id == reminder.id,
                    ReminderDelivery.state == SENT,
                    ReminderDelivery.acknowledged_at.is_(None),
                    ReminderDelivery.followup_at <= now,
                    ReminderDelivery.round < reminder.follow_up.max_times,
                )).values(
                    state=PENDING, round=ReminderDelivery.round + 1, attempts=0, due_at=now,
                    round_since=now, in_doubt=False, followup_at=None,
                ).execution_options(synchronize_session=False)
            )
            queued = rowcount(result)
            if queued:
                self.audit.record(
                    session, actor=SYSTEM, action="reminder.followups_queued",
                    subject=f"reminder:{reminder.id}", details={"deliveries": queued},
                )
        return queued
