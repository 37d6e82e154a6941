"""`compliance-bot reminders list | status | send`: for the desk and for auditors.

`send ID --now` only queues the occurrence: the running bot's sweeps deliver it, under the same
lease and pacing as scheduled ones, so a manual run can never double the send rate or race a
scheduled one. `--wait` follows it with a progress bar.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from bot.config import ConfigError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.db import Database
    from bot.reminders.definitions import Reminder
    from bot.reminders.service import OccurrenceStatus, ReminderService

CSV_FIELDS = ("reminder_id", "occurrence", "recipients", "sent", "pending", "failed",
              "acknowledged", "not_acknowledged", "overdue")


def add_parser(commands: Any) -> None:
    """Add `reminders` to the CLI's subcommands."""
    reminders = commands.add_parser("reminders", help="scheduled reminders").add_subparsers(
        dest="reminders_command", required=True, metavar="ACTION")
    reminders.add_parser("list", help="check the definitions and show when each runs next")
    status = reminders.add_parser(
        "status", help="per occurrence: sent, pending, failed, acknowledged, and who is overdue")
    status.add_argument("reminder_id", nargs="?", help="one reminder (default: all)")
    status.add_argument("--format", choices=("text", "csv", "json"), default="text")
    status.add_argument("--all", action="store_true",
                        help="name everyone who has not acknowledged, not only the overdue")
    send = reminders.add_parser("send", help="queue an unscheduled occurrence for the bot")
    send.add_argument("reminder_id")
    send.add_argument("--now", action="store_true", required=True,
                      help="queue it now (the only option: it says what it does)")
    send.add_argument("--wait", action="store_true",
                      help="follow the delivery with a progress bar until it is done")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.reminders.definitions import load_reminders

    if settings.file.reminders.path is None:
        raise ConfigError("reminders.path: not set; name a definitions file in config.yaml "
                          "(see knowledge/reminders/reminders.yaml)")
    reminders = load_reminders(settings.file.reminders.path)
    if args.reminders_command == "list":
        return _list(reminders, sys.stdout)
    from bot.core import open_database

    database = open_database(settings)
    try:
        if args.reminders_command == "status":
            return _status(args, settings, database, reminders, sys.stdout)
        return _send(args, settings, database, reminders)
    finally:
        database.dispose()


def _list(reminders: list[Reminder], out: TextIO) -> int:
    now = datetime.now(UTC)
    for reminder in reminders:
        if reminder.is_interval:
            upcoming = "per person"
        else:
            moment = reminder.schedule.next_after(now)
            zone = ZoneInfo(reminder.schedule.timezone)
            upcoming = moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment else "-"
        policy = reminder.follow_up
        details = [
            reminder.describe_schedule(), reminder.audience.describe(),
            "channel post" if reminder.broadcast else "DM each",
            "acknowledgement asked" if reminder.acknowledge else "no acknowledgement",
            f"follow up after {policy.after_days} days, at most {policy.max_times} times"
            if policy else "no follow-up",
        ]
        state = "" if reminder.enabled else "  (disabled)"
        out.write(f"{reminder.id}{state}\n  next: {upcoming}\n  " + "\n  ".join(details) + "\n")
    out.write(f"{len(reminders)} reminders\n")
    return 0


def _service(settings: Settings, database: Database, reminders: list[Reminder]
             ) -> ReminderService:
    from bot.audit import AuditTrail
    from bot.keys import load_keyring
    from bot.reminders.service import ReminderService

    keyring = load_keyring(settings)
    return ReminderService(database, AuditTrail(keyring), keyring, reminders)


def _status(args: argparse.Namespace, settings: Settings, database: Database,
            reminders: list[Reminder], out: TextIO) -> int:
    statuses = _service(settings, database, reminders).status(args.reminder_id)
    write_status(statuses, args.format, out, everyone=args.all)
    return 0


