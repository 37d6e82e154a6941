"""Starting checklists, answering, confirming, sending back; what a person has to do; status.

Every change commits in one transaction with its audit event and with the messages it calls
for (rows of the outbox the sender delivers), so nothing is told that was not stored and
nothing stored goes untold. Each action checks where the checklist stands first, so a button
pressed twice, a form submitted twice or a webhook replayed changes nothing the first did not.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.audit import SYSTEM, AuditTrail
from bot.checklists.definitions import NO, YES, Checklist
from bot.checklists.models import (
    ASK,
    CONFIRMED,
    CONFIRMED_NOTE,
    OPEN,
    PENDING,
    RETURNED,
    RETURNED_NOTE,
    REVIEW,
    SUBMITTED,
    WAITING_FOR_PERSON,
    ChecklistAssignment,
    ChecklistEscalation,
    ChecklistMessage,
    ChecklistRun,
)
from bot.checklists.rows import StartRow
from bot.checklists.settings import DESK
from bot.clock import Clock, utcnow
from bot.config import Settings
from bot.core import Core
from bot.db import Database
from bot.escalations.service import EscalationService
from bot.keys import Keyring
from bot.messages import User

log = logging.getLogger(__name__)

OVERDUE = "overdue"
ESCALATION_CATEGORY = "checklists"


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; everything is written as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_ignore(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING, on PostgreSQL and SQLite alike."""
    if not rows:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    for start in range(0, len(rows), 500):
        session.execute(insert(model).on_conflict_do_nothing(), rows[start:start + 500])


def insert_once(session: Session, model: type, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING of one row; True when this call inserted it."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    inserted = session.execute(insert(model).values(**values).on_conflict_do_nothing()
                               .returning(*table.primary_key.columns)).first()
    return inserted is not None


@lru_cache(maxsize=256)
def _parse_definition(text: str) -> Checklist:
    return Checklist.model_validate_json(text)


def definition_of(run: ChecklistRun) -> Checklist:
    """The checklist as this run asked it (a later edit of the YAML does not change it)."""
    return _parse_definition(run.definition)


@dataclass(frozen=True)
class Answer:
    item: str
    answer: str | None = None  # "yes" or "no" for a yes/no item
    value: str | None = None  # what was written down, for a text item
    note: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"item": self.item, "answer": self.answer, "value": self.value,
                "note": self.note}


def answers_of(assignment: ChecklistAssignment) -> list[Answer]:
    if not assignment.answers:
        return []
    return [Answer(str(a.get("item")), a.get("answer"), a.get("value"), a.get("note"))
            for a in json.loads(assignment.answers)]


class Result(Enum):
    DONE = "done"  # the change was made
    ALREADY = "already"  # the same change was made before (a second press)
    STALE = "stale"  # the checklist moved on (answers sent back, resubmitted)
    NOT_YOURS = "not_yours"
    OWN = "own"  # a confirmer's action on their own checklist
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Outcome:
    result: Result
    assignment: ChecklistAssignment | None = None
    run: ChecklistRun | None = None
    escalations: tuple[int, ...] = ()

    @property
    def checklist(self) -> Checklist | None:
        return definition_of(self.run) if self.run is not None else None


@dataclass(frozen=True)
class StartResult:
    run_id: int
    created: bool  # False: this start was made before (same key); nothing new
    people: int
    started_at: datetime


@dataclass(frozen=True)
class Task:
    """An open checklist as its person or its confirmer sees it in a listing."""

    assignment: ChecklistAssignment
    run: ChecklistRun

    @property
    def checklist(self) -> Checklist:
        return definition_of(self.run)


@dataclass
class RunStatus:
    run_id: int
    checklist_id: str
    source: str
    started_at: datetime
    people: int = 0
    done: int = 0
    waiting_for_person: int = 0
    waiting_for_confirmer: int = 0
    overdue: list[dict[str, str]] = field(default_factory=list)
    no_answers: list[dict[str, str | None]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"run": self.run_id, "checklist": self.checklist_id, "source": self.source,
                "started_at": self.started_at.isoformat(), "people": self.people,
                "done": self.done, "waiting_for_person": self.waiting_for_person,
                "waiting_for_confirmer": self.waiting_for_confirmer,
                "overdue": self.overdue, "no_answers": self.no_answers}


