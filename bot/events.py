"""Exactly-once intake of platform events, shared by every instance through the database.

Slack redelivers an event whose ack was slow, and two instances may each receive a copy; the
first to insert the event id owns it, the rest see the primary key refuse and drop theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.db import Database, rowcount
from bot.models import ProcessedEvent

KEEP = timedelta(days=2)  # Slack stops retrying after about an hour; keep a margin


class EventLedger:
    def __init__(self, database: Database, platform: str) -> None:
        self.database = database
        self.platform = platform
        self._claims = 0

    def claim(self, event_id: str) -> bool:
        """True for the first delivery of `event_id` anywhere; False for every later one."""
        now = datetime.now(UTC)
        try:
            with self.database.transaction() as session:
                session.add(ProcessedEvent(platform=self.platform, event_id=event_id[:128],
                                           received_at=now))
        except IntegrityError:
            return False
        self._claims += 1
        if self._claims % 1000 == 0:
            self.prune(now - KEEP)
        return True

    def release(self, event_id: str) -> None:
        """Give a claim back: its processing stored nothing (a form sent back with errors, or a
        failure), so the same delivery must be taken on when it comes again."""
        with self.database.transaction() as session:
            session.execute(sa.delete(ProcessedEvent).where(
                ProcessedEvent.platform == self.platform,
                ProcessedEvent.event_id == event_id[:128]))

    def prune(self, before: datetime) -> int:
        with self.database.transaction() as session:
            result = session.execute(
                sa.delete(ProcessedEvent).where(ProcessedEvent.received_at < before))
        return rowcount(result)
