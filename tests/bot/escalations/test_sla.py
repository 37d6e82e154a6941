"""Business time: opening hours, weekends and holidays in Asia/Tokyo."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.escalations.sla import BusinessCalendar

TOKYO = ZoneInfo("Asia/Tokyo")
# 09:00-17:00 (8 hours); Monday 2026-11-23 (勤労感謝の日) is a holiday.
CALENDAR = BusinessCalendar(TOKYO, time(9), time(17), frozenset({date(2026, 11, 23)}))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TOKYO)


@pytest.mark.parametrize(("start", "minutes", "due"), [
    (at(24, 10), 120, at(24, 12)),  # Tuesday, inside the day
    (at(24, 16), 120, at(25, 10)),  # over the night
    (at(24, 16), 60, at(24, 17)),  # a target that ends at closing stays at closing
    (at(24, 7), 30, at(24, 9, 30)),  # before opening: the clock starts at 09:00
    (at(24, 20), 30, at(25, 9, 30)),  # after closing: the next morning
    (at(20, 16), 480, at(24, 16)),  # Friday 16:00 + 1 day: Fri 1h, weekend, holiday, Tue 7h
    (at(21, 12), 60, at(24, 10)),  # Saturday: starts on the next business day
])
def test_adding_business_time(start, minutes, due):
    assert CALENDAR.add(start, minutes) == due.astimezone(UTC)


@pytest.mark.parametrize(("start", "end", "minutes"), [
    (at(24, 10), at(24, 12), 120),
    (at(24, 16), at(25, 10), 120),
    (at(20, 16), at(24, 16), 480),
    (at(21, 0), at(23, 23), 0),  # weekend and holiday
    (at(24, 12), at(24, 10), 0),  # backwards
])
def test_business_minutes_between(start, end, minutes):
    assert CALENDAR.between(start, end) == minutes


def test_adding_and_measuring_agree():
    start = at(20, 9, 17)
    for minutes in (1, 59, 480, 481, 2400, 4801):
        assert CALENDAR.between(start, CALENDAR.add(start, minutes)) == pytest.approx(minutes)


def test_durations_in_business_units():
    assert CALENDAR.minutes("30m") == 30
    assert CALENDAR.minutes("4h") == 240
    assert CALENDAR.minutes("2d") == 2 * 8 * 60
    assert CALENDAR.minutes("0.5d") == 240


def test_naive_timestamps_from_sqlite_are_read_as_utc():
    naive = (at(24, 10).astimezone(UTC)).replace(tzinfo=None)
    assert CALENDAR.add(naive, 60) == at(24, 11).astimezone(UTC)
    assert CALENDAR.between(naive, naive + timedelta(hours=1)) == 60
