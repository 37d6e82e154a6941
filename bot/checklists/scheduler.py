"""The checklist jobs: a plan sweep and a send sweep, both run only by the lease's holder.

As the reminders' scheduler: no job per person, any number of instances; one works, another
takes over within the lease's lifetime when it dies. Tests call `sweep()` with a clock of
their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from bot.checklists.delivery import LEASE_NAME, Sender
from bot.checklists.planner import Planner, PlanResult
from bot.checklists.service import ChecklistService
from bot.checklists.views import Spell
from bot.clock import Clock, utcnow
from bot.messages import Messenger
from bot.registry import Job
from bot.reminders.delivery import Pacer, SendResult
from bot.reminders.lease import Lease
from bot.reminders.ports import Directory, PostedLookup

log = logging.getLogger(__name__)
PUBLISH_AT_ONCE = 20


def _as_typed(platform: str, name: str, lang: str) -> str:
    return name


class ChecklistScheduler:
    def __init__(self, service: ChecklistService, messengers: Mapping[str, Messenger], *,
                 company: Callable[[str], dict[str, str]],
                 directories: Mapping[str, Directory] | None = None,
                 lookups: Mapping[str, PostedLookup] | None = None,
                 spell: Spell = _as_typed, clock: Clock = utcnow, holder: str | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        settings = service.settings.file.checklists
        self.settings = settings
        self.service = service
        self.clock = clock
        self.lease = Lease(service.database, service.audit, ttl_s=settings.lease_ttl_s,
                           clock=clock, holder=holder, name=LEASE_NAME)
        self.planner = Planner(service, settings.schedules, directories or {})
        self.sender = Sender(
            service.database, service.audit, messengers, lookups or {}, self.lease,
            company=company, lang=service.lang, zone=service.zone, spell=spell,
            pacer=Pacer(settings.rate_per_second, settings.burst, monotonic=monotonic,
                        sleep=sleep),
            workers=settings.workers, post_timeout_s=settings.post_timeout_s,
            max_attempts=settings.max_attempts, clock=clock)
        self._planning = threading.Lock()
        self._sending = threading.Lock()

    def plan_sweep(self) -> PlanResult | None:
        if not self._planning.acquire(blocking=False):
            return None
        try:
            if not self.lease.ensure(0.0):
                return None
            result = self.planner.plan(self.clock())
        finally:
            self._planning.release()
        # After the commit. A long list (a yearly inventory's stragglers) is left to the
        # escalations' own sweep, which posts unposted triage cards every minute.
        self.service.publish(result.escalations[:PUBLISH_AT_ONCE])
        if result.started or result.followups or result.escalated:
            log.info("checklists planned: %d started, %d follow-ups, %d escalated",
                     sum(result.started.values()), result.followups, len(result.escalated))
        return result

    def send_sweep(self) -> SendResult | None:
        if not self._sending.acquire(blocking=False):
            return None
        try:
            if not self.lease.ensure(self.settings.post_timeout_s):
                return None
            result = self.sender.send_due()
            if result.outcomes:
                log.info("checklist messages: %s", ", ".join(
                    f"{outcome} {count}" for outcome, count in sorted(result.outcomes.items())))
            return result
        finally:
            self._sending.release()

    def sweep(self) -> tuple[PlanResult | None, SendResult | None]:
        return self.plan_sweep(), self.send_sweep()

    def jobs(self) -> list[Job]:
        return [Job("checklists.plan", self.plan_sweep, self.settings.plan_interval_s, True),
                Job("checklists.send", self.send_sweep, self.settings.send_interval_s, True)]

    def close(self) -> None:
        """After the sweeps stopped: let posts in flight finish, hand the lease over at once."""
        self.sender.stop()
        self.lease.release()
