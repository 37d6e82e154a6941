"""Sending: claim due rows, pace the posts, honour Retry-After, and never send a row twice.

A row moves pending -> sending (claimed, in its own committed transaction) -> sent. A sender
that dies leaves rows in `sending`; whoever holds the lease next marks them in doubt, and an
in-doubt row is looked up on the platform (the message carries the row's marker) before it is
sent again. Errors without a Retry-After (timeouts, 5xx) are in doubt too: the platform may
have posted before failing. Where the platform offers no lookup, an in-doubt row is sent again
(at least once: a duplicate is better than a compliance reminder silently lost).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, DateTime, Table, bindparam, case, func, or_, select, update

from bot.audit import SYSTEM, AuditTrail
from bot.clock import Clock
from bot.db import Database, rowcount
from bot.i18n import t
from bot.messages import Address, Button, MessageRef, Messenger, MessengerError, Reply
from bot.metrics import REMINDER_DELIVERIES
from bot.reminders.definitions import Reminder
from bot.reminders.lease import Lease
from bot.reminders.models import FAILED, PENDING, SENDING, SENT, ReminderDelivery
from bot.reminders.ports import PostedLookup

log = logging.getLogger(__name__)

ACK_ACTION = "reminder.ack"
MAX_THROTTLES = 20  # 429s in a row for one message before it is put back for later



class Pacer:
    """A token bucket shared by the sender's workers; a Retry-After pauses all of them.

    After a pause the bucket refills as the platform's does, so the short burst that follows
    wins back most of the time a 429 cost.
    """

    def __init__(self, rate: float, burst: int, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.monotonic = monotonic
        self.sleep = sleep
        self._tokens = float(burst)
        self._last = monotonic()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        if now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self.monotonic()
                self._refill(now)
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif self._tokens >= 1:
                    self._tokens -= 1
                    return
                else:
                    wait = (1 - self._tokens) / self.rate
            # A bucket a rounding error short of a token would ask for a wait too small to
            # move the clock (1e-19 s), and ask again for ever: wait at least a microsecond.
            self.sleep(max(wait, 1e-6))

    def pause(self, seconds: float) -> None:
        """The platform refused a call: nobody sends for `seconds`, and the bucket is empty."""
        with self._lock:
            now = self.monotonic()
            self._refill(now)
            self._tokens = 0.0
            self._paused_until = max(self._paused_until, now + seconds)


@dataclass(frozen=True)
class Job:
    """A claimed row, detached from its session so a worker thread can carry it."""

    id: int
    reminder_id: str
    occurrence: str
    recipient: str
    kind: str
    token: str
    round: int
    attempts: int
    in_doubt: bool
    round_since: datetime

    @property
    def marker(self) -> str:
        return f"R{self.id}-{self.round}-{self.token}"

    @property
    def address(self) -> Address:
        return Address("user" if self.kind == "user" else "channel",
                       self.recipient.partition(":")[2])

    @property
    def platform(self) -> str:
        return self.recipient.partition(":")[0]


@dataclass
class SendResult:
    outcomes: Counter[str] = field(default_factory=Counter)

    def __getitem__(self, key: str) -> int:
        return self.outcomes[key]


def ack_value(delivery_id: int, token: str) -> str:
    return f"{delivery_id}.{token}"


def render(reminder: Reminder, job: Job, company: Callable[[str], dict[str, str]],
           lang: str) -> Reply:
    """Both languages, the primary first: a DM cannot know which one its reader prefers."""
    langs = [lang, "en" if lang == "ja" else "ja"]
    text = "\n\n".join(reminder.text(code, company(code)) for code in langs)
    title = None
    if reminder.title is not None:
        title = " / ".join(reminder.heading(code, company(code)) or "" for code in langs)
    if job.round > 0:
        prefix = t("reminder.followup", lang)
        title = f"{prefix}: {title}" if title else prefix
    buttons = []
    if reminder.acknowledge is not None:
        label = " / ".join(reminder.acknowledge.get(code) for code in langs)
        buttons.append(Button(label, ACK_ACTION, ack_value(job.id, job.token), style="primary"))
    footnote = t("reminder.reference", lang, ref=job.marker)
    return Reply(text=text, lang=lang, title=title, buttons=buttons, footnote=footnote)


_TABLE = ReminderDelivery.__table__
assert isinstance(_TABLE, Table)  # a declarative class maps a Table; typed as any FromClause
_ROW = _TABLE.c
_WHEN = DateTime(timezone=True)
_MARK_SENT = (
    update(_TABLE)
    .where(_ROW.id == bindparam("b_id"), _ROW.state == SENDING,
           _ROW.claimed_by == bindparam("b_holder"))
    .values(
        state=SENT, in_doubt=False, claimed_by=None, last_error=None,
        first_sent_at=func.coalesce(_ROW.first_sent_at, bindparam("b_now", type_=_WHEN)),
        last_sent_at=bindparam("b_now", type_=_WHEN),
        message_channel=bindparam("b_channel"), message_id=bindparam("b_ts"),
        # Acknowledged while this follow-up was on its way: nothing more to chase.
        followup_at=case((_ROW.acknowledged_at.is_(None),
                          bindparam("b_followup", type_=_WHEN)), else_=None),
    )
)


class SentLog:
    """Group commit of "sent" marks: one transaction for the posts of the last ~100 ms.

    A commit per message caps a sender at what the disk can fsync (about 150 a second here);
    grouping them widens the window a crash leaves in doubt from one message to a few dozen,
    which the lookup resolves after a restart.
    """

    def __init__(self, database: Database, *, window_s: float = 0.1, max_rows: int = 64,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.database = database
        self.window_s = window_s
        self.max_rows = max_rows
        self.monotonic = monotonic
        self._rows: list[dict[str, object]] = []
        self._since = 0.0
        self._lock = threading.Lock()

    def add(self, row: dict[str, object]) -> None:
        with self._lock:
            now = self.monotonic()
            if not self._rows:
                self._since = now
            self._rows.append(row)
            if len(self._rows) < self.max_rows and now - self._since < self.window_s:
                return
            rows, self._rows = self._rows, []
        self._write(rows)

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        self._write(rows)

    def _write(self, rows: list[dict[str, object]]) -> None:
        if not rows:
            return
        with self.database.transaction() as session:
            session.execute(_MARK_SENT, rows)


class Sender:
    def __init__(self, database: Database, audit: AuditTrail, reminders: Mapping[str, Reminder],
                 messengers: Mapping[str, Messenger], lookups: Mapping[str, PostedLookup],
                 lease: Lease, *, company: Callable[[str], dict[str, str]], lang: str,
                 pacer: Pacer, workers: int, post_timeout_s: float, max_attempts: int,
                 clock: Clock, batch_size: int | None = None) -> None:
        self.database = database
        self.audit = audit
        self.reminders = reminders
        self.messengers = messengers
        self.lookups = lookups
        self.lease = lease
        self.company = company
        self.lang = lang
        self.pacer = pacer
        self.workers = workers
        self.post_timeout_s = post_timeout_s
        self.max_attempts = max_attempts
        self.clock = clock
        # Small batches: a crash leaves at most one batch in doubt, each needing a lookup.
        self.batch_size = batch_size or max(16, workers * 4)
        self._stopping = threading.Event()
        self._sent_log = SentLog(database)

    def stop(self) -> None:
        """Finish the posts in flight, start no more (shutdown)."""
        self._stopping.set()

    # -- the sweep ---------------------------------------------------------------------------

    def send_due(self) -> SendResult:
        """Send everything due, batch by batch, while we hold the lease."""
        result = SendResult()
        if not self.lease.ensure(self.post_timeout_s):
            return result
        self.recover()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="reminder-send") as pool:
            while not self._stopping.is_set() and self.lease.ensure(self.post_timeout_s):
                jobs = self.claim(self.batch_size)
                if not jobs:
                    break
                try:
                    outcomes = list(pool.map(self._deliver, jobs))
                finally:
                    self._sent_log.flush()
                result.outcomes.update(outcomes)
                self._audit_batch(jobs, outcomes)
        return result

    def recover(self) -> int:
        """Rows a dead or previous sender left in `sending`: their outcome is unknown."""
        with self.database.transaction() as session:
            moved = rowcount(session.execute(
                update(ReminderDelivery).where(ReminderDelivery.state == SENDING)
                .values(state=PENDING, in_doubt=True, claimed_by=None)
                .execution_options(synchronize_session=False)
            ))
            if moved:
                self.audit.record(
                    session, actor=SYSTEM, action="reminder.in_doubt_recovered",
                    subject="reminder_deliveries", details={"deliveries": moved},
                )
        if moved:
            log.warning("%d reminder deliveries were in flight when their sender stopped; "
                        "they will be checked before sending again", moved)
        return moved

    def claim(self, limit: int) -> list[Job]:
        now = self.clock()
        with self.database.transaction() as session:
            query = (
                select(ReminderDelivery.id)
                .where(ReminderDelivery.state == PENDING, ReminderDelivery.due_at <= now,
                       or_(ReminderDelivery.kind == "channel",
                           ReminderDelivery.acknowledged_at.is_(None)))
                .order_by(ReminderDelivery.due_at, ReminderDelivery.id)
                .limit(limit)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(session.execute(query).scalars())
            if not ids:
                return []
            rows = session.execute(
                update(ReminderDelivery)
                .where(ReminderDelivery.id.in_(ids), ReminderDelivery.state == PENDING)
                .values(state=SENDING, claimed_by=self.lease.holder, claimed_at=now,
                        attempts=ReminderDelivery.attempts + 1)
                .returning(ReminderDelivery.id, ReminderDelivery.reminder_id,
                           ReminderDelivery.occurrence, ReminderDelivery.recipient,
                           ReminderDelivery.kind, ReminderDelivery.token, ReminderDelivery.round,
                           ReminderDelivery.attempts, ReminderDelivery.in_doubt,
                           ReminderDelivery.round_since)
                .execution_options(synchronize_session=False)
            ).all()
        return sorted((Job(**row._asdict()) for row in rows), key=lambda job: job.id)

    # -- one row -----------------------------------------------------------------------------

    def _deliver(self, job: Job) -> str:
        try:
            return self._deliver_unguarded(job)
        except Exception:  # a bug for one row must not strand the batch in `sending`
            log.exception("reminder delivery %s failed unexpectedly", job.id)
            self._failed(job, "internal error", in_doubt=True)
            return "error"

    def _deliver_unguarded(self, job: Job) -> str:
        reminder = self.reminders.get(job.reminder_id)
        messenger = self.messengers.get(job.platform)
        if reminder is None or messenger is None:
            reason = ("reminder disabled or no longer defined" if reminder is None
                      else f"no messenger for platform {job.platform}")
            self._give_up(job, reason)
            return "failed"
        if job.in_doubt:
            lookup = self.lookups.get(job.platform)
            if lookup is not None:
                since = job.round_since - timedelta(minutes=1)
                try:
                    found = lookup.find_posted(job.address, job.marker, since)
                except Exception as exc:
                    self._failed(job, f"lookup: {exc}", in_doubt=True)
                    return "error"
                if found is not None:
                    self._sent(job, reminder, found)
                    return "found"
            else:
                log.warning("delivery %s: earlier attempt's outcome unknown and %s cannot "
                            "look it up; sending again", job.id, job.platform)
        reply = render(reminder, job, self.company, self.lang)
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
            self._sent(job, reminder, ref)
            return "sent"
        self._release(job)
        return "throttled"

    # -- recording outcomes ------------------------------------------------------------------

    def _mine(self, job: Job) -> list[ColumnElement[bool]]:
        return [ReminderDelivery.id == job.id, ReminderDelivery.state == SENDING,
                ReminderDelivery.claimed_by == self.lease.holder]

    def _sent(self, job: Job, reminder: Reminder, ref: MessageRef) -> None:
        now = self.clock()
        followup_at = None
        follow_up = reminder.follow_up
        if follow_up is not None and job.round < follow_up.max_times:
            followup_at = now + timedelta(days=follow_up.after_days)
        self._sent_log.add({
            "b_id": job.id, "b_holder": self.lease.holder, "b_now": now,
            "b_channel": ref.channel[:64], "b_ts": ref.id[:64], "b_followup": followup_at,
        })
        REMINDER_DELIVERIES.labels(result="sent").inc()

    def _release(self, job: Job) -> None:
        """Not attempted after all (shutdown, lease running out, throttled): back to the queue."""
        with self.database.transaction() as session:
            session.execute(
                update(ReminderDelivery).where(*self._mine(job))
                .values(state=PENDING, claimed_by=None, attempts=ReminderDelivery.attempts - 1)
                .execution_options(synchronize_session=False)
            )

    def _failed(self, job: Job, error: str, *, in_doubt: bool) -> None:
        if job.attempts >= self.max_attempts:
            self._give_up(job, error)
            return
        backoff = timedelta(seconds=min(300, 2 ** (job.attempts - 1)))  # 1 s, 2 s, 4 s …
        with self.database.transaction() as session:
            session.execute(
                update(ReminderDelivery).where(*self._mine(job))
                .values(state=PENDING, claimed_by=None, in_doubt=in_doubt,
                        due_at=self.clock() + backoff, last_error=error[:200])
                .execution_options(synchronize_session=False)
            )

    def _give_up(self, job: Job, error: str) -> None:
        with self.database.transaction() as session:
            changed = rowcount(session.execute(
                update(ReminderDelivery).where(*self._mine(job))
                .values(state=FAILED, claimed_by=None, last_error=error[:200])
                .execution_options(synchronize_session=False)
            ))
            if changed:
                self.audit.record(
                    session, actor=SYSTEM, action="reminder.delivery_failed",
                    subject=f"reminder:{job.reminder_id}:{job.occurrence}",
                    details={"delivery_id": job.id, "round": job.round,
                             "attempts": job.attempts, "error": error[:200]},
                )
        if changed:
            REMINDER_DELIVERIES.labels(result="failed").inc()
        log.error("reminder delivery %s given up after %d attempts: %s", job.id, job.attempts,
                  error[:200])

    def _audit_batch(self, jobs: list[Job], outcomes: list[str]) -> None:
        """One audit event per batch and occurrence: the rows themselves hold each send."""
        summary: dict[tuple[str, str], Counter[str]] = {}
        for job, outcome in zip(jobs, outcomes, strict=True):
            summary.setdefault((job.reminder_id, job.occurrence), Counter())[outcome] += 1
        with self.database.transaction() as session:
            for (reminder_id, occurrence), counts in sorted(summary.items()):
                self.audit.record(
                    session, actor=SYSTEM, action="reminder.batch_sent",
                    subject=f"reminder:{reminder_id}:{occurrence}", details=dict(counts),
                )
