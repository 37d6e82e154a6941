"""The desk report and its chart, posted to the desk's channel once a week.

Configured by `desk.weekly_report` (off by default): `weekday` and `time` in the desk's time
zone. A job on every instance checks every few minutes whether this week's post is due: from
its moment for `LATE_BY_AT_MOST`, so a restart or a platform outage at 09:00 makes the post
late, not lost, while a bot started (or the setting enabled) days later waits for the next
week's moment instead of posting an old week's report out of turn.

Exactly once per week across instances: the week's row in `desk_weekly_reports`, whose
primary key is the week (its ISO year and number), is inserted before anything is posted.
Of two instances that find the post due, the second insert fails and that instance does
nothing; a post that fails deletes the row again, and the next check retries. An instance
that dies between its insert and its post leaves a claim another instance takes over after
`CLAIM_TIMEOUT` (a post takes seconds); only one that dies after posting but before writing
down that it did would have the week posted twice.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.db import rowcount
from bot.escalations.chart import chart_alt, render_chart
from bot.escalations.models import WeeklyReportPost
from bot.escalations.report import (
    DeskReport,
    Figures,
    build_report,
    load,
    weekly_counts,
)
from bot.escalations.service import EscalationService
from bot.escalations.settings import split_channel
from bot.escalations.sla import aware
from bot.i18n import t
from bot.messages import Address, Image, MessageRef, MessengerError, Reply

log = logging.getLogger(__name__)

CHECK_EVERY_S = 300.0  # how often each instance asks whether the week's post is due
CLAIM_TIMEOUT = timedelta(minutes=30)
LATE_BY_AT_MOST = timedelta(hours=24)



@dataclass(frozen=True)
class Slot:
    """A week's post: the ISO week that names it, and the moment it is due (UTC)."""

    week: str  # "2026-W50"
    due: datetime


