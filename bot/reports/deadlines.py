"""The legal clocks of a report.

- acknowledge: confirm receipt to the reporter within 7 days (EU directive 2019/1937 art. 9).
- decide: tell the reporter whether an investigation starts within 20 days; after that a
  reporter who heard nothing may go outside the company (公益通報者保護法 3条3号ホ).
- feedback: tell the reporter what is done within 3 months (EU directive art. 9).
All three count from `received_at` and are configurable (config `reports:`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.config import ReportsSettings
from bot.reports.models import Report

KINDS = ("acknowledge", "decide", "feedback")
State = Literal["met", "pending", "due_soon", "overdue"]


def aware(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_months(value: datetime, months: int) -> datetime:
    """Calendar months, clamped to the month's last day (Nov 30 + 3 months = Feb 28/29)."""
    month_index = value.month - 1 + months
    year, month = value.year + month_index // 12, month_index % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class Deadline:
    kind: str
    due: datetime
    met_at: datetime | None

    def state(self, now: datetime, remind_before: timedelta) -> State:
        if self.met_at is not None:
            return "met"
        if now >= self.due:
            return "overdue"
        return "due_soon" if now >= self.due - remind_before else "pending"


def deadlines(report: Report, settings: ReportsSettings) -> list[Deadline]:
    received = aware(report.received_at)

    def met(value: datetime | None) -> datetime | None:
        return aware(value) if value else None

    return [
        Deadline("acknowledge", received + timedelta(days=settings.acknowledge_days),
                 met(report.acknowledged_at)),
        Deadline("decide", received + timedelta(days=settings.decision_days),
                 met(report.decided_at)),
        Deadline("feedback", add_months(received, settings.feedback_months),
                 met(report.feedback_at)),
    ]


def local_date(value: datetime, utc_offset_hours: int) -> str:
    """The calendar date people at the company see (config reports.utc_offset_hours)."""
    return (aware(value) + timedelta(hours=utc_offset_hours)).strftime("%Y-%m-%d")
