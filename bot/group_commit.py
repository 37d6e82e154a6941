"""Group commit: units of work that arrive together share one transaction and one commit.

A button press writes a few rows and one audit event. Alone, its transaction costs more than
its statements: a pooled connection, BEGIN (IMMEDIATE on SQLite, so presses queue for the one
writer), the audit head read under lock, COMMIT and its fsync. Under a burst, a thousand
people pressing Acknowledge within seconds, those fixed costs are most of the database's work.

Here the first caller to arrive leads: it opens a transaction, runs every unit waiting at that
moment (its own first, up to `LIMIT`), commits once, and only then wakes the others, so no
one is told "recorded" before the row is durable. Callers that arrive while it commits wait
and form the next group; the leader hands leadership to the oldest of them. Alone, a caller
leads a group of one: no timer, no added latency. This is how databases group their own log
flushes; no library offers it for SQLAlchemy sessions, hence the code here.

A unit that raises must not take the others down with it: the group is rolled back and every
unit is run again in a transaction of its own, so the error reaches only its caller. Units
must therefore be safe to run again after a rollback (only database work inside), and must
let database errors propagate rather than swallow them inside the shared session.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")

LIMIT = 64  # units per transaction: bounds how long one group holds the write lock


@dataclass
class GroupStats:
    """Counted for /metrics: units / groups is the mean group size."""

    units: int = 0
    groups: int = 0
    retried: int = 0  # groups rolled back and run again unit by unit


STATS = GroupStats()
_STATS_LOCK = threading.Lock()


@dataclass(eq=False)
class _Unit(Generic[T]):
    work: Callable[[Session], T]
    wake: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    value: Any = None
    error: BaseException | None = None

    def result(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[no-any-return]


class GroupCommit:
    def __init__(self, transaction: Callable[[], AbstractContextManager[Session]],
                 limit: int = LIMIT) -> None:
        self._transaction = transaction
        self._limit = limit
        self._lock = threading.Lock()
        self._waiting: deque[_Unit[Any]] = deque()
        self._leading = False

    def run(self, work: Callable[[Session], T]) -> T:
        """`work(session)` committed, possibly with others' work in the same transaction;
        returns its value (or raises its error) once the commit is durable."""
        unit: _Unit[T] = _Unit(work)
        with self._lock:
            self._waiting.append(unit)
            lead = not self._leading
            self._leading = True
        if not lead:
            unit.wake.wait()
            if unit.done:  # else it was woken to lead the next group
                return unit.result()
        self._lead()
        return unit.result()

    def _lead(self) -> None:
        """Commit one group (the caller's unit is its oldest), then pass the lead on."""
        with self._lock:
            group = [self._waiting.popleft()
                     for _ in range(min(self._limit, len(self._waiting)))]
        try:
            self._commit(group)
        finally:
            for unit in group:
                if not unit.done:  # only if something escaped _commit itself
                    unit.error = unit.error or RuntimeError("group commit failed")
                    unit.done = True
                unit.wake.set()
            with self._lock:
                if self._waiting:
                    self._waiting[0].wake.set()  # woken and not done: it leads next
                else:
                    self._leading = False

    def _commit(self, group: list[_Unit[Any]]) -> None:
        try:
            with self._transaction() as session:
                values = [unit.work(session) for unit in group]
        except Exception as exc:
            if len(group) == 1:
                group[0].error, group[0].done = exc, True
                _count(1, retried=False)
                return
            _count(0, retried=True)
            for unit in group:  # alone, so that one unit's error is its own
                self._commit([unit])
            return
        for unit, value in zip(group, values, strict=True):
            unit.value, unit.done = value, True
        _count(len(group), retried=False)


def snapshot() -> GroupStats:
    with _STATS_LOCK:
        return GroupStats(STATS.units, STATS.groups, STATS.retried)


def _count(units: int, *, retried: bool) -> None:
    with _STATS_LOCK:
        STATS.units += units
        STATS.groups += 1 if units else 0
        STATS.retried += 1 if retried else 0
