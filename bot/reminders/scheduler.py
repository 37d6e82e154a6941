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

from bot.clock import Clock, utcnow
from bot.config import ConfigError
from bot.core import Core
from bot.messages import Messenger
from bot.registry import Job
from bot.reminders.definitions import Reminder, load_reminders
from bot.reminders.delivery import Pacer, Sender, SendResult
from bot.reminders.lease import Lease
from bot.reminders.planner import Planner, PlanResult
from bot.reminders.ports import Directory, PostedLookup
from bot.scheduler import JobScheduler

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
        self._runner: JobScheduler | None = None
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
            result = self.sender.send_due()
            if result.outcomes:  # one line per sweep that delivered; an idle sweep says nothing
                log.info("reminders sent: %s", ", ".join(
                    f"{outcome} {count}" for outcome, count in sorted(result.outcomes.items())))
            return result
        finally:
            self._sending.release()

    def sweep(self) -> tuple[PlanResult | None, SendResult | None]:
        """Both sweeps once, in order: what a tick of the scheduler does."""
        return self.plan_sweep(), self.send_sweep()

    # -- running -----------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        """The two sweeps, for the one scheduler (`bot.scheduler`); started at once."""
        return [Job("reminders.plan", self.plan_sweep, self.settings.plan_interval_s, True),
                Job("reminders.send", self.send_sweep, self.settings.send_interval_s, True)]

    def close(self) -> None:
        """After the sweeps stopped: let posts in flight finish, hand the lease over at once."""
        self.sender.stop()
        self.lease.release()

    def start(self) -> None:
        """Run the sweeps on a scheduler of their own (tests and benchmarks; the bot runs them
        with every other job through the registry)."""
        self._runner = JobScheduler(self.jobs()).start()
        log.info("reminders: %d definitions, holder %s", len(self.reminders), self.lease.holder)

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()
            self._runner = None
        self.close()

    @property
    def running_jobs(self) -> list[str]:
        return self._runner.jobs if self._runner else []


def reminder_scheduler(core: Core, messengers: Mapping[str, Messenger], *,
                       directories: Mapping[str, Directory] | None = None,
                       lookups: Mapping[str, PostedLookup] | None = None,
                       ) -> ReminderScheduler | None:
    """The sweeps when reminders are configured and enabled, not yet started."""
    reminders = load_reminders(core.settings.file.reminders.path)
    if not any(reminder.enabled for reminder in reminders):
        return None
    return ReminderScheduler(core, reminders, messengers, directories=directories,
                             lookups=lookups)
