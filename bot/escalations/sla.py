"""Business time: SLA clocks run only in opening hours on weekdays that are not holidays.

A question sent on Friday evening is not overdue by Monday morning; counting business
minutes (not wall-clock ones) is what makes one target fair across weekends and holidays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.escalations.settings import SlaSettings, parse_duration

_MAX_DAYS = 3 * 366  # a calendar with no business day in three years is a configuration error


def aware(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo
    opens: time
    closes: time
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_settings(cls, sla: SlaSettings) -> BusinessCalendar:
        return cls(ZoneInfo(sla.timezone), sla.opens, sla.closes, frozenset(sla.holidays))

    @property
    def day_minutes(self) -> float:
        return (datetime.combine(date.min, self.closes)
                - datetime.combine(date.min, self.opens)).total_seconds() / 60

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def minutes(self, duration: str) -> float:
        """A configured duration ("30m", "4h", "2d") in business minutes."""
        value, unit = parse_duration(duration)
        return value * {"m": 1.0, "h": 60.0, "d": self.day_minutes}[unit]

    def local(self, moment: datetime) -> datetime:
        return aware(moment).astimezone(self.zone)

    def _windows(self, first: date) -> Iterator[tuple[datetime, datetime]]:
        for offset in range(_MAX_DAYS):
            day = first + timedelta(days=offset)
            if self.is_business_day(day):
                yield (datetime.combine(day, self.opens, tzinfo=self.zone),
                       datetime.combine(day, self.closes, tzinfo=self.zone))

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` of business time after `start` (UTC)."""
        begin_at = self.local(start)
        remaining = timedelta(minutes=minutes)
        for opening, closing in self._windows(begin_at.date()):
            begin = max(opening, begin_at)
            if begin >= closing:
                continue
            if remaining <= closing - begin:
                return (begin + remaining).astimezone(UTC)
            remaining -= closing - begin
        raise ValueError("no business day within three years: check desk.sla.holidays")

    def between(self, start: datetime, end: datetime) -> float:
        """Business minutes from `start` to `end`; 0 if `end` is not later."""
        start, end = self.local(start), self.local(end)
        if end <= start:
            return 0.0
        total = timedelta()
        for opening, closing in self._windows(start.date()):
            if opening >= end:
                break
            overlap = min(closing, end) - max(opening, start)
            if overlap > timedelta():
                total += overlap
        return total.total_seconds() / 60
