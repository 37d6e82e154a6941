"""The `checklists:` section of config.yaml: what differs per company.

The definitions (knowledge/checklists/) say what is asked and who confirms, by role; this says
who may start one from chat, when the yearly ones run and for whom, and how fast messages go.
Kept beside the engine, so bot/config.py only names it (it imports nothing from bot/).
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DESK = "desk"
_YEARLY = re.compile(r"^(\d\d)-(\d\d)$")
_NUMERIC_WEEKDAY = set("0123456789")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def person_key(value: str, what: str) -> str:
    """A person as configuration names them: platform:user_id, e.g. slack:U0123ABCD."""
    platform, _, user_id = value.partition(":")
    if not platform or not user_id or any(c.isspace() for c in value):
        raise ValueError(f"{what}: expected platform:user_id, e.g. slack:U0123ABCD "
                         f"(got {value!r})")
    return value


def _clock_time(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 10:00 as the base-60 integer 600.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    return value


class ChecklistSchedule(_Strict):
    """A checklist started on a date for an audience: the yearly terminal inventory."""

    checklist: str
    id: str | None = None  # names the schedule (default: the checklist's id)
    cron: str | None = None  # minute hour day month day-of-week, e.g. "0 10 1 6 *"
    yearly: str | None = None  # MM-DD, e.g. "06-01", at `at`
    at: time = time(10, 0)
    timezone: str = "Asia/Tokyo"
    # Who gets it, as reminders name audiences: channel, usergroup, all_members or users.
    audience: dict[str, Any]
    confirmer: str  # platform:user_id of the confirmer, or "desk"
    enabled: bool = True

    _at = field_validator("at", mode="before")(_clock_time)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("confirmer")
    @classmethod
    def _confirmer(cls, value: str) -> str:
        return value if value == DESK else person_key(value, "confirmer")

    @field_validator("audience")
    @classmethod
    def _audience(cls, value: dict[str, Any]) -> dict[str, Any]:
        from bot.reminders.definitions import Audience  # the reminders' own rules

        Audience.model_validate(value)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> ChecklistSchedule:
        if (self.cron is None) == (self.yearly is None):
            raise ValueError("give exactly one of cron or yearly")
        if self.yearly is not None:
            match = _YEARLY.match(self.yearly)
            month, day = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
            if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1] \
                    or (month, day) == (2, 29):
                raise ValueError(f"yearly: expected MM-DD, a day every year has "
                                 f"(got {self.yearly!r})")
        if self.cron is not None:
            fields = self.cron.split()
            if len(fields) != 5:
                raise ValueError(f"cron {self.cron!r}: expected five fields")
            if set(fields[4]) & _NUMERIC_WEEKDAY:
                raise ValueError(f"cron {self.cron!r}: write the day of week as mon-sun, "
                                 "not a number")
        return self

    @property
    def name(self) -> str:
        return self.id or self.checklist

    def crontab(self) -> str:
        """The schedule as a cron expression in `timezone`."""
        if self.cron is not None:
            return self.cron
        assert self.yearly is not None
        month, day = self.yearly.split("-")
        return f"{self.at.minute} {self.at.hour} {int(day)} {int(month)} *"


class ChecklistSettings(_Strict):
    """Checklists (bot.checklists); off until `path` names the definitions' directory."""

    path: Path | None = None  # e.g. knowledge/checklists, relative to the config file
    # Who may start a checklist from chat (`checklist transfer @person`), as platform:user_id.
    # The command line and the webhook are for HR and IT and need no list.
    starters: tuple[str, ...] = ()
    schedules: tuple[ChecklistSchedule, ...] = ()
    max_rows: int = Field(default=5000, ge=1, le=100_000)  # people per start (CSV, webhook)
    # The outbox sender, paced like the reminders' and under a lease of its own.
    rate_per_second: float = Field(default=5.0, gt=0, le=1000)
    burst: int = Field(default=10, ge=1, le=10000)
    workers: int = Field(default=2, ge=1, le=64)
    plan_interval_s: float = Field(default=60.0, gt=0)
    send_interval_s: float = Field(default=5.0, gt=0)
    lease_ttl_s: float = Field(default=90.0, gt=0)
    post_timeout_s: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=100)

    @field_validator("starters")
    @classmethod
    def _starters(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for starter in value:
            person_key(starter, "starters")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ChecklistSettings:
        names = [schedule.name for schedule in self.schedules]
        duplicate = next((name for name in names if names.count(name) > 1), None)
        if duplicate is not None:
            raise ValueError(f"schedules: two schedules named {duplicate!r}; give each an id")
        if self.post_timeout_s >= self.lease_ttl_s:
            raise ValueError(f"post_timeout_s: must be shorter than lease_ttl_s "
                             f"({self.post_timeout_s} >= {self.lease_ttl_s})")
        return self
