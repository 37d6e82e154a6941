"""`compliance-bot checklists lint | start | status | export`: for curators, HR and IT, the
desk and auditors.

`start` only stores the run and its messages: the running bot's sweeps send them, under the
same lease and pacing as scheduled ones. A CSV import is all or nothing: every bad row is
named (`file:line: reason`) and nothing is started; the same file imported again starts
nothing twice (its key is the file's digest).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.config import ConfigError

if TYPE_CHECKING:
    from bot.checklists.definitions import Definitions
    from bot.checklists.service import ChecklistService, RunStatus
    from bot.config import Settings
    from bot.db import Database

STATUS_FIELDS = ("run", "checklist", "source", "started_at", "people", "done",
                 "waiting_for_person", "waiting_for_confirmer", "overdue", "no_answers")
EVIDENCE_FIELDS = ("seq", "at", "event", "checklist", "run", "person", "confirmer", "by",
                   "round", "answers", "no_items", "comment", "escalation")
EVIDENCE_EVENTS = ("checklist.started", "checklist.submitted", "checklist.returned",
                   "checklist.confirmed", "checklist.overdue_escalated")


def add_parser(commands: Any) -> None:
    """Add `checklists` to the CLI's subcommands."""
    checklists = commands.add_parser(
        "checklists", help="checklists with a second confirmer").add_subparsers(
        dest="checklists_command", required=True, metavar="ACTION")
    lint = checklists.add_parser(
        "lint", help="check the definitions (file:line: id: reason); exit 1 on errors")
    lint.add_argument("--path", type=Path, help="definitions directory (default: from config)")
    start = checklists.add_parser(
        "start", help="start a checklist for one person or for each row of HR's CSV")
    start.add_argument("checklist", help="the checklist's id, e.g. transfer")
    who = start.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", help="platform:user_id, e.g. slack:U0123ABCD")
    who.add_argument("--csv", type=Path, metavar="FILE",
                     help="columns person, confirmer, due, person_name, confirmer_name")
    start.add_argument("--confirmer", help="platform:user_id, or desk")
    start.add_argument("--due", help="YYYY-MM-DD (default: the checklist's due_days)")
    start.add_argument("--person-name", help="the name messages show for the person")
    start.add_argument("--confirmer-name", help="the name messages show for the confirmer")
    start.add_argument("--key", help="starts once per key (default: the CSV file's digest; "
                                     "for --person, a new run each time)")
    status = checklists.add_parser(
        "status", help="per run: done, waiting for the confirmer, overdue, no answers")
    status.add_argument("run", nargs="?", type=int, help="one run (default: all)")
    status.add_argument("--checklist", help="only this checklist's runs")
    status.add_argument("--format", choices=("text", "csv", "json"), default="text")
    export = checklists.add_parser(
        "export", help="the auditor's evidence: who answered, sent back and confirmed what, "
                       "when (from the audit trail; the export is audited)")
    export.add_argument("--run", type=int, help="one run (default: all)")
    export.add_argument("--since", type=date.fromisoformat, help="first day (YYYY-MM-DD, UTC)")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.checklists.definitions import lint, load_checklists

    command = args.checklists_command
    if command == "lint":
        return _lint(args, settings, sys.stdout)
    path = settings.file.checklists.path
    if path is None:
        raise ConfigError("checklists.path: not set; name the definitions directory in "
                          "config.yaml (see knowledge/checklists)")
    definitions = load_checklists(path) if command == "start" else lint(path)
    from bot.core import open_database

    database = open_database(settings)
    try:
        service = _service(settings, database, definitions)
        if command == "start":
            return _start(args, service, sys.stdout, sys.stderr)
        if command == "status":
            write_status(service.status(args.run, args.checklist), args.format, sys.stdout)
            return 0
        return _export(args, service)
    finally:
        database.dispose()


