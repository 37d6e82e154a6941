"""The outbox sender: the reminders' delivery, for checklist messages.

A message row moves pending -> sending (claimed, committed) -> sent, exactly as a reminder
delivery does, under a lease of its own ("checklists") and paced by the reminders' token
bucket; a 429's Retry-After pauses every worker. A sender that dies leaves rows in `sending`:
whoever holds the lease next marks them in doubt, and an in-doubt row is looked up on the
platform by the reference every message carries (`参照番号 C…`) before it is sent again (sent
again where the platform cannot look, as Teams: at least once). A message whose moment has
passed when its turn comes (a follow-up of a checklist already answered, a review of answers
already sent back) is skipped, not sent.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, DateTime, Table, bindparam, select, update

from bot.audit import SYSTEM, AuditTrail
from bot.checklists.models import (
    ASK,
    CONFIRMED_NOTE,
    FAILED,
    PENDING,
    REMIND,
    REMIND_REVIEW,
    RETURNED_NOTE,
    REVIEW,
    SENDING,
    SENT,
    SKIPPED,
    SUBMITTED,
    WAITING_FOR_PERSON,
    ChecklistAssignment,
    ChecklistMessage,
    ChecklistRun,
)
from bot.checklists.views import Spell, render
from bot.clock import Clock
from bot.db import Database, rowcount
from bot.messages import Address, MessageRef, Messenger, MessengerError
from bot.metrics import CHECKLIST_MESSAGES
from bot.reminders.delivery import MAX_THROTTLES, Pacer, SendResult
from bot.reminders.lease import Lease
from bot.reminders.ports import PostedLookup

log = logging.getLogger(__name__)

LEASE_NAME = "checklists"


@dataclass(frozen=True)
class Job:
    """A claimed row, detached from its session so a worker thread can carry it."""

    id: int
    assignment_id: int
    purpose: str
    seq: int
    recipient: str
    kind: str
    token: str
    attempts: int
    in_doubt: bool
    created_at: datetime

    @property
    def marker(self) -> str:
        return f"C{self.id}-{self.token}"

    @property
    def address(self) -> Address:
        return Address("user" if self.kind == "user" else "channel",
                       self.recipient.partition(":")[2])

    @property
    def platform(self) -> str:
        return self.recipient.partition(":")[0]




def still_due(purpose: str, seq: int, assignment: ChecklistAssignment) -> bool:
    """Whether the message still says something true when its turn comes."""
    if purpose in (ASK, REMIND):
        return assignment.state in WAITING_FOR_PERSON
    if purpose == REVIEW:
        return assignment.state == SUBMITTED and assignment.round == seq
    if purpose == REMIND_REVIEW:
        return assignment.state == SUBMITTED
    return purpose in (RETURNED_NOTE, CONFIRMED_NOTE)


_TABLE = ChecklistMessage.__table__
assert isinstance(_TABLE, Table)
_ROW = _TABLE.c
_MARK_SENT = (
    update(_TABLE)
    .where(_ROW.id == bindparam("b_id"), _ROW.state == SENDING,
           _ROW.claimed_by == bindparam("b_holder"))
    .values(state=SENT, in_doubt=False, claimed_by=None, last_error=None,
            sent_at=bindparam("b_now", type_=DateTime(timezone=True)),
            message_channel=bindparam("b_channel"), message_id=bindparam("b_ts"))
)


class Sender:
    def __init__(self, database: Database, audit: AuditTrail,
                 messengers: Mapping[str, Messenger], lookups: Mapping[str, PostedLookup],
                 lease: Lease, *, company: Callable[[str], dict[str, str]], lang: str,
                 zone: ZoneInfo, spell: Spell, pacer: Pacer, workers: int,
                 post_timeout_s: float, max_attempts: int, clock: Clock,
                 batch_size: int | None = None) -> None:
        self.database = database
        self.audit = audit
        self.messengers = messengers
        self.lookups = lookups
        self.lease = lease
        self.company = company
        self.lang = lang
        self.zone = zone
        self.spell = spell
        self.pacer = pacer
        self.workers = workers
        self.post_timeout_s = post_timeout_s
        self.max_attempts = max_attempts
        self.clock = clock
        self.batch_size = batch_size or max(16, workers * 4)
        self._stopping = threading.Event()
        # "Sent" marks of the batch in flight, written in one transaction when it ends: a
        # commit per message would cap the sender at what the disk can fsync. A crash
        # before the write leaves the batch in doubt, which the look-up resolves.
        self._sent_marks: list[dict[str, object]] = []
        self._marks_lock = threading.Lock()

    def stop(self) -> None:
        self._stopping.set()

    # -- the sweep ---------------------------------------------------------------------------

    def send_due(self) -> SendResult:
        result = SendResult()
        if not self.lease.ensure(self.post_timeout_s):
            return result
        self.recover()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="checklist-send") as pool:
            while not self._stopping.is_set() and self.lease.ensure(self.post_timeout_s):
                jobs = self.claim(self.batch_size)
                if not jobs:
                    break
                loaded = self._load(jobs)
                try:
                    outcomes = list(pool.map(partial(self._deliver, loaded=loaded), jobs))
                finally:
                    self._flush_sent()
                result.outcomes.update(outcomes)
                self._audit_batch(outcomes)
        return result

    def recover(self) -> int:
        """Rows a dead or previous sender left in `sending`: their outcome is unknown."""
        with self.database.transaction() as session:
            moved = rowcount(session.execute(
                update(ChecklistMessage).where(ChecklistMessage.state == SENDING)
                .values(state=PENDING, in_doubt=True, claimed_by=None)
                .execution_options(synchronize_session=False)))
            if moved:
                self.audit.record(session, actor=SYSTEM, action="checklist.in_doubt_recovered",
                                  subject="checklist_messages", details={"messages": moved})
        if moved:
            log.warning("%d checklist messages were in flight when their sender stopped; "
                        "they will be checked before sending again", moved)
        return moved

    def claim(self, limit: int) -> list[Job]:
        now = self.clock()
        with self.database.transaction() as session:
            query = (select(ChecklistMessage.id)
                     .where(ChecklistMessage.state == PENDING, ChecklistMessage.due_at <= now)
                     .order_by(ChecklistMessage.due_at, ChecklistMessage.id).limit(limit))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(session.execute(query).scalars())
            if not ids:
                return []
            rows = session.execute(
                update(ChecklistMessage)
                .where(ChecklistMessage.id.in_(ids), ChecklistMessage.state == PENDING)
                .values(state=SENDING, claimed_by=self.lease.holder, claimed_at=now,
                        attempts=ChecklistMessage.attempts + 1)
                .returning(ChecklistMessage.id, ChecklistMessage.assignment_id,
                           ChecklistMessage.purpose, ChecklistMessage.seq,
                           ChecklistMessage.recipient, ChecklistMessage.kind,
                           ChecklistMessage.token, ChecklistMessage.attempts,
                           ChecklistMessage.in_doubt, ChecklistMessage.created_at)
                .execution_options(synchronize_session=False)).all()
        return sorted((Job(**row._asdict()) for row in rows), key=lambda job: job.id)

    def _load(self, jobs: list[Job]) -> dict[int, tuple[ChecklistAssignment, ChecklistRun]]:
        """The checklists a batch is about, read once for the batch."""
        with self.database.transaction() as session:
            rows = session.execute(
                select(ChecklistAssignment, ChecklistRun)
                .join(ChecklistRun, ChecklistRun.id == ChecklistAssignment.run_id)
                .where(ChecklistAssignment.id.in_({job.assignment_id for job in jobs}))).all()
        return {assignment.id: (assignment, run) for assignment, run in rows}

    # -- one row -----------------------------------------------------------------------------

    def _deliver(self, job: Job,
                 loaded: Mapping[int, tuple[ChecklistAssignment, ChecklistRun]]) -> str:
        try:
            return self._deliver_unguarded(job, loaded.get(job.assignment_id))
        except Exception:  # a bug for one row must not strand the batch in `sending`
            log.exception("checklist message %s failed unexpectedly", job.id)
            self._failed(job, "internal error", in_doubt=True)
            return "error"

    def _deliver_unguarded(self, job: Job,
                           about: tuple[ChecklistAssignment, ChecklistRun] | None) -> str:
        assignment, run = about if about is not None else (None, None)
        messenger = self.messengers.get(job.platform)
        if assignment is None or run is None or messenger is None:
            self._give_up(job, f"no messenger for platform {job.platform}"
                          if messenger is None else "checklist not found")
            return "failed"
        if not still_due(job.purpose, job.seq, assignment):
            self._finish(job, SKIPPED)
            return "skipped"
        if job.in_doubt:
            lookup = self.lookups.get(job.platform)
            if lookup is not None:
                try:
                    found = lookup.find_posted(job.address, job.marker,
                                               job.created_at - timedelta(minutes=1))
                except Exception as exc:
                    self._failed(job, f"lookup: {exc}", in_doubt=True)
                    return "error"
                if found is not None:
                    self._sent(job, found)
                    return "found"
            else:
                log.warning("checklist message %s: earlier attempt's outcome unknown and %s "
                            "cannot look it up; sending again", job.id, job.platform)
        reply = render(job.purpose, job.marker, assignment, run, lang=self.lang,
                       company=self.company, zone=self.zone, platform=job.platform,
                       spell=self.spell, followup=job.purpose in (REMIND, REMIND_REVIEW))
        for _ in range(MAX_THROTTLES):
            self.pacer.acquire()
            if self._stopping.is_set() or not self.lease.ensure(self.post_timeout_s):
                self._release(job)
                return "released"
            try:
                ref = messenger.post(job.address, reply)
            except MessengerError as exc:
                if exc.retry_after is not None:
                    self.pacer.pause(exc.retry_after)
                    continue
                self._failed(job, str(exc), in_doubt=True)
                return "error"
            except Exception as exc:  # a timeout or connection reset: the post may have landed
                self._failed(job, f"{type(exc).__name__}: {exc}", in_doubt=True)
                return "error"
            self._sent(job, ref)
            return "sent"
        self._release(job)
        return "throttled"

    # -- recording outcomes ------------------------------------------------------------------

    def _mine(self, job: Job) -> list[ColumnElement[bool]]:
        return [ChecklistMessage.id == job.id, ChecklistMessage.state == SENDING,
                ChecklistMessage.claimed_by == self.lease.holder]

    def _sent(self, job: Job, ref: MessageRef) -> None:
        with self._marks_lock:
            self._sent_marks.append({"b_id": job.id, "b_holder": self.lease.holder,
                                     "b_now": self.clock(), "b_channel": ref.channel[:64],
                                     "b_ts": ref.id[:64]})
        CHECKLIST_MESSAGES.labels(result="sent").inc()

    def _flush_sent(self) -> None:
        with self._marks_lock:
            marks, self._sent_marks = self._sent_marks, []
        if marks:
            with self.database.transaction() as session:
                session.execute(_MARK_SENT, marks)

    def _finish(self, job: Job, state: str) -> None:
        with self.database.transaction() as session:
            session.execute(
                update(ChecklistMessage).where(*self._mine(job))
                .values(state=state, claimed_by=None)
                .execution_options(synchronize_session=False))

    def _release(self, job: Job) -> None:
        """Not attempted after all (shutdown, lease running out, throttled): back to the queue."""
        with self.database.transaction() as session:
            session.execute(
                update(ChecklistMessage).where(*self._mine(job))
                .values(state=PENDING, claimed_by=None, attempts=ChecklistMessage.attempts - 1)
                .execution_options(synchronize_session=False))

    def _failed(self, job: Job, error: str, *, in_doubt: bool) -> None:
        if job.attempts >= self.max_attempts:
            self._give_up(job, error)
            return
        backoff = timedelta(seconds=min(300, 2 ** (job.attempts - 1)))
        with self.database.transaction() as session:
            session.execute(
                update(ChecklistMessage).where(*self._mine(job))
                .values(state=PENDING, claimed_by=None, in_doubt=in_doubt,
                        due_at=self.clock() + backoff, last_error=error[:200])
                .execution_options(synchronize_session=False))

    def _give_up(self, job: Job, error: str) -> None:
        with self.database.transaction() as session:
            changed = rowcount(session.execute(
                update(ChecklistMessage).where(*self._mine(job))
                .values(state=FAILED, claimed_by=None, last_error=error[:200])
                .execution_options(synchronize_session=False)))
            if changed:
                self.audit.record(session, actor=SYSTEM, action="checklist.message_failed",
                                  subject=f"checklist_message:{job.id}",
                                  details={"assignment": job.assignment_id,
                                           "purpose": job.purpose, "attempts": job.attempts,
                                           "error": error[:200]})
        if changed:
            CHECKLIST_MESSAGES.labels(result="failed").inc()
        log.error("checklist message %s given up after %d attempts: %s", job.id, job.attempts,
                  error[:200])

    def _audit_batch(self, outcomes: list[str]) -> None:
        """One audit event per batch: the rows themselves hold each send."""
        with self.database.transaction() as session:
            self.audit.record(session, actor=SYSTEM, action="checklist.batch_sent",
                              subject="checklist_messages", details=dict(Counter(outcomes)))
