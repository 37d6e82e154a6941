"""The one background scheduler: every feature's jobs on one APScheduler instance.

Features declare jobs in the registry (`Registry.job`); the wiring starts this once. A job that
raises is logged and runs again at its next tick, never stopping for good; a tick that finds
the previous one still running returns at once (each sweep guards itself), so two may overlap
without APScheduler warning every few seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.registry import Job

log = logging.getLogger(__name__)

# APScheduler logs two INFO lines per run of every job ("Running job", "executed
# successfully"): with a send sweep every few seconds that is most of a day's log.
CHATTY = ("apscheduler.executors", "apscheduler.scheduler")


class JobScheduler:
    def __init__(self, jobs: Iterable[Job], *, on_stop: Iterable[Callable[[], None]] = ()
                 ) -> None:
        self._jobs = list(jobs)
        self._on_stop = list(on_stop)
        self._scheduler: BackgroundScheduler | None = None

    def start(self) -> JobScheduler:
        if not self._jobs:
            return self
        for name in CHATTY:
            logging.getLogger(name).setLevel(logging.WARNING)
        scheduler = BackgroundScheduler(timezone=UTC)
        now = datetime.now(UTC)
        for job in self._jobs:
            # next_run_time=None would add the job paused: only passed to start one at once.
            first = {"next_run_time": now} if job.first_run_now else {}
            scheduler.add_job(_safely(job), IntervalTrigger(seconds=job.every_s, timezone=UTC),
                              id=job.name, name=job.name, max_instances=2, coalesce=True,
                              **first)
        scheduler.start()
        self._scheduler = scheduler
        log.info("background jobs: %s", ", ".join(
            f"{job.name} every {job.every_s:g}s" for job in self._jobs))
        return self

    @property
    def jobs(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()] if self._scheduler else []

    def stop(self) -> None:
        """Let running jobs finish, then run each feature's stop hook (a lease handed over)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        for hook in self._on_stop:
            try:
                hook()
            except Exception:
                log.exception("stop hook failed")


def _safely(job: Job) -> Callable[[], None]:
    def run() -> None:
        try:
            job.run()
        except Exception:  # the next tick tries again; a crash would stop the job for good
            log.exception("background job %s failed", job.name)
    return run