def new_token() -> str:
    return secrets.token_hex(4)


class ChecklistService:
    def __init__(self, database: Database, audit: AuditTrail, keyring: Keyring,
                 settings: Settings, checklists: Mapping[str, Checklist], *,
                 clock: Clock = utcnow, escalations: EscalationService | None = None) -> None:
        """`escalations`: the desk's, for a "no" and an overdue checklist; without it (the
        command line, which only starts and reports) nothing is escalated."""
        self.database = database
        self.audit = audit
        self.keyring = keyring
        self.settings = settings
        self.checklists = dict(checklists)
        self.clock = clock
        self.escalations = escalations
        self.lang = settings.file.default_language
        self.zone = ZoneInfo(settings.file.desk.sla.timezone)

    @classmethod
    def for_core(cls, core: Core, checklists: Mapping[str, Checklist], *,
                 clock: Clock = utcnow) -> ChecklistService:
        """The bot's: escalating to the desk through the escalation engine."""
        return cls(core.database, core.audit, core.keyring, core.settings, checklists,
                   clock=clock, escalations=EscalationService(core, lambda: core.messengers,
                                                              clock))

    # -- who is who --------------------------------------------------------------------------

    def actor(self, user: User) -> str:
        return self.keyring.pseudonym(user.platform, user.id)

    def is_desk_member(self, user: User) -> bool:
        return user.key in self.settings.file.desk.members

    def desk_address(self) -> str | None:
        """Where a review goes when the desk confirms: the desk's triage channel."""
        return self.settings.file.desk.default_channel

    @property
    def escalating(self) -> bool:
        return self.escalations is not None and self.escalations.enabled

    def publish(self, escalations: Iterable[int]) -> None:
        """Post the triage cards of escalations just committed (the desk's sweep retries)."""
        if self.escalations is not None:
            for number in escalations:
                self.escalations.publish(number)

    def may_confirm(self, user: User, assignment: ChecklistAssignment) -> bool:
        if assignment.confirmer == DESK:
            return self.is_desk_member(user)
        return assignment.confirmer == user.key

    def today(self) -> date:
        return self.clock().astimezone(self.zone).date()

    def due_at(self, checklist: Checklist, now: datetime, due: date | None) -> datetime:
        """The end of the given day where the company works, else due_days from now."""
        if due is not None:
            return datetime.combine(due, time(23, 59, 59), tzinfo=self.zone).astimezone(UTC)
        return now + timedelta(days=checklist.due_days)

    # -- starting ----------------------------------------------------------------------------

    def start(self, checklist_id: str, rows: list[StartRow], *, key: str, source: str,
              actor: str, session: Session | None = None) -> StartResult:
        """One run for these people, once per key: a second start with the key finds the
        first and adds nothing. The rows, the messages to each person and the audit event
        commit together."""
        checklist = self.checklists.get(checklist_id)
        if checklist is None or not checklist.enabled:
            raise KeyError(checklist_id)
        if session is None:
            with self.database.transaction() as own:
                return self.start(checklist_id, rows, key=key, source=source, actor=actor,
                                  session=own)
        now = self.clock()
        created = insert_once(session, ChecklistRun, {
            "checklist_id": checklist.id, "key": key[:128], "source": source,
            "started_by": actor, "started_at": now,
            "definition": json.dumps(checklist.snapshot(), ensure_ascii=False),
            "people": len(rows)})
        run = session.execute(select(ChecklistRun).where(
            ChecklistRun.checklist_id == checklist.id, ChecklistRun.key == key[:128])
        ).scalar_one()
        if not created:  # started before with this key (a replay, a racing sweep)
            return StartResult(run.id, False, run.people, as_utc(run.started_at))
        follow_up = checklist.follow_up
        first_followup = (now + timedelta(days=follow_up.after_days)
                          if follow_up and follow_up.max_times else None)
        insert_ignore(session, ChecklistAssignment, [{
            "run_id": run.id, "checklist_id": checklist.id, "person": row.person,
            "confirmer": row.confirmer, "person_name": row.person_name,
            "confirmer_name": row.confirmer_name, "token": new_token(), "state": OPEN,
            "round": 0, "answers": None, "no_answers": 0,
            "due_at": self.due_at(checklist, now, row.due), "stage_since": now,
            "followups": 0, "prompts": 0, "next_followup_at": first_followup,
            "created_at": now} for row in rows])
        assigned = session.execute(select(
            ChecklistAssignment.id, ChecklistAssignment.person, ChecklistAssignment.token)
            .where(ChecklistAssignment.run_id == run.id)).all()
        insert_ignore(session, ChecklistMessage, [
            self._message(aid, ASK, 0, person, "user", token, now)
            for aid, person, token in assigned])
        self.audit.record(
            session, actor=actor, action="checklist.started",
            subject=f"checklist:{checklist.id}:{run.id}",
            details={"checklist": checklist.id, "run": run.id, "source": source,
                     "key": key[:128], "people": len(rows), "assignments": [
                         {"person": row.person, "confirmer": row.confirmer,
                          "due": row.due.isoformat() if row.due else None}
                         for row in rows]})
        log.info("checklist %s run %s started (%s): %d people", checklist.id, run.id, source,
                 len(rows))
        return StartResult(run.id, True, len(rows), now)

    @staticmethod
    def _message(assignment_id: int, purpose: str, seq: int, recipient: str, kind: str,
                 token: str, now: datetime) -> dict[str, Any]:
        return {"assignment_id": assignment_id, "purpose": purpose, "seq": seq,
                "recipient": recipient, "kind": kind, "token": token, "state": PENDING,
                "attempts": 0, "due_at": now, "in_doubt": False, "created_at": now}

    def queue(self, session: Session, assignment: ChecklistAssignment, purpose: str, seq: int,
              to: str, now: datetime) -> None:
        """A message in the caller's transaction; `to` is a person or "desk"."""
        if to == DESK:
            channel = self.desk_address()
            if channel is None:
                log.warning("checklist %s: the desk confirms but desk.default_channel is "
                            "not set; it is listed under the desk's checklists only",
                            assignment.id)
                return
            recipient, kind = channel, "channel"
        else:
            recipient, kind = to, "user"
        insert_ignore(session, ChecklistMessage, [self._message(
            assignment.id, purpose, seq, recipient, kind, new_token(), now)])

    # -- loading -----------------------------------------------------------------------------

    def _locked(self, session: Session, assignment_id: int, token: str
                ) -> tuple[ChecklistAssignment, ChecklistRun] | None:
        assignment = session.execute(
            select(ChecklistAssignment).where(ChecklistAssignment.id == assignment_id)
            .with_for_update()).scalar_one_or_none()
        if assignment is None or not secrets.compare_digest(assignment.token.encode(),
                                                            token.encode()):
            return None
        run = session.get(ChecklistRun, assignment.run_id)
        assert run is not None
        return assignment, run

    def get(self, assignment_id: int, token: str) -> tuple[ChecklistAssignment,
                                                           ChecklistRun] | None:
        with self.database.transaction() as session:
            assignment = session.get(ChecklistAssignment, assignment_id)
            if assignment is None or not secrets.compare_digest(assignment.token.encode(),
                                                                token.encode()):
                return None
            run = session.get(ChecklistRun, assignment.run_id)
            assert run is not None
            return assignment, run

    def _refused(self, user: User, action: str, assignment: ChecklistAssignment) -> None:
        with self.database.transaction() as session:
            self.audit.record(session, actor=self.actor(user), action="checklist.refused",
                              subject=f"checklist:{assignment.checklist_id}:{assignment.run_id}",
                              details={"assignment": assignment.id, "action": action})

    def refused_start(self, user: User) -> None:
        """Someone not configured as a starter tried to start a checklist from chat."""
        with self.database.transaction() as session:
            self.audit.record(session, actor=self.actor(user), action="checklist.refused",
                              subject="checklists", details={"action": "start"})

    def _event(self, session: Session, user: User, action: str, assignment: ChecklistAssignment,
               run: ChecklistRun, before: str, **details: Any) -> None:
        self.audit.record(
            session, actor=self.actor(user), action=f"checklist.{action}",
            subject=f"checklist:{run.checklist_id}:{run.id}",
            details={"checklist": run.checklist_id, "run": run.id, "assignment": assignment.id,
                     "person": assignment.person, "confirmer": assignment.confirmer,
                     "by": user.key, "round": assignment.round, **details},
            before={"state": before}, after={"state": assignment.state})

    # -- the person --------------------------------------------------------------------------

    def opening(self, user: User, assignment_id: int, token: str) -> Outcome:
        """Whether this person may fill in this checklist now (the form opens)."""
        found = self.get(assignment_id, token)
        if found is None:
            return Outcome(Result.UNKNOWN)
        assignment, run = found
        if assignment.person != user.key:
            self._refused(user, "open", assignment)
            return Outcome(Result.NOT_YOURS, assignment, run)
        if assignment.state not in WAITING_FOR_PERSON:
            return Outcome(Result.ALREADY, assignment, run)
        return Outcome(Result.DONE, assignment, run)

    def submit(self, user: User, assignment_id: int, round_: int, token: str,
               answers: list[Answer]) -> Outcome:
        """The person's answers for round `round_`: to the confirmer, and each item answered
        "no" for the first time to the desk as an escalation, in one transaction."""
        now = self.clock()
        with self.database.transaction() as session:
            found = self._locked(session, assignment_id, token)
            if found is None:
                return Outcome(Result.UNKNOWN)
            assignment, run = found
            mine = assignment.person == user.key
            if mine and (assignment.state not in WAITING_FOR_PERSON
                         or assignment.round != round_):
                return Outcome(Result.ALREADY, assignment, run)
            escalation = self._submit(session, user, assignment, run, answers, now) \
                if mine else None
        if not mine:
            self._refused(user, "submit", assignment)
            return Outcome(Result.NOT_YOURS, assignment, run)
        if escalation is not None:
            self.publish([escalation])
        log.info("checklist %s assignment %s submitted (round %s)", run.checklist_id,
                 assignment.id, assignment.round)
        return Outcome(Result.DONE, assignment, run,
                       (escalation,) if escalation is not None else ())

    def _submit(self, session: Session, user: User, assignment: ChecklistAssignment,
                run: ChecklistRun, answers: list[Answer], now: datetime) -> int | None:
        checklist = definition_of(run)
        before = assignment.state
        self._check_answers(checklist, answers)
        assignment.answers = json.dumps([a.as_dict() for a in answers], ensure_ascii=False)
        assignment.no_answers = sum(1 for a in answers if a.answer == NO)
        assignment.round += 1
        assignment.state = SUBMITTED
        assignment.submitted_at = now
        self._new_stage(assignment, checklist, now)
        self.queue(session, assignment, REVIEW, assignment.round, assignment.confirmer, now)
        escalation = self._escalate_noes(session, user, assignment, run, checklist, answers)
        self._event(session, user, "submitted", assignment, run, before,
                    answers=[a.as_dict() for a in answers],
                    no_items=[a.item for a in answers if a.answer == NO],
                    escalation=escalation)
        return escalation

    @staticmethod
    def _check_answers(checklist: Checklist, answers: list[Answer]) -> None:
        """The flow checks the form; this is the service's own guard against a bad caller."""
        given = {a.item: a for a in answers}
        for item in checklist.items:
            answer = given.get(item.id)
            if answer is None:
                raise ValueError(f"item {item.id}: no answer")
            if item.kind == "confirm" and answer.answer not in (YES, NO):
                raise ValueError(f"item {item.id}: answer yes or no")
            if item.kind == "confirm" and answer.answer == NO and not answer.note:
                raise ValueError(f"item {item.id}: a no needs a note")
            if item.kind == "text" and not answer.value:
                raise ValueError(f"item {item.id}: no value")

    @staticmethod
    def _new_stage(assignment: ChecklistAssignment, checklist: Checklist,
                   now: datetime) -> None:
        """Whoever it waits for now starts with a fresh round of follow-ups."""
        assignment.stage_since = now
        assignment.followups = 0
        policy = checklist.follow_up
        assignment.next_followup_at = (now + timedelta(days=policy.after_days)
                                       if policy and policy.max_times else None)

    def _escalate_noes(self, session: Session, user: User, assignment: ChecklistAssignment,
                       run: ChecklistRun, checklist: Checklist, answers: list[Answer]
                       ) -> int | None:
        noes = [a for a in answers if a.answer == NO]
        if not noes:
            return None
        done = set(session.execute(select(ChecklistEscalation.item_id).where(
            ChecklistEscalation.assignment_id == assignment.id,
            ChecklistEscalation.reason == NO)).scalars())
        new = [a for a in noes if a.item not in done]
        if not new:
            return None
        number: int | None = None
        if self.escalations is not None and self.escalations.enabled:
            lang = self.lang
            lines = []
            for answer in new:
                item = checklist.item(answer.item)
                statement = item.statement.get(lang) if item else answer.item
                lines.append(f"× {statement}\n  → {answer.note or ''}")
            escalation = self.escalations.create_in(
                session, user, lang=lang,
                question=f"{checklist.title.get(lang)}: {len(new)} × no",
                context="\n".join(lines), category=ESCALATION_CATEGORY,
                details={"checklist": checklist.id, "run": run.id,
                         "assignment": assignment.id, "reason": NO,
                         "items": [a.item for a in new]})
            number = escalation.id
        insert_ignore(session, ChecklistEscalation, [{
            "assignment_id": assignment.id, "reason": NO, "item_id": a.item,
            "round": assignment.round, "escalation_id": number,
            "created_at": self.clock()} for a in new])
        return number

    # -- the confirmer -----------------------------------------------------------------------

    def _confirmer_checks(self, user: User, assignment: ChecklistAssignment,
                          run: ChecklistRun, round_: int, done_state: str) -> Outcome | None:
        """Why this confirmer action changes nothing, or None when it may go ahead."""
        if assignment.person == user.key:
            return Outcome(Result.OWN, assignment, run)
        if not self.may_confirm(user, assignment):
            return Outcome(Result.NOT_YOURS, assignment, run)
        if assignment.round == round_ and assignment.state == done_state:
            return Outcome(Result.ALREADY, assignment, run)
        if assignment.round != round_ or assignment.state != SUBMITTED:
            return Outcome(Result.STALE, assignment, run)
        return None

    def _answer_refusal(self, user: User, action: str, outcome: Outcome) -> Outcome:
        if outcome.result in (Result.OWN, Result.NOT_YOURS) and outcome.assignment is not None:
            self._refused(user, action, outcome.assignment)
        return outcome

    def confirm(self, user: User, assignment_id: int, round_: int, token: str) -> Outcome:
        now = self.clock()
        with self.database.transaction() as session:
            found = self._locked(session, assignment_id, token)
            if found is None:
                return Outcome(Result.UNKNOWN)
            assignment, run = found
            refused = self._confirmer_checks(user, assignment, run, round_, CONFIRMED)
            if refused is None:
                self._confirm(session, user, assignment, run, now)
        if refused is not None:
            return self._answer_refusal(user, "confirm", refused)
        log.info("checklist %s assignment %s confirmed", run.checklist_id, assignment.id)
        return Outcome(Result.DONE, assignment, run)

    def _confirm(self, session: Session, user: User, assignment: ChecklistAssignment,
                 run: ChecklistRun, now: datetime) -> None:
        before = assignment.state
        assignment.state = CONFIRMED
        assignment.confirmed_at = now
        assignment.confirmed_by = user.key
        assignment.next_followup_at = None
        self.queue(session, assignment, CONFIRMED_NOTE, assignment.round, assignment.person,
                   now)
        self._event(session, user, "confirmed", assignment, run, before,
                    answers=[a.as_dict() for a in answers_of(assignment)])

    def send_back(self, user: User, assignment_id: int, round_: int, token: str,
                  comment: str) -> Outcome:
        now = self.clock()
        with self.database.transaction() as session:
            found = self._locked(session, assignment_id, token)
            if found is None:
                return Outcome(Result.UNKNOWN)
            assignment, run = found
            refused = self._confirmer_checks(user, assignment, run, round_, RETURNED)
            if refused is None:
                self._send_back(session, user, assignment, run, comment, now)
        if refused is not None:
            return self._answer_refusal(user, "send_back", refused)
        log.info("checklist %s assignment %s sent back", run.checklist_id, assignment.id)
        return Outcome(Result.DONE, assignment, run)

    def _send_back(self, session: Session, user: User, assignment: ChecklistAssignment,
                   run: ChecklistRun, comment: str, now: datetime) -> None:
        before = assignment.state
        assignment.state = RETURNED
        assignment.returned_at = now
        assignment.return_comment = comment
        self._new_stage(assignment, definition_of(run), now)
        self.queue(session, assignment, RETURNED_NOTE, assignment.round, assignment.person,
                   now)
        self._event(session, user, "returned", assignment, run, before, comment=comment,
                    answers=[a.as_dict() for a in answers_of(assignment)])

    # -- listings ----------------------------------------------------------------------------

    def tasks_for(self, user: User) -> tuple[list[Task], list[Task]]:
        """What this person must answer, and what waits for their confirmation."""
        me = user.key
        confirmers = [me, DESK] if self.is_desk_member(user) else [me]
        with self.database.transaction() as session:
            mine = session.execute(
                select(ChecklistAssignment, ChecklistRun)
                .join(ChecklistRun, ChecklistRun.id == ChecklistAssignment.run_id)
                .where(ChecklistAssignment.person == me,
                       ChecklistAssignment.state.in_(WAITING_FOR_PERSON))
                .order_by(ChecklistAssignment.due_at, ChecklistAssignment.id)).all()
            theirs = session.execute(
                select(ChecklistAssignment, ChecklistRun)
                .join(ChecklistRun, ChecklistRun.id == ChecklistAssignment.run_id)
                .where(ChecklistAssignment.confirmer.in_(confirmers),
                       ChecklistAssignment.state == SUBMITTED,
                       ChecklistAssignment.person != me)
                .order_by(ChecklistAssignment.due_at, ChecklistAssignment.id)).all()
        return ([Task(a, r) for a, r in mine], [Task(a, r) for a, r in theirs])

    def review(self, user: User, assignment_id: int, round_: int, token: str) -> Outcome:
        """What a confirmer opens from a listing: the answers, if they may confirm them."""
        found = self.get(assignment_id, token)
        if found is None:
            return Outcome(Result.UNKNOWN)
        assignment, run = found
        if assignment.person == user.key:
            return Outcome(Result.OWN, assignment, run)
        if not self.may_confirm(user, assignment):
            self._refused(user, "review", assignment)
            return Outcome(Result.NOT_YOURS, assignment, run)
        if assignment.state != SUBMITTED or assignment.round != round_:
            return Outcome(Result.STALE, assignment, run)
        return Outcome(Result.DONE, assignment, run)

    # -- status for the desk -----------------------------------------------------------------

    def status(self, run_id: int | None = None, checklist_id: str | None = None
               ) -> list[RunStatus]:
        now = self.clock()
        query = (select(ChecklistAssignment, ChecklistRun)
                 .join(ChecklistRun, ChecklistRun.id == ChecklistAssignment.run_id)
                 .order_by(ChecklistRun.id, ChecklistAssignment.id))
        if run_id is not None:
            query = query.where(ChecklistRun.id == run_id)
        if checklist_id is not None:
            query = query.where(ChecklistRun.checklist_id == checklist_id)
        statuses: dict[int, RunStatus] = {}
        with self.database.transaction() as session:
            for assignment, run in session.execute(query).all():
                status = statuses.setdefault(run.id, RunStatus(
                    run.id, run.checklist_id, run.source, as_utc(run.started_at)))
                status.people += 1
                if assignment.state == CONFIRMED:
                    status.done += 1
                elif assignment.state == SUBMITTED:
                    status.waiting_for_confirmer += 1
                else:
                    status.waiting_for_person += 1
                if assignment.state != CONFIRMED and as_utc(assignment.due_at) <= now:
                    status.overdue.append({
                        "person": assignment.person,
                        "waiting_for": ("confirmer" if assignment.state == SUBMITTED
                                        else "person"),
                        "confirmer": assignment.confirmer,
                        "due": as_utc(assignment.due_at).isoformat(),
                        "followups": str(assignment.followups),
                        "escalated": "yes" if assignment.escalated_at else "no"})
                for answer in answers_of(assignment):
                    if answer.answer == NO:
                        status.no_answers.append({"person": assignment.person,
                                                  "item": answer.item, "note": answer.note,
                                                  "state": assignment.state})
        return list(statuses.values())

    def run_ids(self, checklist_id: str | None = None) -> list[int]:
        query = select(ChecklistRun.id).order_by(ChecklistRun.id)
        if checklist_id is not None:
            query = query.where(ChecklistRun.checklist_id == checklist_id)
        with self.database.transaction() as session:
            return list(session.execute(query).scalars())


