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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.escalations.models import Escalation
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
    lines = [f"desk report at {local} {calendar.zone.key}"
             + (f", escalations since {calendar.local(report.since):%Y-%m-%d}"
                if report.since else "")
             + " (median times in business hours)",
             f"{'':<40} {'total':>5} {'open':>5} {'overdue':>7} {'1st response':>12} "
             f"{'resolution':>10}"]
    for f in report.figures:
        label = "all" if f.kind == "all" else f"{f.kind} {f.name}"
        lines.append(f"{label[:40]:<40} {f.total:>5} {f.open:>5} {f.overdue:>7} "
                     f"{_hours(f.first_response_hours):>12} {_hours(f.resolution_hours):>10}")
    return "\n".join(lines)


# -- the weekly chart ---------------------------------------------------------------------


def weekly_counts(escalations: list[Escalation], calendar: BusinessCalendar, at: datetime,
                  weeks: int) -> list[tuple[datetime, int, int]]:
    """(week end, open, overdue) at the end of each of the last `weeks` weeks up to `at`."""
    ends = [aware(at) - timedelta(weeks=n) for n in reversed(range(weeks))]
    return [(end, sum(is_open(e, end) for e in escalations),
             sum(is_overdue(e, end) for e in escalations)) for end in ends]


def write_chart(counts: list[tuple[datetime, int, int]], calendar: BusinessCalendar,
                path: Path) -> None:
    """A PNG of open and overdue escalations per week: the desk would rather look than read."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    labels = [calendar.local(end).strftime("%m/%d") for end, _, _ in counts]
    figure, axes = pyplot.subplots(figsize=(8, 4), dpi=100)
    try:
        positions = range(len(counts))
        axes.bar([p - 0.2 for p in positions], [c[1] for c in counts], width=0.4, label="open")
        axes.bar([p + 0.2 for p in positions], [c[2] for c in counts], width=0.4,
                 label="overdue", color="tab:red")
        axes.set_xticks(list(positions), labels)
        axes.set_title("Escalations at the end of each week")
        axes.set_ylabel("escalations")
        locator = axes.yaxis.get_major_locator()
        if isinstance(locator, MaxNLocator):  # the default AutoLocator: whole escalations only
            locator.set_params(integer=True)
        axes.legend()
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        pyplot.close(figure)
