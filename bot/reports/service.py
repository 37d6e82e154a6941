"""Reports as the desk and reporters use them, over storage, encryption and the audit trail.

Nothing here knows who a reporter is: the flows hand in an `Intake` with no user in it, and
every reporter action is audited as the role "reporter". Desk members are named by
"platform:user_id" for the access check and audited by their pseudonym. Each change commits
with its audit event, and a report is committed before its receipt exists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.audit import SYSTEM, AuditTrail
from bot.clock import Clock, utcnow
from bot.config import ReportsSettings
from bot.db import Database
from bot.keys import Keyring, derive
from bot.refusal import Refusal
from bot.reports import receipts
from bot.reports.crypto import Sealer
from bot.reports.deadlines import Deadline, aware, deadlines
from bot.reports.models import KeyCheck, Report, ReportMessage, ReportNotice
from bot.reports.texts import CATEGORIES
from bot.untrusted import strict_int

REPORTER = "reporter"  # the audit actor of everything a reporter does
ANONYMOUS = "anonymous"  # the audit actor of a wrong key: whoever it was
PASS_TTL = timedelta(minutes=30)
CONTENT_FIELDS = ("what", "when", "where", "who")

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("acknowledged", "investigating", "not_investigated", "closed"),
    "acknowledged": ("investigating", "not_investigated", "closed"),
    "investigating": ("closed",),
    "not_investigated": ("investigating", "closed"),
    "closed": (),
}
NEEDS_NOTE = {"not_investigated": "reason", "closed": "outcome"}
DECIDED = ("investigating", "not_investigated", "closed")


@dataclass(frozen=True)
class Intake:
    """A report as the flow hands it over: its content, and no trace of who sent it."""

    category: str
    lang: str
    what: str
    when: str = ""
    where: str = ""
    who: str = ""
    identity: str | None = None  # a named consultation only: "name (platform:user_id)"
    excluded: tuple[str, ...] = ()  # desk members (platform:user_id) who must not see it


@dataclass(frozen=True)
class Receipt:
    case_number: str
    secret_key: str


@dataclass(frozen=True)
class Mail:
    author: str  # "desk" or "reporter"
    kind: str  # message, feedback, reason, outcome
    created_at: datetime
    text: str | None  # None once purged


@dataclass(frozen=True)
class CaseSummary:
    case_number: str
    category: str
    lang: str
    status: str
    named: bool
    received_at: datetime
    deadlines: list[Deadline]
    purged_at: datetime | None

    @property
    def transitions(self) -> tuple[str, ...]:
        return () if self.purged_at else TRANSITIONS[self.status]


@dataclass(frozen=True)
class CaseView(CaseSummary):
    content: dict[str, str] | None = None  # None once purged
    identity: str | None = None
    excluded_count: int = 0
    messages: list[Mail] = field(default_factory=list)


@dataclass(frozen=True)
class Notice:
    """Something the desk channel should hear about a case: "new", or "<deadline>.<state>"."""

    report_id: int
    case_number: str
    category: str
    kind: str
    deadlines: list[Deadline]


def _iso(value: datetime | None) -> str | None:
    return aware(value).isoformat() if value else None


class Reports:
    def __init__(
        self,
        database: Database,
        keyring: Keyring,
        audit: AuditTrail,
        settings: ReportsSettings,
        desk_members: Sequence[str] = (),
        clock: Clock = utcnow,
    ) -> None:
        self.database = database
        self.keyring = keyring
        self.audit = audit
        self.settings = settings
        self.desk_members = tuple(desk_members)
        self.clock = clock
        self.sealer = Sealer(keyring)

    # -- intake ------------------------------------------------------------------------------

    def submit(self, intake: Intake) -> Receipt:
        """Store and commit the report; only then does a receipt exist. Raises if not stored."""
        if intake.category not in CATEGORIES:
            raise ValueError(f"unknown category {intake.category!r}")
        now = self.clock()
        case_number, key = receipts.new_case_number(), receipts.new_secret_key()
        low = self.settings.notice_delay_min_minutes * 60
        high = max(low, self.settings.notice_delay_max_minutes * 60)
        delay = timedelta(seconds=low + secrets.randbelow(high - low + 1))
        content = {name: getattr(intake, name) for name in CONTENT_FIELDS}
        if intake.identity:
            content["identity"] = intake.identity
        key_hash = receipts.hash_key(key)  # slow: not while holding the database
        with self.database.transaction() as session:
            report = Report(
                case_number=case_number,
                key_hash=key_hash,
                category=intake.category,
                named=intake.identity is not None,
                lang=intake.lang,
                status="received",
                # To the hour, so the stored time cannot be matched to the minute with the
                # reporter's other activity; deadlines counted from it only come earlier.
                received_at=now.replace(minute=0, second=0, microsecond=0),
                notify_after=now + delay,
                content=self.sealer.seal_json(content, f"{case_number}:content"),
                exclusions=self.sealer.seal_json(list(intake.excluded),
                                                 f"{case_number}:exclusions"),
                failed_attempts=0,
                lockouts=0,
            )
            session.add(report)
        # The one exception to "an audit event in the same transaction as its change": the
        # "report.received" event is written by record_receipts() when the random delay has
        # passed, as the desk notice is. In the same transaction, its sequence number and time
        # would sit next to the reporter's own events (the question they asked just before),
        # and link an anonymous report to a person. The report is stored and committed here;
        # its event follows minutes later, on any instance, exactly once.
        return Receipt(case_number, key)

    def withdraw(self, case_number: str) -> bool:
        """Take back a report whose receipt could not be shown: "a receipt, or nothing".

        Only before its arrival is audited (record_receipts, minutes later): until then the
        report is in no trail, notice or list, so removing it leaves the state as if it had
        never been sent, and there is nothing to audit. Later it stays (False)."""
        with self.database.transaction() as session:
            report = self._get(session, case_number, lock=True)
            if report is None:
                return False
            announced = session.scalar(select(ReportNotice.id).where(
                ReportNotice.report_id == report.id))
            if announced is not None:
                return False
            session.execute(delete(ReportMessage).where(ReportMessage.report_id == report.id))
            session.delete(report)
        return True

    def record_receipts(self) -> int:
        """Audit the arrival of reports whose random delay has passed (see `submit`); each once,
        across instances (the "received" marker row is unique per report)."""
        now = self.clock()
        recorded = 0
        with self.database.transaction() as session:
            done = select(ReportNotice.report_id).where(ReportNotice.kind == "received")
            due = list(session.scalars(
                select(Report.id).where(Report.notify_after <= now, Report.id.not_in(done))))
        for report_id in due:
            try:
                with self.database.transaction() as session:
                    report = session.get(Report, report_id)
                    if report is None:
                        continue
                    session.add(ReportNotice(report_id=report.id, kind="received", sent_at=now,
                                             message_ref=None))
                    session.flush()
                    excluded = [] if report.exclusions is None else self.sealer.open_json(
                        report.exclusions, f"{report.case_number}:exclusions")
                    self.audit.record(
                        session, actor=REPORTER, action="report.received",
                        subject=_subject(report.case_number),
                        details={"category": report.category, "named": report.named,
                                 "lang": report.lang, "excluded": len(excluded)})
                recorded += 1
            except IntegrityError:
                continue  # another instance recorded it first
        return recorded

    # -- the reporter ------------------------------------------------------------------------

    def open_as_reporter(self, case_number: str, key: str, who: str) -> CaseView | None:
        """The case if the key fits; None for a wrong key, an unknown or malformed case number,
        or a person over their limit (`who`: "platform:user_id", only hashed, never stored).

        The four refusals cannot be told apart: the same answer, and the same work, one key
        derivation and the same two writes (the person's count, and an audit event), so their
        timing tells nothing either. No case is locked, however many wrong keys it gets: only
        the key holder decides when they read their case. Brute force stays infeasible by the
        key's ~99 bits and the per-person limit on derivations, shared by every instance.
        """
        number = receipts.normalise_case_number(case_number)
        allowed = self._count_key_check(who)
        found: int | None = None
        stored = ""
        if number:
            with self.database.transaction() as session:
                row = session.execute(select(Report.id, Report.key_hash)
                                      .where(Report.case_number == number)).first()
            if row is not None:
                found, stored = row
        if allowed and found is not None and receipts.check_key(key, stored):
            with self.database.transaction() as session:
                report = self._get(session, number, lock=True)
                if report is not None:
                    self.audit.record(session, actor=REPORTER, action="report.read_by_reporter",
                                      subject=_subject(report.case_number))
                    return self._view(session, report)
        if not (allowed and found is not None):
            receipts.burn_time(key)
        with self.database.transaction() as session:
            subject = _subject(number) if number and found is not None else "report:unknown"
            self.audit.record(session, actor=ANONYMOUS, action="report.key_rejected",
                              subject=subject)
        return None

    def _count_key_check(self, who: str) -> bool:
        """Count one key check for `who` in the current window; False once over the limit.
        Expired windows are deleted on the way."""
        now = self.clock()
        window = timedelta(minutes=self.settings.key_check_window_minutes)
        start = datetime.fromtimestamp(
            (now.timestamp() // window.total_seconds()) * window.total_seconds(), tz=now.tzinfo)
        bucket = hmac.new(derive(self.keyring.current, "key-checks"),
                          f"{who}\n{start.isoformat()}".encode(), hashlib.sha256).hexdigest()
        for _ in range(2):  # a second try if another instance inserted the row meanwhile
            try:
                with self.database.transaction() as session:
                    session.execute(delete(KeyCheck).where(KeyCheck.expires_at <= now))
                    row = session.get(KeyCheck, bucket, with_for_update=True)
                    if row is None:
                        row = KeyCheck(bucket=bucket, count=0, expires_at=start + window)
                        session.add(row)
                    row.count += 1
                    return row.count <= self.settings.key_checks_per_person
            except IntegrityError:
                continue
        return False

    def issue_pass(self, case_number: str, binding: str) -> str:
        """A short-lived proof that `binding` (the user, never stored) just opened the case,
        so answering does not need the key again and the key never travels in form state."""
        expires = int((self.clock() + PASS_TTL).timestamp())
        return f"{case_number}|{expires}|{self._pass_mac(case_number, expires, binding)}"

    def check_pass(self, token: str, binding: str) -> str | None:
        case_number, _, rest = token.partition("|")
        expires, _, mac = rest.partition("|")
        until = strict_int(expires)
        if until is None or until < self.clock().timestamp():
            return None
        expected = self._pass_mac(case_number, until, binding)
        # compare_digest refuses non-ASCII str with TypeError: compare bytes instead.
        return case_number if hmac.compare_digest(mac.encode("utf-8", "replace"),
                                                  expected.encode()) else None

    def _pass_mac(self, case_number: str, expires: int, binding: str) -> str:
        message = f"{case_number}|{expires}|{binding}".encode()
        return hmac.new(derive(self.keyring.current, "report-pass"), message,
                        hashlib.sha256).hexdigest()[:32]

    def reporter_write(self, case_number: str, text: str) -> bool:
        with self.database.transaction() as session:
            report = self._get(session, case_number, lock=True)
            if report is None or report.purged_at is not None:
                return False
            message = self._add_message(session, report, "reporter", "message", text)
            self.audit.record(session, actor=REPORTER, action="report.reporter_wrote",
                              subject=_subject(case_number), details={"message_id": message.id})
        return True

    # -- the desk ----------------------------------------------------------------------------

    def desk_open(self, member: str, actor: str, case_number: str) -> CaseView:
        """Every opening and every refusal is an audit event (a refusal is raised once its
        event is committed)."""
        with self.database.transaction() as session:
            report, refused = self._access(session, member, actor, case_number)
            if report is not None:
                self.audit.record(session, actor=actor, action="report.opened",
                                  subject=_subject(report.case_number))
                return self._view(session, report)
        assert refused is not None
        raise refused

    def desk_update(
        self, member: str, actor: str, case_number: str, *, message: str = "", status: str = "",
        note: str = "",
    ) -> CaseView | None:
        """Write to the reporter, move the status, send a reason or outcome; None: no change.

        A desk message acknowledges receipt; deciding (investigate or not) meets the 20-day
        clock; a reason or outcome is feedback; closing meets all three.
        """
        with self.database.transaction() as session:
            report, refused = self._access(session, member, actor, case_number, lock=True)
            if report is not None:
                return self._update(session, report, actor, message, status, note)
        assert refused is not None
        raise refused

    def _update(self, session: Session, report: Report, actor: str, message: str, status: str,
                note: str) -> CaseView | None:
        """Raises a Refusal naming the form field at fault when the case's state forbids it."""
        now = self.clock()
        case_number = report.case_number
        status = status or report.status
        if report.purged_at is not None:
            raise Refusal("case.mailbox.purged", field="message")
        if status != report.status and status not in TRANSITIONS[report.status]:
            raise Refusal("desk.error.status", field="status")
        if status != report.status and status in NEEDS_NOTE and not note:
            raise Refusal("desk.error.note_required", field="note", status=status)
        if not (message or note or status != report.status):
            return None
        before = _state(report)
        if message:
            self._desk_message(session, report, actor, "message", message)
        if note:
            kind = NEEDS_NOTE.get(status, "feedback")
            self._desk_message(session, report, actor, kind, note)
            report.feedback_at = report.feedback_at or now
        if status == "received":
            status = "acknowledged"
        report.acknowledged_at = report.acknowledged_at or now
        if status in DECIDED:
            report.decided_at = report.decided_at or now
        if status == "closed":
            report.closed_at = now
        report.status = status
        after = _state(report)
        if after != before:
            self.audit.record(session, actor=actor, action="report.status_changed",
                              subject=_subject(case_number), before=before, after=after)
        return self._view(session, report)

    def desk_list(self, member: str, actor: str) -> list[CaseSummary]:
        """Open cases, oldest first, without content; a case the member is excluded from is
        left out."""
        if member not in self.desk_members:
            with self.database.transaction() as session:
                self.audit.record(session, actor=actor, action="report.list_refused",
                                  subject="reports", details={"reason": "not_desk_member"})
            raise Refusal("desk.list_refused", reason="not_desk_member")
        with self.database.transaction() as session:
            query = select(Report).where(Report.closed_at.is_(None)).order_by(Report.received_at)
            cases = [self._summary(report) for report in session.scalars(query)
                     if not self._is_excluded(report, member)]
            self.audit.record(session, actor=actor, action="report.listed", subject="reports",
                              details={"count": len(cases)})
            return cases

    def open_cases(self, actor: str) -> list[CaseSummary]:
        """Every open case without content, for operators (`compliance-bot reports due`)."""
        with self.database.transaction() as session:
            query = select(Report).where(Report.closed_at.is_(None)).order_by(Report.received_at)
            cases = [self._summary(report) for report in session.scalars(query)]
            self.audit.record(session, actor=actor, action="report.listed", subject="reports",
                              details={"count": len(cases)})
            return cases

    def _access(
        self, session: Session, member: str, actor: str, case_number: str, lock: bool = False
    ) -> tuple[Report | None, Refusal | None]:
        number = receipts.normalise_case_number(case_number)
        report = self._get(session, number, lock=lock) if number else None
        reason: Literal["not_desk_member", "excluded", "unknown_case"] | None = None
        if member not in self.desk_members:
            reason = "not_desk_member"
        elif report is None:
            reason = "unknown_case"
        elif self._is_excluded(report, member):
            reason = "excluded"
        if reason is None:
            return report, None
        self.audit.record(session, actor=actor, action="report.open_refused",
                          subject=_subject(number or "unknown"), details={"reason": reason})
        key = "desk.unknown_case" if reason == "unknown_case" else "desk.refused"
        return None, Refusal(key, reason=reason)

    def _is_excluded(self, report: Report, member: str) -> bool:
        if not report.exclusions:
            return False
        return member in self.sealer.open_json(report.exclusions,
                                               f"{report.case_number}:exclusions")

    def _desk_message(self, session: Session, report: Report, actor: str, kind: str,
                      text: str) -> None:
        message = self._add_message(session, report, "desk", kind, text)
        self.audit.record(session, actor=actor, action="report.desk_wrote",
                          subject=_subject(report.case_number),
                          details={"message_id": message.id, "kind": kind})

    # -- the desk channel, deadlines, retention ----------------------------------------------

    def pending_notices(self) -> list[Notice]:
        """New reports whose random delay has passed, and deadlines due soon or overdue, that
        the desk channel has not yet been told about."""
        self.record_receipts()
        now = self.clock()
        remind_before = timedelta(days=self.settings.remind_before_days)
        notices: list[Notice] = []
        with self.database.transaction() as session:
            sent = set(session.execute(select(ReportNotice.report_id, ReportNotice.kind)).all())
            query = (select(Report).where(Report.notify_after <= now, Report.purged_at.is_(None))
                     .order_by(Report.received_at))
            for report in session.scalars(query):
                if report.closed_at is not None:
                    continue
                found = deadlines(report, self.settings)
                kinds = ["new"] + [
                    f"{deadline.kind}.{state}" for deadline in found
                    if (state := deadline.state(now, remind_before)) in ("due_soon", "overdue")
                ]
                notices += [Notice(report.id, report.case_number, report.category, kind, found)
                            for kind in kinds if (report.id, kind) not in sent]
        return notices

    def record_notice(self, notice: Notice, message_ref: str | None) -> bool:
        """False if another process recorded the same notice first."""
        try:
            with self.database.transaction() as session:
                session.add(ReportNotice(report_id=notice.report_id, kind=notice.kind,
                                         sent_at=self.clock(), message_ref=message_ref))
                session.flush()
                self.audit.record(session, actor=SYSTEM, action="report.desk_notified",
                                  subject=_subject(notice.case_number),
                                  details={"kind": notice.kind})
        except IntegrityError:
            return False
        return True

    def purge_expired(self) -> list[str]:
        """Closed cases past `retention_days` lose their content; the trail keeps that they
        existed, when they were closed and when they were purged."""
        now = self.clock()
        cutoff = now - timedelta(days=self.settings.retention_days)
        purged: list[str] = []
        with self.database.transaction() as session:
            query = select(Report).where(Report.closed_at <= cutoff, Report.purged_at.is_(None))
            for report in session.scalars(query.with_for_update()):
                messages = list(session.scalars(
                    select(ReportMessage).where(ReportMessage.report_id == report.id)))
                for message in messages:
                    message.body = None
                report.content = report.exclusions = None
                report.purged_at = now
                self.audit.record(session, actor=SYSTEM, action="report.purged",
                                  subject=_subject(report.case_number),
                                  details={"closed_at": _iso(report.closed_at),
                                           "messages": len(messages)})
                purged.append(report.case_number)
        return purged

    def rekey(self, actor: str = "cli") -> dict[str, int]:
        """Re-encrypt everything not sealed under the current key; receipts are unaffected
        (their hashes do not depend on the key)."""
        counts = {"reports": 0, "messages": 0}
        with self.database.transaction() as session:
            for report in session.scalars(select(Report).with_for_update()):
                changed = False
                for name in ("content", "exclusions"):
                    token = getattr(report, name)
                    if token and not self.sealer.is_current(token):
                        setattr(report, name,
                                self.sealer.reseal(token, f"{report.case_number}:{name}"))
                        changed = True
                counts["reports"] += changed
            rows = session.execute(
                select(ReportMessage, Report.case_number).join(Report).with_for_update())
            for message, case_number in rows:
                if message.body and not self.sealer.is_current(message.body):
                    message.body = self.sealer.reseal(message.body, f"{case_number}:message")
                    counts["messages"] += 1
            self.audit.record(session, actor=actor, action="reports.rekeyed", subject="reports",
                              details={**counts, "key_id": self.sealer.current_id})
        return counts

    # -- reading -----------------------------------------------------------------------------

    def _get(self, session: Session, case_number: str | None, lock: bool = False
             ) -> Report | None:
        query = select(Report).where(Report.case_number == case_number)
        return session.scalars(query.with_for_update() if lock else query).one_or_none()

    def _add_message(self, session: Session, report: Report, author: str, kind: str,
                     text: str) -> ReportMessage:
        message = ReportMessage(
            report_id=report.id, created_at=self.clock(), author=author, kind=kind,
            body=self.sealer.seal(text, f"{report.case_number}:message"),
        )
        session.add(message)
        session.flush()
        return message

    def _summary(self, report: Report) -> CaseSummary:
        return CaseSummary(
            case_number=report.case_number, category=report.category, lang=report.lang,
            status=report.status, named=report.named, received_at=aware(report.received_at),
            deadlines=deadlines(report, self.settings),
            purged_at=aware(report.purged_at) if report.purged_at else None,
        )

    def _view(self, session: Session, report: Report) -> CaseView:
        number = report.case_number
        content: dict[str, str] | None = None
        excluded: list[str] = []
        if report.content:
            content = self.sealer.open_json(report.content, f"{number}:content")
        if report.exclusions:
            excluded = self.sealer.open_json(report.exclusions, f"{number}:exclusions")
        query = (select(ReportMessage).where(ReportMessage.report_id == report.id)
                 .order_by(ReportMessage.created_at, ReportMessage.id))
        messages = [
            Mail(m.author, m.kind, aware(m.created_at),
                 self.sealer.open(m.body, f"{number}:message") if m.body else None)
            for m in session.scalars(query)
        ]
        identity = content.pop("identity", None) if content else None
        summary = self._summary(report)
        return CaseView(**{f.name: getattr(summary, f.name) for f in fields(CaseSummary)},
                        content=content, identity=identity, excluded_count=len(excluded),
                        messages=messages)


def _subject(case_number: str) -> str:
    return f"report:{case_number}"


def _state(report: Report) -> dict[str, Any]:
    return {
        "status": report.status, "acknowledged_at": _iso(report.acknowledged_at),
        "decided_at": _iso(report.decided_at), "feedback_at": _iso(report.feedback_at),
        "closed_at": _iso(report.closed_at),
    }
