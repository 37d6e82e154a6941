"""The `desk:` settings for escalations: routing rules, the lead channel and the SLAs.

Kept beside the escalation code, so bot/config.py only names them; every value is checked
when the file is read, so a typo stops start-up with the setting's name instead of
silently routing everything to the default channel.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Urgency = Literal["low", "normal", "high"]
URGENCIES: tuple[Urgency, ...] = ("low", "normal", "high")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd])\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def split_channel(channel: str) -> tuple[str, str]:
    """"slack:C0123" -> ("slack", "C0123"): channels name their platform, like desk members."""
    platform, _, channel_id = channel.partition(":")
    return platform, channel_id


def _check_channel(value: str | None) -> str | None:
    if value is None:
        return None
    platform, channel_id = split_channel(value)
    if not platform or not channel_id:
        raise ValueError(f"expected platform:channel_id, e.g. slack:C0123 (got {value!r})")
    return value


def parse_duration(text: str) -> tuple[float, str]:
    """"4h" -> (4.0, "h"): minutes (m), business hours (h) or business days (d)."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"expected a business duration like 30m, 4h or 2d (got {text!r})")
    return float(match.group(1)), match.group(2)


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value


class DeskRoute(_Strict):
    """One routing rule: every condition it names must hold; a list holds if any item does."""

    channel: str
    topics: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # knowledge file names without .yaml, e.g. "information"
    keywords: tuple[str, ...] = ()
    urgency: tuple[Urgency, ...] = ()

    _channel = field_validator("channel")(_check_channel)

    @model_validator(mode="after")
    def _has_condition(self) -> DeskRoute:
        if not (self.topics or self.categories or self.keywords or self.urgency):
            raise ValueError("a route needs topics, categories, keywords or urgency "
                             "(use desk.default_channel for everything else)")
        return self


class SlaTarget(_Strict):
    first_response: str
    resolution: str

    _durations = field_validator("first_response", "resolution")(_check_duration)


def _clock_time(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 18:00 as the base-60 integer 1080.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    return value


class SlaSettings(_Strict):
    """Targets per urgency, counted in business time: opening hours on weekdays, no holidays."""

    timezone: str = "Asia/Tokyo"
    opens: time = time(9, 0)
    closes: time = time(17, 30)
    holidays: tuple[date, ...] = ()
    warn_before: str = "1h"  # re-post to the lead channel when a target is this close
    high: SlaTarget = SlaTarget(first_response="2h", resolution="1d")
    normal: SlaTarget = SlaTarget(first_response="1d", resolution="5d")
    low: SlaTarget = SlaTarget(first_response="2d", resolution="10d")

    _times = field_validator("opens", "closes", mode="before")(_clock_time)
    _warn = field_validator("warn_before")(_check_duration)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone (got {value!r})") from None
        return value

    @model_validator(mode="after")
    def _opening_hours(self) -> SlaSettings:
        if self.closes <= self.opens:
            raise ValueError("closes must be later than opens")
        return self

    def target(self, urgency: str) -> SlaTarget:
        targets: dict[str, SlaTarget] = {"low": self.low, "normal": self.normal, "high": self.high}
        return targets[urgency]


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {name: day for day, full in zip(WEEKDAYS, (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), strict=True)
    for name in (day, full)}
_ClockTime = time  # the field below is called `time`


class WeeklyReportSettings(_Strict):
    """The desk report and its chart, posted to desk.default_channel once a week at `time`
    on `weekday` in the desk's time zone (desk.sla.timezone)."""

    enabled: bool = False
    weekday: Weekday = "mon"
    time: _ClockTime = _ClockTime(9, 0)
    weeks: int = Field(default=12, ge=1, le=52)  # weeks in the chart

    _time = field_validator("time", mode="before")(_clock_time)

    @field_validator("weekday", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        # "Monday" and "MON" mean mon; anything else gets pydantic's list of the choices.
        return _DAY_NAMES.get(value.strip().lower(), value) if isinstance(value, str) else value

    @property
    def weekday_number(self) -> int:
        """Monday is 0, as in date.weekday()."""
        return WEEKDAYS.index(self.weekday)


class EscalationSettings(_Strict):
    """The escalation part of `desk:`; mixed into DeskSettings in bot/config.py."""

    default_channel: str | None = None  # where escalations no route claims go; unset: no desk
    lead_channel: str | None = None  # where escalations about to breach are re-posted
    names: dict[str, str] = Field(default_factory=dict)  # "platform:user_id" -> display name
    routes: tuple[DeskRoute, ...] = ()
    sla: SlaSettings = SlaSettings()
    weekly_report: WeeklyReportSettings = WeeklyReportSettings()  # off unless enabled

    _channels = field_validator("default_channel", "lead_channel")(_check_channel)

    @model_validator(mode="after")
    def _default_needed(self) -> EscalationSettings:
        if (self.routes or self.lead_channel) and self.default_channel is None:
            raise ValueError("default_channel is required when routes or lead_channel are set")
        if self.weekly_report.enabled and self.default_channel is None:
            raise ValueError("default_channel is required when weekly_report is enabled "
                             "(the report is posted there)")
        return self

    @property
    def escalations_enabled(self) -> bool:
        return self.default_channel is not None

    def channels(self) -> list[tuple[str, str]]:
        """Every channel the desk posts to, with the setting that names it (for start-up)."""
        named = [(f"desk.routes[{i}].channel", r.channel) for i, r in enumerate(self.routes)]
        if self.default_channel:
            named.append(("desk.default_channel", self.default_channel))
        if self.lead_channel:
            named.append(("desk.lead_channel", self.lead_channel))
        return named