def escalated_overdue(session: Session, service: ChecklistService,
                      assignment: ChecklistAssignment, run: ChecklistRun,
                      now: datetime) -> int | None:
    """The one escalation an overdue checklist gets, in the caller's transaction."""
    checklist = definition_of(run)
    if not insert_once(session, ChecklistEscalation, {
            "assignment_id": assignment.id, "reason": OVERDUE, "item_id": "",
            "round": assignment.round, "escalation_id": None, "created_at": now}):
        assignment.escalated_at = assignment.escalated_at or now
        return None  # escalated before
    link = session.execute(select(ChecklistEscalation).where(
        ChecklistEscalation.assignment_id == assignment.id,
        ChecklistEscalation.reason == OVERDUE)).scalar_one()
    waiting = assignment.confirmer if assignment.state == SUBMITTED else assignment.person
    if waiting == DESK:
        waiting = assignment.person
    number: int | None = None
    escalations = service.escalations
    if escalations is not None and escalations.enabled:
        lang = service.lang
        platform, _, user_id = waiting.partition(":")
        stage = "confirmer" if assignment.state == SUBMITTED else "person"
        escalation = escalations.create_in(
            session, User(platform, user_id), lang=lang, actor=SYSTEM,
            question=f"{checklist.title.get(lang)}: {OVERDUE} ({waiting})",
            context=(f"run {run.id}, due {as_utc(assignment.due_at).isoformat()}, "
                     f"waiting for the {stage}, {assignment.followups} follow-ups"),
            category=ESCALATION_CATEGORY,
            details={"checklist": checklist.id, "run": run.id, "assignment": assignment.id,
                     "reason": OVERDUE})
        number = link.escalation_id = escalation.id
    assignment.escalated_at = now
    service.audit.record(
        session, actor=SYSTEM, action="checklist.overdue_escalated",
        subject=f"checklist:{run.checklist_id}:{run.id}",
        details={"checklist": run.checklist_id, "run": run.id, "assignment": assignment.id,
                 "person": assignment.person, "confirmer": assignment.confirmer,
                 "waiting_for": waiting, "due": as_utc(assignment.due_at).isoformat(),
                 "followups": assignment.followups, "escalation": number})
    return number
