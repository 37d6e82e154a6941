"""`compliance-bot desk report` and `compliance-bot desk draft`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.db import Database
    from bot.escalations.sla import BusinessCalendar


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _moment(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date and time (YYYY-MM-DDTHH:MM): {value!r}") from None


def add_parser(commands: Any) -> None:
    """Add `desk` to the CLI's subcommands."""
    desk = commands.add_parser("desk", help="escalations to the compliance desk").add_subparsers(
        dest="desk_command", required=True, metavar="ACTION")
    report = desk.add_parser(
        "report", help="open, overdue and median first response and resolution times, "
        "per channel and per topic")
    report.add_argument("--since", type=_day,
                        help="only escalations received from this day (YYYY-MM-DD)")
    report.add_argument("--at", type=_moment,
                        help="as of this moment (YYYY-MM-DDTHH:MM, desk time zone; default now)")
    report.add_argument("--json", action="store_true", help="print JSON")
    report.add_argument("--chart", type=Path,
                        help="also write a PNG of open and overdue escalations at the end of "
                        "each week (Sunday 24:00, desk time zone), by urgency")
    report.add_argument("--weeks", type=int, default=12, help="weeks in the chart (default 12)")
    report.add_argument("--lang", choices=("ja", "en"),
                        help="the chart's language (default: default_language)")
    draft = desk.add_parser("draft", help="print a knowledge-base entry drafted from a "
                            "resolved escalation")
    draft.add_argument("id", type=int, help="the escalation number")
    draft.add_argument("--output", "-o", type=Path, help="file to write, e.g. "
                       "knowledge/drafts/escalation-12.yaml (default: stdout)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core import open_database
    from bot.escalations.sla import BusinessCalendar

    calendar = BusinessCalendar.from_settings(settings.file.desk.sla)
    database = open_database(settings)
    try:
        if args.desk_command == "report":
            return _report(args, database, calendar, args.lang or settings.file.default_language)
        return _draft(args, settings, database, calendar)
    finally:
        database.dispose()


def _report(args: argparse.Namespace, database: Database, calendar: BusinessCalendar,
            lang: str) -> int:
    from bot.escalations.chart import write_chart
    from bot.escalations.report import build_report, format_report, load, weekly_counts

    at = datetime.now(UTC)
    if args.at is not None:
        at = args.at if args.at.tzinfo else args.at.replace(tzinfo=calendar.zone)
    since = (datetime.combine(args.since, datetime.min.time(), tzinfo=calendar.zone)
             if args.since else None)
    with database.transaction() as session:
        escalations = load(session, at)
    report = build_report(escalations, calendar, at, since)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(format_report(report, calendar))
    if args.chart is not None:
        write_chart(weekly_counts(escalations, calendar, at, max(1, args.weeks)), calendar,
                    args.chart, lang)
        print(f"chart written to {args.chart}", file=sys.stderr)
    return 0


def _draft(args: argparse.Namespace, settings: Settings, database: Database,
           calendar: BusinessCalendar) -> int:
    from sqlalchemy import select

    from bot.audit import AuditTrail
    from bot.core import open_knowledge
    from bot.escalations.draft import DraftError, draft_entry
    from bot.escalations.models import Escalation, EscalationMessage
    from bot.keys import load_keyring

    base, engine = open_knowledge(settings).current()
    with database.transaction() as session:
        escalation = session.get(Escalation, args.id)
        if escalation is None:
            print(f"compliance-bot: error: escalation {args.id} does not exist", file=sys.stderr)
            return 1
        messages = list(session.execute(
            select(EscalationMessage).where(EscalationMessage.escalation_id == args.id)
            .order_by(EscalationMessage.id)).scalars())
        try:
            text = draft_entry(escalation, messages, base, engine,
                               calendar.local(escalation.created_at).date())
        except DraftError as exc:
            print(f"compliance-bot: error: {exc}", file=sys.stderr)
            return 1
        # The draft carries what the requester asked: reading it out is worth a record.
        AuditTrail(load_keyring(settings)).record(
            session, actor="cli", action="escalation.drafted", subject=f"escalation:{args.id}",
            details={"output": "file" if args.output else "stdout"})
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
