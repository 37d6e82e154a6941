"""`compliance-bot desk report`: open, overdue and how fast the desk answers and resolves.

Every figure is computed "as of" a moment from the escalation's timestamps, not from its
current status, so a report for last Friday reads the same on Monday and the weekly chart
is the same computation repeated per week. Durations are business hours, as the SLAs are.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.escalations.models import Escalation
from bot.escalations.settings import URGENCIES
from bot.escalations.sla import BusinessCalendar, aware

NO_TOPIC = "(none)"


def is_open(escalation: Escalation, at: datetime) -> bool:
    if aware(escalation.created_at) > at:
        return False
    return escalation.resolved_at is None or aware(escalation.resolved_at) > at


def is_overdue(escalation: Escalation, at: datetime) -> bool:
    """Open and past a target: resolution, or a first response that has not come in time."""
    if not is_open(escalation, at):
        return False
    if at > aware(escalation.resolution_due):
        return True
    responded = (escalation.first_response_at is not None
                 and aware(escalation.first_response_at) <= at)
    return not responded and at > aware(escalation.first_response_due)


@dataclass(frozen=True)
class Figures:
    kind: str  # "all", "channel" or "topic"
    name: str
    total: int
    open: int
    overdue: int
    first_response_hours: float | None  # median, business hours
    resolution_hours: float | None


@dataclass(frozen=True)
class DeskReport:
    at: datetime
    since: datetime | None
    figures: list[Figures]

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(),
                "since": self.since.isoformat() if self.since else None,
                "groups": [asdict(f) for f in self.figures]}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _figures(kind: str, name: str, escalations: list[Escalation], at: datetime,
             calendar: BusinessCalendar) -> Figures:
    first, resolution = [], []
    for escalation in escalations:
        created = escalation.created_at
        if escalation.first_response_at is not None and aware(escalation.first_response_at) <= at:
            first.append(calendar.between(created, escalation.first_response_at) / 60)
        if escalation.resolved_at is not None and aware(escalation.resolved_at) <= at:
            resolution.append(calendar.between(created, escalation.resolved_at) / 60)
    return Figures(
        kind, name, len(escalations),
        sum(is_open(e, at) for e in escalations),
        sum(is_overdue(e, at) for e in escalations),
        _median(first), _median(resolution),
    )


def load(session: Session, at: datetime, since: datetime | None = None) -> list[Escalation]:
    query = select(Escalation).where(Escalation.created_at <= at).order_by(Escalation.id)
    if since is not None:
        query = query.where(Escalation.created_at >= since)
    return list(session.execute(query).scalars())


def build_report(escalations: Iterable[Escalation], calendar: BusinessCalendar, at: datetime,
                 since: datetime | None = None) -> DeskReport:
    """Figures for all escalations, then per triage channel and per topic (an escalation
    with two topics counts under both)."""
    at = aware(at)
    rows = [e for e in escalations if aware(e.created_at) <= at
            and (since is None or aware(e.created_at) >= aware(since))]
    by_channel: dict[str, list[Escalation]] = {}
    by_topic: dict[str, list[Escalation]] = {}
    for escalation in rows:
        by_channel.setdefault(escalation.channel, []).append(escalation)
        for topic in json.loads(escalation.topics) or [NO_TOPIC]:
            by_topic.setdefault(topic, []).append(escalation)
    figures = [_figures("all", "all", rows, at, calendar)]
    figures += [_figures("channel", name, group, at, calendar)
                for name, group in sorted(by_channel.items())]
    figures += [_figures("topic", name, group, at, calendar)
                for name, group in sorted(by_topic.items())]
    return DeskReport(at, since, figures)


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def format_report(report: DeskReport, calendar: BusinessCalendar) -> str:
    local = calendar.local(report.at).strftime("%Y-%m-%d %H:%M")
    labels = ["all" if f.kind == "all" else f"{f.kind} {f.name}" for f in report.figures]
    # As wide as the longest name: a Teams channel id is long, and a cut one names nothing.
    width = max(len(label) for label in labels)
    lines = [f"desk report at {local} {calendar.zone.key}"
             + (f", escalations since {calendar.local(report.since):%Y-%m-%d}"
                if report.since else "")
             + " (median times in business hours)",
             f"{'':<{width}} {'total':>5} {'open':>5} {'overdue':>7} {'1st response':>12} "
             f"{'resolution':>10}"]
    for label, f in zip(labels, report.figures, strict=True):
        lines.append(f"{label:<{width}} {f.total:>5} {f.open:>5} {f.overdue:>7} "
                     f"{_hours(f.first_response_hours):>12} {_hours(f.resolution_hours):>10}")
    return "\n".join(lines)


# -- the weekly chart's figures ---------------------------------------------------------


@dataclass(frozen=True)
class WeekCounts:
    """Open and overdue escalations per urgency at the end of one week.

    `end` is the end of the week's Sunday (24:00, i.e. Monday 00:00) in the desk's time zone,
    in UTC; overdue escalations are counted among the open ones too, as they are part of them.
    """

    end: datetime
    open: dict[str, int]
    overdue: dict[str, int]

    @property
    def total_open(self) -> int:
        return sum(self.open.values())

    @property
    def total_overdue(self) -> int:
        return sum(self.overdue.values())


def week_ends(calendar: BusinessCalendar, at: datetime, weeks: int) -> list[datetime]:
    """The ends of the last `weeks` whole weeks up to `at`, oldest first: each Sunday 24:00
    (Monday 00:00) in the desk's time zone, whatever the weekday of `at`. Counted in dates,
    so a week with a daylight-saving change still ends at midnight."""
    monday = calendar.local(at).date()
    monday -= timedelta(days=monday.weekday())
    return [datetime.combine(monday - timedelta(weeks=n), time(0), tzinfo=calendar.zone)
            .astimezone(UTC) for n in reversed(range(weeks))]


def week_sunday(calendar: BusinessCalendar, end: datetime) -> date:
    """The last day of the week that ends at `end`: the date a week is named by."""
    return calendar.local(end).date() - timedelta(days=1)


def weekly_counts(escalations: list[Escalation], calendar: BusinessCalendar, at: datetime,
                  weeks: int) -> list[WeekCounts]:
    """Open and overdue per urgency at the end of each of the last `weeks` whole weeks."""
    counts = []
    for end in week_ends(calendar, at, weeks):
        opened: dict[str, int] = dict.fromkeys(URGENCIES, 0)
        overdue: dict[str, int] = dict.fromkeys(URGENCIES, 0)
        for escalation in escalations:
            if is_open(escalation, end):
                urgency = escalation.urgency if escalation.urgency in opened else "normal"
                opened[urgency] += 1
                overdue[urgency] += is_overdue(escalation, end)
        counts.append(WeekCounts(end, opened, overdue))
    return counts