class WeeklyReport:
    def __init__(self, service: EscalationService) -> None:
        self.service = service
        self.settings = service.settings.weekly_report
        self.calendar = service.calendar
        self.lang = service.desk_lang
        # Who claims a week: unique per instance, and per object (two bots in one test).
        self.claimant = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @property
    def enabled(self) -> bool:
        return self.settings.enabled and self.service.enabled

    def slot(self, now: datetime) -> Slot:
        """The latest scheduled moment at or before `now`, in the desk's time zone."""
        local = self.calendar.local(now)
        day = local.date() - timedelta(days=(local.weekday() - self.settings.weekday_number) % 7)
        due = datetime.combine(day, self.settings.time, tzinfo=self.calendar.zone)
        if due > local:
            day -= timedelta(weeks=1)
            due = datetime.combine(day, self.settings.time, tzinfo=self.calendar.zone)
        year, week, _ = day.isocalendar()
        return Slot(f"{year}-W{week:02d}", due.astimezone(UTC))

    # -- the job -----------------------------------------------------------------------------

    def run(self, now: datetime | None = None) -> bool:
        """Post this week's report if it is due and no instance has; True if this one did."""
        now = aware(now).astimezone(UTC) if now else self.service.now()
        slot = self.slot(now)
        if now - slot.due > LATE_BY_AT_MOST or not self._claim(slot, now):
            return False
        try:
            ref = self._post(slot, now)
        except MessengerError as exc:
            self._release(slot)
            log.warning("desk weekly report %s not posted (%s); the next check retries",
                        slot.week, exc)
            return False
        except Exception:
            self._release(slot)
            raise
        self._done(slot, ref)
        log.info("desk weekly report %s posted", slot.week)
        return True

    def _claim(self, slot: Slot, now: datetime) -> bool:
        database = self.service.core.database
        with database.transaction() as session:
            row = session.get(WeeklyReportPost, slot.week)
            if row is not None:
                if row.posted_at is not None or aware(row.claimed_at) > now - CLAIM_TIMEOUT:
                    return False
                # Its claimant died before posting: take the claim over, if no one else has.
                taken = session.execute(
                    sa.update(WeeklyReportPost)
                    .where(WeeklyReportPost.week == slot.week,
                           WeeklyReportPost.posted_at.is_(None),
                           WeeklyReportPost.claimed_at < now - CLAIM_TIMEOUT)
                    .values(claimed_at=now, claimed_by=self.claimant)
                    # Compared in SQL only: SQLite hands the loaded row's time back naive.
                    .execution_options(synchronize_session=False))
                if rowcount(taken) == 1:
                    log.warning("desk weekly report %s: taking over the claim of %s",
                                slot.week, row.claimed_by)
                return rowcount(taken) == 1
        try:
            with database.transaction() as session:
                session.add(WeeklyReportPost(week=slot.week, claimed_at=now,
                                             claimed_by=self.claimant))
        except IntegrityError:
            return False  # another instance inserted it first
        return True

    def _release(self, slot: Slot) -> None:
        with self.service.core.database.transaction() as session:
            session.execute(sa.delete(WeeklyReportPost).where(
                WeeklyReportPost.week == slot.week, WeeklyReportPost.posted_at.is_(None),
                WeeklyReportPost.claimed_by == self.claimant))

    def _done(self, slot: Slot, ref: MessageRef) -> None:
        with self.service.core.database.transaction() as session:
            written = session.execute(
                sa.update(WeeklyReportPost)
                .where(WeeklyReportPost.week == slot.week,
                       WeeklyReportPost.claimed_by == self.claimant)
                .values(posted_at=self.service.now(), channel=f"{ref.platform}:{ref.channel}",
                        message=ref.id[:255]))
        if rowcount(written) != 1:
            log.warning("desk weekly report %s: posted, but its claim had been taken over",
                        slot.week)

    # -- the post ----------------------------------------------------------------------------

    def _post(self, slot: Slot, now: datetime) -> MessageRef:
        channel = self.service.settings.default_channel
        if channel is None:  # the settings refuse enabled without it; kept for the type
            raise MessengerError("no desk.default_channel")
        platform, channel_id = split_channel(channel)
        messenger = self.service.messenger(platform)
        if messenger is None:
            raise MessengerError(f"no {platform} messenger")
        return messenger.post(Address("channel", channel_id), self.reply(slot, now))

    def reply(self, slot: Slot, now: datetime) -> Reply:
        """The report as of `now`, with the chart of the last `weeks` whole weeks."""
        with self.service.core.database.transaction() as session:
            escalations = load(session, now)
        report = build_report(escalations, self.calendar, now)
        counts = weekly_counts(escalations, self.calendar, now, self.settings.weeks)
        png = render_chart(counts, self.calendar, self.lang)
        image = Image(png, f"desk-report-{slot.week}.png",
                      chart_alt(counts, self.calendar, self.lang))
        return Reply(self.text(report), self.lang,
                     title=t("weekly.title", self.lang,
                             date=self.calendar.local(now).date().isoformat()),
                     image=image)

    def text(self, report: DeskReport) -> str:
        lang = self.lang
        at = self.calendar.local(report.at).strftime("%Y-%m-%d %H:%M")
        lines = [t("weekly.as_of", lang, at=at, zone=self.calendar.zone.key), ""]
        channels = [f for f in report.figures if f.kind == "channel"]
        topics = sorted((f for f in report.figures if f.kind == "topic" and f.open),
                        key=lambda f: (-f.open, -f.overdue, f.name))
        lines.append(t("weekly.all", lang, **self._values(report.figures[0])))
        if channels:
            lines += ["", t("weekly.channels", lang)]
            lines += [t("weekly.row", lang, **self._values(f)) for f in channels]
        if topics:
            lines += ["", t("weekly.topics", lang)]
            lines += [t("weekly.row", lang, **self._values(f)) for f in topics]
        lines += ["", t("weekly.more", lang)]
        return "\n".join(lines)

    def _values(self, figures: Figures) -> dict[str, object]:
        return {"name": figures.name, "open": figures.open, "overdue": figures.overdue,
                "total": figures.total, "first": self._hours(figures.first_response_hours),
                "resolution": self._hours(figures.resolution_hours)}

    def _hours(self, value: float | None) -> str:
        if value is None:
            return t("weekly.none", self.lang)
        return t("weekly.hours", self.lang, hours=value)
