"""SQLite writers of one process queue on a lock: handed over at commit, refused after the
busy timeout, never left polling in SQLite's busy handler."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from bot import db as db_module
from bot.clock import utcnow
from bot.db import Database
from bot.migrate import upgrade
from bot.models import ProcessedEvent


@pytest.fixture
def sqlite(tmp_path) -> Database:  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path / 'writers.sqlite3'}")
    upgrade(database)
    yield database
    database.dispose()


def _hold(database: Database, entered: threading.Event, release: threading.Event) -> None:
    with database.transaction() as session:
        session.add(ProcessedEvent(platform="slack", event_id="Ev0FIRST",
                                   received_at=utcnow()))
        session.flush()
        entered.set()
        release.wait(10)


def test_a_second_writer_waits_for_the_first_and_sees_its_row(sqlite: Database) -> None:
    entered, release, second_in = threading.Event(), threading.Event(), threading.Event()
    seen: list[int] = []
    holder = threading.Thread(target=_hold, args=(sqlite, entered, release))
    holder.start()
    assert entered.wait(5)

    def second() -> None:
        with sqlite.transaction() as session:
            second_in.set()
            seen.append(session.scalar(sa.select(sa.func.count()).select_from(ProcessedEvent)))

    waiter = threading.Thread(target=second)
    waiter.start()
    assert not second_in.wait(0.3)  # queued behind the first writer
    release.set()
    holder.join(5)
    waiter.join(5)
    assert seen == [1]


def test_a_writer_waiting_past_the_busy_timeout_gets_sqlites_error(
        sqlite: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    entered, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(sqlite, entered, release))
    holder.start()
    try:
        assert entered.wait(5)
        with pytest.raises(OperationalError, match="database is locked"), \
                sqlite.transaction():
            pass
    finally:
        release.set()
        holder.join(5)
    with sqlite.transaction() as session:  # the lock is free again
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessedEvent)) == 1
