"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from bot.config import ConfigError
from bot.group_commit import GroupCommit

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_S = 30


def normalise_url(url: str) -> str:
    """postgresql:// means psycopg 3 here, the driver we ship."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        raise ConfigError("DATABASE_URL: not a valid database URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _serialise_sqlite_writers(engine)
        return engine
    # A stopped server must fail a readiness check in seconds, not hang it.
    return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def _serialise_sqlite_writers(engine: Engine) -> None:
    # pysqlite opens transactions lazily, so two writers can both read the audit head and fork
    # the chain. BEGIN IMMEDIATE takes the write lock up front (the SQLAlchemy-documented recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE or DELETE matched, 0 where the driver does not say.

    `Session.execute` is typed to return a `Result`; for these statements it is the
    `CursorResult` that carries the count.
    """
    return cast(CursorResult[*tuple[Any, ...]], result).rowcount or 0


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite allows one writer, and every transaction here begins IMMEDIATE. Threads of
        # this process that meet a held write lock would otherwise wait in SQLite's busy
        # handler, which polls with sleeps growing to 100 ms: under a burst of presses most
        # of a press's latency was spent asleep there. Queueing on a Python lock hands the
        # database over the moment the holder commits. Other processes still meet the busy
        # timeout (rare: one instance per SQLite file is the supported deployment).
        self._writer: threading.RLock | None = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else None)
        self._group = GroupCommit(self.transaction)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed together with its audit events, or not at all."""
        if self._writer is None:
            with self._sessions() as session, session.begin():
                yield session
            return
        # As long as SQLite's own busy timeout would have waited, then its error.
        if not self._writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_S):
            raise OperationalError("BEGIN IMMEDIATE", None,
                                   sqlite3.OperationalError("database is locked"))
        try:
            with self._sessions() as session, session.begin():
                yield session
        finally:
            self._writer.release()

    def grouped(self, work: Callable[[Session], T]) -> T:
        """`work(session)` committed, sharing its transaction with other threads' work that
        arrives meanwhile (bot.group_commit): for the small promised writes of a burst of
        presses. Returns once the commit is durable. `work` must be safe to run again after a
        rollback and must let database errors propagate."""
        return self._group.run(work)

    def dispose(self) -> None:
        self.engine.dispose()
