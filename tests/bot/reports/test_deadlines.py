"""The legal clocks: 7 days, 20 days, 3 calendar months; due soon, overdue, met."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.config import ReportsSettings
from bot.reports.deadlines import Deadline, add_months, local_date


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(datetime(2026, 11, 30, 12, tzinfo=UTC), 3) == datetime(
        2027, 2, 28, 12, tzinfo=UTC)
    assert add_months(datetime(2027, 11, 30, tzinfo=UTC), 3) == datetime(2028, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2026, 10, 15, tzinfo=UTC), 3) == datetime(2027, 1, 15, tzinfo=UTC)


def test_deadline_states():
    due = datetime(2026, 12, 8, tzinfo=UTC)
    deadline, before = Deadline("acknowledge", due, None), timedelta(days=2)
    assert deadline.state(due - timedelta(days=3), before) == "pending"
    assert deadline.state(due - timedelta(days=2), before) == "due_soon"
    assert deadline.state(due, before) == "overdue"
    met = Deadline("acknowledge", due, due - timedelta(days=1))
    assert met.state(due + timedelta(days=30), before) == "met"


def test_dates_are_shown_in_the_company_time_zone():
    late_evening_utc = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    assert local_date(late_evening_utc, 9) == "2026-12-02"
    assert local_date(late_evening_utc, 0) == "2026-12-01"


def test_reports_settings_are_checked():
    assert ReportsSettings().decision_days == 20 and ReportsSettings().acknowledge_days == 7
    with pytest.raises(ValidationError, match="platform:channel_id"):
        ReportsSettings(desk_channel="C0123")
    with pytest.raises(ValidationError):
        ReportsSettings(acknowledge_days=0)
