"""The APScheduler jobs: two sweeps that read what is due from the database.

There is no job per reminder or per person: the plan sweep (every minute) turns definitions and
the clock into delivery rows, the send sweep (every few seconds) sends what is due. Both run
only while this instance holds the lease, so any number of instances can be started; one works,
the others take over within the lease's lifetime when it dies. Tests call `sweep()` directly
with a clock of their own; APScheduler only decides when production calls it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock, utcnow
from bot.config import ConfigError
from bot.core import Core
from bot.messages import Messenger
from bot.reminders.definitions import Reminder, load_reminders
from bot.reminders.delivery import Pacer, Sender, SendResult
from bot.reminders.lease import Lease
from bot.reminders.planner import Planner, PlanResult
from bot.reminders.ports import Directory, PostedLookup

log = logging.getLogger(__name__)


class ReminderScheduler:
    def __init__(self, core: Core, reminders: Iterable[Reminder],
                 messengers: Mapping[str, Messenger], *,
                 directories: Mapping[str, Directory] | None = None,
                 lookups: Mapping[str, PostedLookup] | None = None,
                 clock: Clock = utcnow, holder: str | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        settings = core.settings.file.reminders
        if settings.post_timeout_s >= settings.lease_ttl_s:
            raise ConfigError("reminders.post_timeout_s: must be shorter than lease_ttl_s "
                              f"({settings.post_timeout_s} >= {settings.lease_ttl_s})")
        self.settings = settings
        self.reminders = list(reminders)
        self.clock = clock
        self.lease = Lease(core.database, core.audit, ttl_s=settings.lease_ttl_s, clock=clock,
                           holder=holder)
        self.planner = Planner(core.database, core.audit, self.reminders, directories or {},
                               directory_refresh_s=settings.directory_refresh_s)
        self.sender = Sender(
            core.database, core.audit, {r.id: r for r in self.reminders if r.enabled},
            messengers,
            lookups or {}, self.lease, company=core.company_values,
            lang=core.settings.file.default_language,
            pacer=Pacer(settings.rate_per_second, settings.burst, monotonic=monotonic,
                        sleep=sleep),
            workers=settings.workers, post_timeout_s=settings.post_timeout_s,
            max_attempts=settings.max_attempts, clock=clock,
        )
        self._scheduler: BackgroundScheduler | None = None
        self._planning = threading.Lock()
        self._sending = threading.Lock()

    # -- the sweeps --------------------------------------------------------------------------

    def plan_sweep(self) -> PlanResult | None:
        # A tick that finds the previous one still running (a slow directory) just returns.
        if not self._planning.acquire(blocking=False):
            return None
        try:
            if not self.lease.ensure(0.0):
                return None
            return self.planner.plan(self.clock())
        finally:
            self._planning.release()

    def send_sweep(self) -> SendResult | None:
        """Runs until nothing is due; a fan-out to thousands spans many ticks of the job."""
        if not self._sending.acquire(blocking=False):
            return None
        try:
            if not self.lease.ensure(self.settings.post_timeout_s):
                return None
            return self.sender.send_due()
        finally:
            self._sending.release()

    def sweep(self) -> tuple[PlanResult | None, SendResult | None]:
        """Both sweeps once, in order: what a tick of the scheduler does."""
        return self.plan_sweep(), self.send_sweep()

    # -- APScheduler -------------------------------------------------------------------------

    def start(self) -> None:
        scheduler = BackgroundScheduler(timezone=UTC)
        now = datetime.now(UTC)
        for name, job, seconds in (
            ("reminders.plan", self._safely(self.plan_sweep), self.settings.plan_interval_s),
            ("reminders.send", self._safely(self.send_sweep), self.settings.send_interval_s),
        ):
            # Two instances allowed: the overlapping tick returns at once instead of APScheduler
            # logging a "maximum number of running instances" warning every few seconds.
            scheduler.add_job(job, IntervalTrigger(seconds=seconds, timezone=UTC), id=name,
                              name=name, max_instances=2, coalesce=True, next_run_time=now)
        scheduler.start()
        self._scheduler = scheduler
        log.info("reminders: %d definitions, sweeps every %ss (plan) and %ss (send), "
                 "holder %s", len(self.reminders), self.settings.plan_interval_s,
                 self.settings.send_interval_s, self.lease.holder)

    def stop(self) -> None:
        """Let posts in flight finish, then hand the lease over at once."""
        self.sender.stop()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self.lease.release()

    @property
    def jobs(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()] if self._scheduler else []

    @staticmethod
    def _safely(sweep: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                sweep()
            except Exception:  # the next tick tries again; a crash would stop the job for good
                log.exception("reminder sweep failed")
        return run


def start_reminders(core: Core, messengers: Mapping[str, Messenger], *,
                    directories: Mapping[str, Directory] | None = None,
                    lookups: Mapping[str, PostedLookup] | None = None,
                    ) -> ReminderScheduler | None:
    """Start the sweeps when reminders are configured; the platform adapter calls this."""
    reminders = load_reminders(core.settings.file.reminders.path)
    if not any(reminder.enabled for reminder in reminders):
        return None
    scheduler = ReminderScheduler(core, reminders, messengers, directories=directories,
                                  lookups=lookups)
    scheduler.start()
    return scheduler
