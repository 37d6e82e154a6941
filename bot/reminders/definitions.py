"""Reminder definitions: the YAML the compliance desk edits, validated before anything is sent.

A wrong definition found at 03:00 on the first of August is a compliance gap, so every problem
stops start-up with one line naming the file, the line, the reminder id and the reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.config import ConfigError
from bot.kb.schema import PLACEHOLDERS, EntryId, PerLanguage, fill_placeholders, placeholders_in

DEFAULT_TIMEZONE = "Asia/Tokyo"
_NUMERIC_WEEKDAY = set("0123456789")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(_Strict):
    """Either a cron expression in a time zone, or every N days since the user's last ack."""

    cron: str | None = None  # minute hour day month day-of-week, e.g. "0 10 1 2,8 *"
    timezone: str = DEFAULT_TIMEZONE
    every_days: int | None = Field(default=None, ge=1, le=3660)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Schedule:
        if (self.cron is None) == (self.every_days is None):
            raise ValueError("give exactly one of cron or every_days")
        if self.cron is not None:
            fields = self.cron.split()
            if len(fields) == 5 and set(fields[4]) & _NUMERIC_WEEKDAY:
                # APScheduler 3 counts 0 as Monday, cron as Sunday: names cannot be misread.
                raise ValueError(f"cron {self.cron!r}: write the day of week as mon-sun, "
                                 "not a number")
            try:
                CronTrigger.from_crontab(self.cron, timezone=ZoneInfo(self.timezone))
            except ValueError as exc:
                raise ValueError(f"cron {self.cron!r}: {exc}") from None
        return self

    @cached_property
    def trigger(self) -> CronTrigger:
        assert self.cron is not None
        return CronTrigger.from_crontab(self.cron, timezone=ZoneInfo(self.timezone))

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after `moment` (cron schedules only)."""
        after = moment + timedelta(microseconds=1)
        fire: datetime | None = self.trigger.get_next_fire_time(None, after)
        return fire

    def latest_between(self, after: datetime, until: datetime) -> datetime | None:
        """The last fire time in (after, until]: missed ones coalesce into the latest, sent once.

        APScheduler only walks forwards, so look back through widening windows: a minutely
        cron after a year's outage walks a day of fire times, not half a million.
        """
        for days in (1, 35, 370, 3700, None):
            start = after if days is None else max(after, until - timedelta(days=days))
            latest = None
            moment = self.next_after(start)
            while moment is not None and moment <= until:
                latest = moment
                moment = self.next_after(moment)
            if latest is not None or start == after:
                return latest
        return None


def _platform_id(value: str, what: str) -> tuple[str, str]:
    platform, _, target = value.partition(":")
    if not platform or not target or " " in value:
        raise ValueError(f"{what}: expected platform:id, e.g. slack:C0123ABCD (got {value!r})")
    return platform, target


class Audience(_Strict):
    """Exactly one of: a channel, a user group, every member of a workspace, a list of users."""

    channel: str | None = None  # "slack:C0123ABCD"
    usergroup: str | None = None  # "slack:S0123ABCD"
    all_members: str | None = None  # a platform: "slack"
    users: tuple[str, ...] | None = None  # "slack:U0123ABCD", ...

    @model_validator(mode="after")
    def _exactly_one(self) -> Audience:
        given = [name for name in ("channel", "usergroup", "all_members", "users")
                 if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of channel, usergroup, all_members or users")
        if self.channel is not None:
            _platform_id(self.channel, "channel")
        if self.usergroup is not None:
            _platform_id(self.usergroup, "usergroup")
        if self.all_members is not None and (":" in self.all_members or not self.all_members):
            raise ValueError(f"all_members: expected a platform name such as slack "
                             f"(got {self.all_members!r})")
        if self.users is not None:
            if not self.users:
                raise ValueError("users: the list is empty")
            for user in self.users:
                _platform_id(user, "users")
        return self

    @property
    def kind(self) -> Literal["channel", "usergroup", "all_members", "users"]:
        for name in ("channel", "usergroup", "all_members"):
            if getattr(self, name) is not None:
                return name
        return "users"

    @property
    def platform(self) -> str | None:
        """The one platform a directory must answer for; None for a list of users."""
        if self.all_members is not None:
            return self.all_members
        value = self.channel or self.usergroup
        return value.partition(":")[0] if value else None

    @property
    def target(self) -> str | None:
        """The channel or user group id on its platform."""
        value = self.channel or self.usergroup
        return value.partition(":")[2] if value else None

    def describe(self) -> str:
        if self.users is not None:
            return f"users ({len(self.users)})"
        return f"{self.kind} {self.channel or self.usergroup or self.all_members}"


class FollowUp(_Strict):
    """Remind those who have not acknowledged after N days, at most M times, then list them."""

    after_days: int = Field(ge=1, le=365)
    max_times: int = Field(ge=0, le=20)


class Reminder(_Strict):
    id: EntryId
    title: PerLanguage | None = None
    message: PerLanguage
    schedule: Schedule
    audience: Audience
    # A channel audience is one broadcast in the channel unless `dm` asks for one DM each.
    delivery: Literal["dm", "channel"] | None = None
    acknowledge: PerLanguage | None = None  # the button text; no button when absent
    follow_up: FollowUp | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Reminder:
        for part in (self.message, self.title, self.acknowledge):
            if part is None:
                continue
            for text in (part.ja, part.en):
                try:
                    names = placeholders_in(text)
                except ValueError:
                    raise ValueError(f"unbalanced {{ or }} in {text[:40]!r}") from None
                unknown = names - PLACEHOLDERS
                if unknown:
                    raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}; known: "
                                     + ", ".join(sorted(PLACEHOLDERS)))
        if self.delivery == "channel" and self.audience.channel is None:
            raise ValueError("delivery: channel needs a channel audience")
        if self.broadcast and self.follow_up is not None:
            raise ValueError("follow_up needs one DM per person (delivery: dm); a channel "
                             "broadcast cannot remind only those who have not acknowledged")
        if self.follow_up is not None and self.acknowledge is None:
            raise ValueError("follow_up needs acknowledge (who has not acknowledged?)")
        if self.schedule.every_days is not None:
            if self.acknowledge is None:
                raise ValueError("every_days counts from the user's acknowledgement: "
                                 "give acknowledge")
            if self.broadcast:
                raise ValueError("every_days runs one clock per person: use delivery: dm")
        return self

    @property
    def broadcast(self) -> bool:
        return self.audience.channel is not None and self.delivery != "dm"

    @property
    def is_interval(self) -> bool:
        return self.schedule.every_days is not None

    def text(self, lang: str, company: dict[str, str]) -> str:
        return fill_placeholders(self.message.get(lang), company)

    def heading(self, lang: str, company: dict[str, str]) -> str | None:
        return fill_placeholders(self.title.get(lang), company) if self.title else None

    def describe_schedule(self) -> str:
        if self.schedule.every_days is not None:
            return f"every {self.schedule.every_days} days since the last acknowledgement"
        return f"cron {self.schedule.cron} ({self.schedule.timezone})"


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown setting"
    elif first["type"] == "missing":
        message = "missing"
    return f"{location}: {message}" if location else message


def _item_lines(text: str) -> list[int]:
    """The line each reminder starts on, for messages a curator can jump to."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "reminders" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def parse_reminders(text: str, source: str) -> list[Reminder]:
    """Validate a definitions file's text; raise ConfigError naming source:line, id and reason."""
    try:
        data: Any = yaml.safe_load(text)
        lines = _item_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(f"{where}: {getattr(exc, 'problem', None) or 'invalid YAML'}") from None
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) != {"reminders"} or not isinstance(
            data["reminders"], list | None):
        raise ConfigError(f"{source}: expected one top-level key, reminders: a list")
    reminders: list[Reminder] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(data["reminders"] or []):
        line = lines[index] if index < len(lines) else 1
        name = str(item.get("id")) if isinstance(item, dict) and item.get("id") else f"#{index + 1}"
        try:
            reminder = Reminder.model_validate(item)
        except ValidationError as exc:
            raise ConfigError(f"{source}:{line}: {name}: {_problem(exc)}") from None
        if reminder.id in seen:
            raise ConfigError(f"{source}:{line}: {name}: duplicate id (first on line "
                              f"{seen[reminder.id]})")
        seen[reminder.id] = line
        reminders.append(reminder)
    return reminders


def load_reminders(path: Path | None) -> list[Reminder]:
    """The enabled and disabled reminders of the file; none when reminders are not configured."""
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"reminders.path: {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"reminders.path: cannot read {path}: {exc.strerror}") from None
    return parse_reminders(text, str(path))