def write_status(statuses: list[OccurrenceStatus], fmt: str, out: TextIO, *,
                 everyone: bool = False) -> None:
    """Text for a terminal, CSV for a spreadsheet, JSON lines for a script."""
    if fmt == "json":
        for status in statuses:
            row = status.as_dict()
            if everyone:
                row["not_acknowledged_ids"] = status.not_acknowledged
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for status in statuses:
            row = status.as_dict()
            names = status.not_acknowledged if everyone else status.overdue
            writer.writerow({**row, "overdue": " ".join(names)})
        return
    out.write(f"{'reminder':<28} {'occurrence':<21} {'people':>6} {'sent':>6} {'pending':>7} "
              f"{'failed':>6} {'acked':>6} {'not acked':>9} {'overdue':>7}\n")
    for status in statuses:
        out.write(f"{status.reminder_id:<28} {status.occurrence:<21} {status.recipients:>6} "
                  f"{status.sent:>6} {status.pending:>7} {status.failed:>6} "
                  f"{status.acknowledged:>6} {len(status.not_acknowledged):>9} "
                  f"{len(status.overdue):>7}\n")
        if status.overdue:
            out.write("  overdue after the last follow-up: " + ", ".join(status.overdue) + "\n")
        if everyone and status.not_acknowledged:
            out.write("  not acknowledged: " + ", ".join(status.not_acknowledged) + "\n")
    if not statuses:
        out.write("no reminders sent yet\n")


def _send(args: argparse.Namespace, settings: Settings, database: Database,
          reminders: list[Reminder]) -> int:
    from bot.audit import AuditTrail
    from bot.keys import load_keyring
    from bot.reminders.planner import Planner

    reminder = next((r for r in reminders if r.id == args.reminder_id), None)
    if reminder is None:
        known = ", ".join(r.id for r in reminders) or "none"
        raise ConfigError(f"reminders: no reminder {args.reminder_id!r} (known: {known})")
    if reminder.is_interval:
        raise ConfigError(f"reminders: {reminder.id} runs per person every "
                          f"{reminder.schedule.every_days} days; it cannot be sent at once")
    from bot.wiring import platform_ports

    # Every platform with credentials, through the same factory `run` uses.
    directories = {name: port.directory for name, port in platform_ports(settings).items()}
    planner = Planner(database, AuditTrail(load_keyring(settings)), [reminder], directories,
                      directory_refresh_s=settings.file.reminders.directory_refresh_s)
    from bot.reminders.planner import RosterError

    try:
        key, added = planner.plan_now(reminder, datetime.now(UTC), actor="cli")
    except RosterError as exc:
        raise ConfigError(f"reminders: {reminder.id}: cannot resolve the audience: {exc}") from None
    print(f"{reminder.id} {key}: {added} deliveries queued; the running bot sends them")
    if args.wait and added:
        return follow(database, reminder.id, key, sys.stderr)
    return 0


def follow(database: Database, reminder_id: str, occurrence: str, out: TextIO,
           poll_s: float = 1.0) -> int:
    """A progress bar with an ETA while the bot delivers; exit 1 if any delivery failed."""
    from sqlalchemy import func, select

    from bot.reminders.models import FAILED, SENT, ReminderDelivery

    started = time.monotonic()
    first_done: int | None = None
    while True:
        with database.transaction() as session:
            counts = dict(session.execute(
                select(ReminderDelivery.state, func.count()).where(
                    ReminderDelivery.reminder_id == reminder_id,
                    ReminderDelivery.occurrence == occurrence,
                ).group_by(ReminderDelivery.state)).all())
        total = sum(counts.values())
        done = counts.get(SENT, 0) + counts.get(FAILED, 0)
        first_done = done if first_done is None else first_done
        elapsed = time.monotonic() - started
        rate = (done - first_done) / elapsed if elapsed > 0 else 0.0
        eta = f"{(total - done) / rate:,.0f}s" if rate > 0 else "?"
        bar = "#" * int(30 * done / total) if total else ""
        # Sent and failed apart, as `reminders status` counts them: a failure is done, not sent.
        line = (f"[{bar:<30}] {counts.get(SENT, 0)}/{total} sent, {counts.get(FAILED, 0)} "
                f"failed, ETA {eta}")
        if out.isatty():
            out.write("\r" + line)
            out.flush()
        if done >= total:
            out.write(("\n" if out.isatty() else "") + line + "\n")
            return 1 if counts.get(FAILED, 0) else 0
        time.sleep(poll_s)
