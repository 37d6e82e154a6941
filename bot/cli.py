"""`compliance-bot`: run the bot, and the tools IT, curators and auditors use around it."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot import __version__, migrate
from bot.checklists.cli import add_parser as add_checklists_parser
from bot.config import ConfigError, Settings, load_settings
from bot.escalations.cli import add_parser as add_desk_parser
from bot.kb.loader import load_knowledge
from bot.kb.schema import fill_placeholders
from bot.kb.store import KnowledgeLoadError
from bot.keys import generate_key, load_keyring
from bot.reminders.cli import add_parser as add_reminders_parser

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="compliance-bot", description=__doc__)
    parser.add_argument("--version", action="version", version=f"compliance-bot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="run the bot (console chat when no platform is configured)")
    run.add_argument("--verbose", action="store_true",
                     help="console chat: log to stderr instead of DATA_DIR/compliance-bot.log")
    commands.add_parser("keygen", help="print a new COMPLIANCE_BOT_SECRET_KEY")

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply all migrations")
    db.add_parser("current", help="print the schema revision")

    audit = commands.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True, metavar="ACTION")
    verify_parser = audit.add_parser(
        "verify", help="check the hash chain (and a checkpoint); exit 1 at the first bad row")
    verify_parser.add_argument(
        "--checkpoint", type=Path, metavar="FILE",
        help="checkpoints (one per line, as `audit checkpoint` writes them or the auditors' "
             "channel shows them): the trail must reach the latest one")
    point = audit.add_parser("checkpoint", help="append a signed checkpoint of the trail's head")
    point.add_argument("--output", "-o", type=Path, metavar="FILE",
                       help="file to append to (default: DATA_DIR/audit-checkpoints.jsonl)")
    export = audit.add_parser("export", help="write the trail as CSV or JSON lines")
    export.add_argument("--since", type=_date, help="first day to include (YYYY-MM-DD, UTC)")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")

    kb = commands.add_parser("kb", help="the knowledge base").add_subparsers(
        dest="kb_command", required=True, metavar="ACTION")
    lint = kb.add_parser("lint", help="check knowledge files; exit 1 on errors")
    lint.add_argument("--path", type=Path, help="knowledge directory (default: from config)")
    lint.add_argument("--strict", action="store_true", help="fail on warnings too")
    gaps = kb.add_parser("gaps", help="unanswered and badly rated questions")
    gaps.add_argument("--since", type=_date, help="first day to include (YYYY-MM-DD, UTC)")
    gaps.add_argument("--json", action="store_true", help="one JSON object per line")
    evaluation = kb.add_parser(
        "eval", help="score the engine on an evaluation file; exit 1 below a --min-* floor")
    evaluation.add_argument("file", type=Path, help="evaluation questions (YAML)")
    evaluation.add_argument("--json", action="store_true", help="print one JSON object")
    for name, what in (("top1", "answered-and-right share of in-scope questions, per language"),
                       ("shown", "right answer or suggestion share of in-scope questions"),
                       ("abstention", "abstention share of must-abstain questions")):
        evaluation.add_argument(f"--min-{name}", type=float, metavar="SHARE", help=what)

    reports = commands.add_parser("reports", help="anonymous reports").add_subparsers(
        dest="reports_command", required=True, metavar="ACTION")
    reports.add_parser("rekey", help="re-encrypt every report under the current secret key")
    due = reports.add_parser("due", help="open cases and their deadlines (no content)")
    due.add_argument("--json", action="store_true", help="one JSON object per line")

    add_desk_parser(commands)
    add_reminders_parser(commands)
    add_checklists_parser(commands)

    ask = commands.add_parser("ask", help="ask one question (or '-' for one per stdin line)")
    ask.add_argument("question", help="the question, or '-' to read questions from stdin")
    ask.add_argument("--json", action="store_true", help="print JSON")
    ask.add_argument("--lang", choices=("ja", "en"), help="force the language")
    return parser


def _date(value: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


LOG_FILE = "compliance-bot.log"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        from bot import logs

        console = args.command == "run" and settings.slack is None and settings.teams is None
        if console and not args.verbose:
            # The chat owns the terminal: log lines between a question and its answer would
            # be read as part of the conversation.
            logs.configure(settings.file.logging, path=settings.data_dir / LOG_FILE)
        else:
            logs.configure(settings.file.logging, quiet=args.command != "run")
        return COMMANDS[args.command](args, settings)
    except (ConfigError, KnowledgeLoadError) as exc:
        print(f"compliance-bot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.run import run

    return run(settings)


def cmd_keygen(args: argparse.Namespace, settings: Settings) -> int:
    print(generate_key())
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import OperationalError

    from bot.db import Database

    database = Database(settings.effective_database_url())
    try:
        if args.db_command == "upgrade":
            migrate.upgrade(database)
        print(f"schema revision: {migrate.current_revision(database)} "
              f"(latest: {migrate.head_revision()})")
    except OperationalError as exc:  # one line, as `run` says it, not a traceback
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "connection failed"
        raise ConfigError(f"DATABASE_URL: cannot use the database: {reason}") from None
    finally:
        database.dispose()
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from bot.audit import (
        AuditTrail,
        checkpoint,
        export_rows,
        format_rows,
        last_checkpoint,
        verify,
    )
    from bot.core import open_database

    keyring = load_keyring(settings)
    database = open_database(settings)
    if args.audit_command == "checkpoint":
        path = args.output or settings.data_dir / "audit-checkpoints.jsonl"
        with database.transaction() as session:
            point = checkpoint(session, keyring)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as checkpoints:
            checkpoints.write(point.to_json() + "\n")
        print(point.to_json())
        return 0
    if args.audit_command == "verify":
        anchor = None
        if args.checkpoint is not None:
            try:
                anchor = last_checkpoint(args.checkpoint, keyring)
            except (OSError, ValueError) as exc:
                print(f"checkpoint file {args.checkpoint}: {exc}", file=sys.stderr)
                return 1
        with database.transaction() as session:
            result = verify(session, keyring, anchor)
        if result.ok:
            against = f", reaching the checkpoint of {anchor.ts} (row {anchor.seq})" \
                if anchor else ""
            print(f"audit trail intact: {result.rows} rows{against}")
            return 0
        print(f"audit trail BROKEN at row {result.bad_seq}: {result.problem}", file=sys.stderr)
        return 1
    out: TextIO = (args.output.open("w", encoding="utf-8", newline="")
                   if args.output else sys.stdout)
    try:
        with database.transaction() as session:
            for chunk in format_rows(export_rows(session, args.since), args.format):
                out.write(chunk)
            # Reading the trail is itself an event auditors want to see.
            AuditTrail(keyring).record(
                session, actor="cli", action="audit.exported", subject="audit_events",
                details={"since": args.since.date().isoformat() if args.since else None,
                         "format": args.format},
            )
    finally:
        if args.output:
            out.close()
    return 0


def cmd_kb(args: argparse.Namespace, settings: Settings) -> int:
    if args.kb_command == "lint":
        directory = args.path or settings.file.knowledge.path
        base = load_knowledge(directory, stale_after_days=settings.file.knowledge.stale_after_days)
        for issue in base.issues:
            print(issue)
        errors = len(base.errors)
        warnings = len(base.issues) - errors
        print(f"{len(base.entries)} entries, {len(base.topics)} topics: "
              f"{errors} errors, {warnings} warnings")
        return 1 if errors or (args.strict and warnings) else 0
    if args.kb_command == "eval":
        return _kb_eval(args, settings)
    from bot.core import open_database
    from bot.gaps import find_gaps

    database = open_database(settings)
    with database.transaction() as session:
        gaps = find_gaps(session, args.since)
    for gap in gaps:
        if args.json:
            print(json.dumps({
                "question": gap.question, "lang": gap.lang, "reason": gap.reason,
                "times": gap.times, "last_asked": gap.last_asked.isoformat(),
                "entry_id": gap.entry_id, "best_score": gap.best_score,
            }, ensure_ascii=False))
        else:
            entry = f" -> {gap.entry_id}" if gap.entry_id else ""
            print(f"{gap.times:>4}x  {gap.reason:<10}  [{gap.lang}] {gap.question}{entry}")
    if not args.json:
        print(f"{len(gaps)} gaps")
    return 0


def _kb_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core import open_knowledge
    from bot.kb.evaluate import EvalFileError, evaluate, format_report, load_eval

    base, engine = open_knowledge(settings).current()
    try:
        questions = load_eval(args.file, base.topics)
    except EvalFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = evaluate(engine, questions)
    summary = report.as_dict()
    summary["semantic"] = engine.semantic
    summary["kb_version"] = base.version
    failures = []
    checks = [("top1", f"top1[{lang}]", summary["by_lang"].get(lang, {}).get("top1"))
              for lang in ("ja", "en")]
    checks += [("shown", "right_among_shown", summary["total"]["right_among_shown"]),
               ("abstention", "abstention", summary["total"]["abstention"])]
    for flag, label, value in checks:
        floor = getattr(args, f"min_{flag}")
        if floor is not None and value is not None and value < floor:
            failures.append(f"{label} {value:.3f} is below the floor {floor}")
    if args.json:
        summary["failures"] = failures
        print(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        print(format_report(report))
        print(f"semantic signal: {'on' if engine.semantic else 'off'}; "
              f"knowledge base {base.version}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core import open_knowledge

    store = open_knowledge(settings)
    _, engine = store.current()
    questions = sys.stdin if args.question == "-" else [args.question]
    limit = settings.file.search.max_question_chars
    for raw in questions:
        text = raw.strip()
        if not text:
            continue
        if len(text) > limit:
            result_json: dict[str, object] = {
                "answered": False, "entry_id": None, "topics": [], "score": 0.0, "lang": None,
                "answer": None, "error": f"question longer than {limit} characters"}
            print(json.dumps(result_json, ensure_ascii=False), flush=True)
            continue
        result = engine.search(text, args.lang)
        entry = result.best.entry if result.answered and result.best else None
        values = settings.file.company.placeholders(result.lang)
        answer = fill_placeholders(entry.answer.get(result.lang), values) if entry else None
        payload = {
            "answered": result.answered,
            "entry_id": entry.id if entry else None,
            "topics": list(entry.topics) if entry else [],
            "score": result.score,
            "lang": result.lang,
            "answer": answer,
            "source": entry.source.get(result.lang) if entry else None,
            "suggestions": [{"entry_id": m.entry.id, "score": m.score}
                            for m in result.suggestions],
        }
        if args.json:
            print(json.dumps(payload, ensure_ascii=False), flush=True)
        else:
            print(answer if entry else "(no answer: the bot would abstain and offer the desk)")
            if entry:
                print(f"-- {entry.id} ({result.score:.2f}) {payload['source']}")
    return 0


def cmd_reports(args: argparse.Namespace, settings: Settings) -> int:
    from bot.audit import AuditTrail
    from bot.clock import utcnow
    from bot.core import open_database
    from bot.reports.service import Reports

    keyring = load_keyring(settings)
    database = open_database(settings)
    reports = Reports(database, keyring, AuditTrail(keyring), settings.file.reports,
                      settings.file.desk.members)
    try:
        if args.reports_command == "rekey":
            counts = reports.rekey()
            print(f"re-encrypted {counts['reports']} reports and {counts['messages']} messages "
                  f"under key {reports.sealer.current_id}")
            return 0
        now, soon = utcnow(), timedelta(days=settings.file.reports.remind_before_days)
        for case in reports.open_cases(actor="cli"):
            for deadline in case.deadlines:
                row = {"case": case.case_number, "status": case.status,
                       "deadline": deadline.kind, "due": deadline.due.isoformat(),
                       "state": deadline.state(now, soon)}
                if args.json:
                    print(json.dumps(row))
                elif row["state"] != "met":
                    print(f"{row['case']}  {row['status']:<16} {row['deadline']:<12} "
                          f"{deadline.due:%Y-%m-%d %H:%M} UTC  {row['state']}")
        return 0
    finally:
        database.dispose()


def cmd_reminders(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reminders.cli import run

    return run(args, settings)


def cmd_checklists(args: argparse.Namespace, settings: Settings) -> int:
    from bot.checklists.cli import run

    return run(args, settings)


def cmd_desk(args: argparse.Namespace, settings: Settings) -> int:
    from bot.escalations.cli import run

    return run(args, settings)


COMMANDS = {
    "run": cmd_run, "keygen": cmd_keygen, "db": cmd_db, "audit": cmd_audit, "kb": cmd_kb,
    "ask": cmd_ask, "reports": cmd_reports, "desk": cmd_desk, "reminders": cmd_reminders,
    "checklists": cmd_checklists,
}

if __name__ == "__main__":
    sys.exit(main())
