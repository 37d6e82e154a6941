"""A lease row in the database: only its holder runs the sweeps, anyone may take it once expired.

Works the same on SQLite and PostgreSQL (a row lock, not an advisory lock), so the embedded
default and a two-node deployment behave alike. The lease is about not doing the work twice
(two senders pacing at the full rate would exceed the platform's limit); exactly-once delivery
itself rests on the delivery rows' claims, which stay correct even if two holders overlapped.
A holder starts a post only while its lease has at least the post timeout left, so when a new
holder takes over, every post of the old one has finished one way or the other.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.audit import SYSTEM, AuditTrail
from bot.clock import Clock, utcnow
from bot.db import Database
from bot.reminders.models import SchedulerLease, as_utc

LEASE_NAME = "reminders"


def default_holder() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease:
    def __init__(self, database: Database, audit: AuditTrail, *, ttl_s: float,
                 clock: Clock = utcnow, holder: str | None = None,
                 name: str = LEASE_NAME) -> None:
        self.database = database
        self.audit = audit
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock
        self.holder = holder or default_holder()
        self.name = name
        self.expires_at: datetime | None = None
        self.generation = 0
        self._lock = threading.Lock()

    def acquire(self) -> bool:
        """Take the lease if it is free or expired, extend it if it is ours."""
        now = self.clock()
        try:
            with self.database.transaction() as session:
                row = session.execute(
                    select(SchedulerLease).where(SchedulerLease.name == self.name)
                    .with_for_update()
                ).scalar_one_or_none()
                if row is None:
                    row = SchedulerLease(name=self.name, holder=None, expires_at=now,
                                         generation=0)
                    session.add(row)
                    session.flush()
                free = row.holder is None or as_utc(row.expires_at) <= now
                if row.holder != self.holder and not free:
                    self.expires_at = None
                    return False
                if row.holder != self.holder:
                    row.generation += 1
                    self.audit.record(
                        session, actor=SYSTEM, action="reminders.lease_taken",
                        subject=f"lease:{self.name}",
                        before={"holder": row.holder},
                        after={"holder": self.holder, "generation": row.generation},
                    )
                row.holder = self.holder
                row.expires_at = now + self.ttl
                self.generation = row.generation
        except IntegrityError:  # two first-ever acquirers inserted the row at once
            self.expires_at = None
            return False
        self.expires_at = now + self.ttl
        return True

    def remaining(self) -> float:
        """Seconds left on our lease, as far as we know; 0 when we do not hold it."""
        if self.expires_at is None:
            return 0.0
        return max(0.0, (self.expires_at - self.clock()).total_seconds())

    def ensure(self, min_remaining_s: float) -> bool:
        """Renew when half the lease is gone; True if we may start something that long."""
        with self._lock:
            if self.remaining() < max(min_remaining_s, self.ttl.total_seconds() / 2):
                self.acquire()
            left = self.remaining()
            return left > 0 and left >= min_remaining_s

    def release(self) -> None:
        with self._lock, self.database.transaction() as session:
            row = session.get(SchedulerLease, self.name, with_for_update=True)
            if row is not None and row.holder == self.holder:
                row.holder = None
                row.expires_at = self.clock()
            self.expires_at = None
