"""Group commit (Database.grouped): work arriving together shares one transaction; each caller
returns only once its rows are committed; one unit's error is its own. On SQLite and
PostgreSQL, with the real audit trail, whose chain must stay whole."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import generate_latest
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.audit import verify
from bot.core import Core
from bot.metrics import REGISTRY
from bot.models import AuditEvent


def _append(core: Core, name: str) -> Callable[[Session], int]:
    def work(session: Session) -> int:
        return core.audit.record(session, actor="system", action="test.grouped", subject=name)

    return work


def _events(core: Core) -> list[str]:
    with core.database.transaction() as session:
        return list(session.scalars(sa.select(AuditEvent.subject)
                                    .where(AuditEvent.action == "test.grouped")))


def _counters() -> dict[str, float]:
    """What /metrics says of group commit."""
    text = generate_latest(REGISTRY).decode()
    return {kind: float(line.split()[-1]) for line in text.splitlines()
            for kind in ("units", "groups")
            if line.startswith(f"compliance_bot_group_commit_{kind}_total ")}


def _run_while_held(core: Core, works: list[Callable[[Session], Any]]
                    ) -> tuple[list[Any], list[BaseException | None]]:
    """A first caller leads and is held inside its transaction while `works` arrive, one
    thread each; then it is let go. Returns each work's value and error, in order."""
    entered, release = threading.Event(), threading.Event()

    def first(session: Session) -> int:
        entered.set()
        assert release.wait(10)
        return _append(core, "leader")(session)

    leader = threading.Thread(target=core.database.grouped, args=(first,))
    leader.start()
    assert entered.wait(5)
    values: list[Any] = [None] * len(works)
    errors: list[BaseException | None] = [None] * len(works)

    def call(index: int) -> None:
        try:
            values[index] = core.database.grouped(works[index])
        except BaseException as exc:  # handed to the test
            errors[index] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    waiting = core.database._group._waiting  # the test waits for the queue
    for _ in range(500):
        if len(waiting) == len(works):
            break
        threading.Event().wait(0.01)
    assert len(waiting) == len(works)
    assert values == [None] * len(works)  # nobody answered while the leader holds the lock
    release.set()
    leader.join(10)
    for thread in threads:
        thread.join(10)
    return values, errors


def test_work_arriving_together_shares_one_transaction(core: Core) -> None:
    sessions: list[int] = []

    def work(session: Session) -> int:
        sessions.append(id(session))
        return _append(core, "follower")(session)

    commits: list[int] = []
    event.listen(core.database.engine, "commit", lambda _conn: commits.append(1))
    before = _counters()
    values, errors = _run_while_held(core, [work] * 5)
    after = _counters()
    assert (after["units"] - before["units"], after["groups"] - before["groups"]) == (6, 2)
    assert errors == [None] * 5
    assert len(set(sessions)) == 1  # the five followers ran in one session
    assert sorted(values) == [2, 3, 4, 5, 6]  # each got its own audit seq, after the leader's
    assert len(commits) == 2  # the leader's own transaction, then one for the five
    assert sorted(_events(core)) == ["follower"] * 5 + ["leader"]
    with core.database.transaction() as session:
        assert verify(session, core.keyring).ok


def test_a_caller_returns_only_after_its_rows_are_committed(core: Core) -> None:
    order: list[str] = []
    lock = threading.Lock()
    event.listen(core.database.engine, "commit", lambda _conn: order.append("commit"))

    def work(session: Session) -> int:
        return _append(core, "follower")(session)

    def calling() -> None:
        core.database.grouped(work)
        with lock:
            order.append("returned")

    entered, release = threading.Event(), threading.Event()

    def first(session: Session) -> None:
        entered.set()
        release.wait(10)
        _append(core, "leader")(session)

    leader = threading.Thread(target=core.database.grouped, args=(first,))
    leader.start()
    assert entered.wait(5)
    callers = [threading.Thread(target=calling) for _ in range(3)]
    for caller in callers:
        caller.start()
    threading.Event().wait(0.2)
    assert "returned" not in order
    release.set()
    for thread in [leader, *callers]:
        thread.join(10)
    assert order[:2] == ["commit", "commit"]  # the leader's group, then the three's
    assert order.count("returned") == 3


def test_one_units_error_reaches_only_its_caller(core: Core) -> None:
    def failing(session: Session) -> int:
        _append(core, "failing")(session)
        raise ValueError("this unit fails after writing")

    values, errors = _run_while_held(core, [_append(core, "a"), failing, _append(core, "b")])
    assert isinstance(errors[1], ValueError)
    assert errors[0] is None and errors[2] is None
    assert values[0] and values[2]
    assert sorted(_events(core)) == ["a", "b", "leader"]  # the failing unit left nothing
    with core.database.transaction() as session:
        assert verify(session, core.keyring).ok  # seq gap-free: the group was run again


def test_a_database_error_in_one_unit_leaves_the_others_committed(core: Core) -> None:
    def broken(session: Session) -> None:
        session.execute(sa.text("SELECT * FROM no_such_table"))

    _values, errors = _run_while_held(core, [_append(core, "a"), broken, _append(core, "b")])
    assert isinstance(errors[1], sa.exc.DBAPIError)
    assert errors[0] is None and errors[2] is None
    assert sorted(_events(core)) == ["a", "b", "leader"]


@pytest.mark.parametrize("callers", [40])
def test_many_concurrent_callers_each_get_their_own_committed_row(core: Core,
                                                                  callers: int) -> None:
    values: list[int] = []
    lock = threading.Lock()

    def call(index: int) -> None:
        seq = core.database.grouped(_append(core, f"c{index}"))
        with lock:
            values.append(seq)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(values) == list(range(1, callers + 1))
    assert len(_events(core)) == callers
    with core.database.transaction() as session:
        assert verify(session, core.keyring).ok
