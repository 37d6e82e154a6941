"""The `desk:` escalation settings: a mistake stops start-up with one line naming it."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.config import ConfigError, load_settings


def _load(tmp_path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings({"COMPLIANCE_BOT_CONFIG": str(path)})


def test_defaults_leave_escalations_off():
    desk = load_settings({}).file.desk
    assert not desk.escalations_enabled and desk.routes == ()
    assert desk.sla.timezone == "Asia/Tokyo"
    assert (desk.sla.high.first_response, desk.sla.normal.resolution) == ("2h", "5d")


def test_a_full_desk_section(tmp_path):
    desk = _load(tmp_path, """
desk:
  members: [slack:U1]
  default_channel: slack:CDESK
  lead_channel: slack:CLEAD
  routes:
    - {topics: [nonpublic-info], urgency: [high], channel: slack:CNW}
  sla:
    opens: 08:30
    closes: 17:40
    holidays: [2027-01-01]
    high: {first_response: 30m, resolution: 4h}
""").file.desk
    assert desk.escalations_enabled
    # Unquoted 17:40 is a base-60 number to YAML 1.1; it still means 17:40.
    assert (desk.sla.opens, desk.sla.closes) == (time(8, 30), time(17, 40))
    assert desk.sla.holidays == (date(2027, 1, 1),)
    assert desk.routes[0].urgency == ("high",)
    assert [name for name, _ in desk.channels()] == [
        "desk.routes[0].channel", "desk.default_channel", "desk.lead_channel"]


def test_the_weekly_report_is_off_by_default_and_configurable(tmp_path):
    weekly = load_settings({}).file.desk.weekly_report
    assert (weekly.enabled, weekly.weekday, weekly.time, weekly.weeks) == (
        False, "mon", time(9, 0), 12)
    weekly = _load(tmp_path, """
desk:
  default_channel: slack:CDESK
  weekly_report:
    enabled: true
    weekday: Friday
    time: 17:30
    weeks: 8
""").file.desk.weekly_report
    # Unquoted 17:30 is a base-60 number to YAML 1.1; it still means 17:30.
    assert (weekly.enabled, weekly.weekday, weekly.time, weekly.weeks) == (
        True, "fri", time(17, 30), 8)
    assert weekly.weekday_number == 4


@pytest.mark.parametrize(("text", "message"), [
    ("desk:\n  default_channel: CDESK\n",
     "desk.default_channel: Value error, expected platform:channel_id"),
    ("desk:\n  default_channel: slack:C\n  routes:\n    - {channel: slack:C2}\n",
     "desk.routes.0: Value error, a route needs topics, categories, keywords or urgency"),
    ("desk:\n  default_channel: slack:C\n  routes:\n    - {urgency: [soon], channel: slack:C2}\n",
     "desk.routes.0.urgency.0: Input should be 'low', 'normal' or 'high'"),
    ("desk:\n  routes:\n    - {urgency: [high], channel: slack:C2}\n",
     "desk: Value error, default_channel is required when routes or lead_channel are set"),
    ("desk:\n  sla:\n    high: {first_response: 2 hours, resolution: 1d}\n",
     "desk.sla.high.first_response: Value error, expected a business duration like 30m"),
    ("desk:\n  sla:\n    timezone: Mars/Olympus\n",
     "desk.sla.timezone: Value error, unknown time zone"),
    ("desk:\n  sla:\n    opens: '18:00'\n    closes: '09:00'\n",
     "desk.sla: Value error, closes must be later than opens"),
    ("desk:\n  route: []\n", "desk.route: unknown setting"),
    ("desk:\n  weekly_report: {enabled: true}\n",
     "desk: Value error, default_channel is required when weekly_report is enabled"),
    ("desk:\n  weekly_report: {weekday: someday}\n",
     "desk.weekly_report.weekday: Input should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' "
     "or 'sun' (got 'someday')"),
    ("desk:\n  weekly_report: {time: '25:00'}\n",
     "desk.weekly_report.time: Input should be in a valid time format"),
    ("desk:\n  weekly_report: {weeks: 0}\n",
     "desk.weekly_report.weeks: Input should be greater than or equal to 1"),
    ("desk:\n  weekly_report: {enabled: true, channel: slack:C9}\n",
     "desk.weekly_report.channel: unknown setting"),
])
def test_mistakes_name_the_setting(tmp_path, text, message):
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, text)
    assert message in str(raised.value)
    assert len(str(raised.value).splitlines()) == 1