def _service(settings: Settings, database: Database, definitions: Definitions
             ) -> ChecklistService:
    from bot.audit import AuditTrail
    from bot.checklists.definitions import enabled
    from bot.checklists.service import ChecklistService
    from bot.keys import load_keyring

    keyring = load_keyring(settings)
    return ChecklistService(database, AuditTrail(keyring), keyring, settings,
                            enabled(definitions.checklists))


# -- lint ---------------------------------------------------------------------------------------


def _lint(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from bot.checklists.definitions import lint

    directory = args.path or settings.file.checklists.path
    if directory is None:
        raise ConfigError("checklists.path: not set (or give --path)")
    definitions = lint(directory)
    problems = [str(issue) for issue in definitions.issues]
    ids = {checklist.id for checklist in definitions.checklists if checklist.enabled}
    for index, schedule in enumerate(settings.file.checklists.schedules):
        if schedule.checklist not in ids:
            problems.append(f"{settings.config_path}: checklists.schedules[{index}].checklist: "
                            f"no enabled checklist {schedule.checklist!r}")
    if settings.file.desk.default_channel is None and any(
            c.confirmer == "desk" for c in definitions.checklists):
        problems.append(f"{settings.config_path}: desk.default_channel: a checklist is "
                        "confirmed by the desk; name the desk's channel")
    for problem in problems:
        out.write(problem + "\n")
    out.write(f"{len(definitions.checklists)} checklists: {len(problems)} errors\n")
    return 1 if problems else 0


# -- start --------------------------------------------------------------------------------------


def _start(args: argparse.Namespace, service: ChecklistService, out: TextIO, err: TextIO
           ) -> int:
    from bot.checklists.rows import RowError, check_rows, csv_rows, decode_csv

    checklist = service.checklists.get(args.checklist)
    if checklist is None:
        known = ", ".join(sorted(service.checklists)) or "none"
        raise ConfigError(f"checklists: no enabled checklist {args.checklist!r} "
                          f"(known: {known})")
    try:
        if args.csv is not None:
            try:
                data = args.csv.read_bytes()
            except OSError as exc:
                raise ConfigError(f"{args.csv}: cannot read: {exc.strerror}") from None
            raws = csv_rows(decode_csv(data), str(args.csv))
            key = args.key or "csv:" + hashlib.sha256(data).hexdigest()
            source = "csv"
        else:
            raws = [("--person", {"person": args.person, "confirmer": args.confirmer,
                                  "due": args.due, "person_name": args.person_name,
                                  "confirmer_name": args.confirmer_name})]
            key = args.key or f"cli:{uuid.uuid4().hex}"
            source = "cli"
        rows = check_rows(checklist, raws, today=service.today(),
                          max_rows=service.settings.file.checklists.max_rows)
    except RowError as exc:
        for error in exc.errors:
            err.write(error + "\n")
        err.write(f"nothing was started ({len(exc.errors)} rows to fix)\n")
        return 1
    started = service.start(checklist.id, rows, key=key, source=source, actor="cli")
    if started.created:
        who = "1 person" if started.people == 1 else f"{started.people} people"
        out.write(f"{checklist.id} run {started.run_id}: started for {who}; the running bot "
                  "sends it\n")
    else:
        out.write(f"{checklist.id} run {started.run_id}: already started "
                  f"{started.started_at:%Y-%m-%d %H:%M} UTC with this key; nothing new\n")
    return 0


# -- status -------------------------------------------------------------------------------------


def write_status(statuses: list[RunStatus], fmt: str, out: TextIO) -> None:
    """Text for a terminal, CSV for a spreadsheet, JSON lines for a script."""
    if fmt == "json":
        for status in statuses:
            out.write(json.dumps(status.as_dict(), ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=STATUS_FIELDS, lineterminator="\n")
        writer.writeheader()
        for status in statuses:
            row = status.as_dict()
            row["overdue"] = " ".join(o["person"] for o in status.overdue)
            row["no_answers"] = " | ".join(
                f"{n['person']} {n['item']}: {n['note'] or ''}" for n in status.no_answers)
            writer.writerow(row)
        return
    out.write(f"{'run':>5} {'checklist':<24} {'source':<8} {'started (UTC)':<16} {'people':>6} "
              f"{'done':>6} {'confirmer':>9} {'person':>6} {'overdue':>7} {'no':>4}\n")
    for status in statuses:
        out.write(f"{status.run_id:>5} {status.checklist_id:<24} {status.source:<8} "
                  f"{status.started_at:%Y-%m-%d %H:%M} {status.people:>6} {status.done:>6} "
                  f"{status.waiting_for_confirmer:>9} {status.waiting_for_person:>6} "
                  f"{len(status.overdue):>7} {len(status.no_answers):>4}\n")
        for late in status.overdue:
            out.write(f"  overdue: {late['person']} (waiting for the {late['waiting_for']}, "
                      f"due {late['due']}, {late['followups']} follow-ups, escalated "
                      f"{late['escalated']})\n")
        for answer in status.no_answers:
            out.write(f"  no: {answer['person']} {answer['item']}: {answer['note'] or ''} "
                      f"({answer['state']})\n")
    if not statuses:
        out.write("no checklists started yet\n")


# -- export -------------------------------------------------------------------------------------


def evidence_rows(service: ChecklistService, run: int | None, since: datetime | None
                  ) -> list[dict[str, Any]]:
    """One row per step from the audit trail (sealed, so what the auditor reads is what was
    recorded at the time): who answered, sent back, confirmed, and with which answers."""
    from sqlalchemy import select

    from bot.models import AuditEvent

    query = select(AuditEvent).where(AuditEvent.action.in_(EVIDENCE_EVENTS)) \
        .order_by(AuditEvent.seq)
    if since is not None:
        query = query.where(AuditEvent.ts >= since)
    rows: list[dict[str, Any]] = []
    with service.database.transaction() as session:
        for event in session.execute(query).scalars():
            details = json.loads(event.details)
            if run is not None and details.get("run") != run:
                continue
            at = event.ts if event.ts.tzinfo else event.ts.replace(tzinfo=UTC)
            base = {"seq": event.seq, "at": at.astimezone(UTC).isoformat(),
                    "event": event.action.removeprefix("checklist."),
                    "checklist": details.get("checklist"), "run": details.get("run")}
            if event.action == "checklist.started":
                for started in details.get("assignments", []):
                    rows.append({**base, "person": started.get("person"),
                                 "confirmer": started.get("confirmer"),
                                 "by": event.actor, "round": 0})
                continue
            answers = details.get("answers") or []
            rows.append({
                **base, "person": details.get("person"), "confirmer": details.get("confirmer"),
                "by": details.get("by") or event.actor, "round": details.get("round"),
                "answers": "; ".join(_answer(a) for a in answers),
                "no_items": " ".join(a["item"] for a in answers if a.get("answer") == "no"),
                "comment": details.get("comment"),
                "escalation": details.get("escalation")})
    return rows


def _answer(answer: dict[str, Any]) -> str:
    shown = answer.get("answer") or answer.get("value") or ""
    note = f" ({answer['note']})" if answer.get("note") else ""
    return f"{answer.get('item')}={shown}{note}"


def _export(args: argparse.Namespace, service: ChecklistService) -> int:
    from bot.audit import canonical_json

    since = datetime.combine(args.since, datetime.min.time(), tzinfo=UTC) if args.since \
        else None
    rows = evidence_rows(service, args.run, since)
    out: TextIO = (args.output.open("w", encoding="utf-8", newline="")
                   if args.output else sys.stdout)
    try:
        if args.format == "jsonl":
            for row in rows:
                out.write(canonical_json(row) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=EVIDENCE_FIELDS, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({key: row.get(key) for key in EVIDENCE_FIELDS})
    finally:
        if args.output:
            out.close()
    with service.database.transaction() as session:  # reading evidence is itself evidence
        service.audit.record(session, actor="cli", action="checklist.exported",
                             subject="checklists", details={
                                 "run": args.run, "format": args.format, "rows": len(rows),
                                 "since": args.since.isoformat() if args.since else None})
    return 0
