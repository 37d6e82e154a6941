"""`/readyz`: may this instance take traffic? The database answers, the knowledge base is
loaded, every platform connection is up. `/healthz` (process up) lives in bot.server."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from bot.core import Core
from bot.server import Request, Response

log = logging.getLogger(__name__)

Check = Callable[[], bool]


class Readiness:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.checks: dict[str, Check] = {"database": self._database,
                                         "knowledge": self._knowledge}

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    def failing(self) -> list[str]:
        failed = []
        for name, check in self.checks.items():
            try:
                ok = check()
            except Exception as exc:  # a check that raises is a check that failed
                log.warning("readiness check %s raised %s", name, type(exc).__name__)
                ok = False
            if not ok:
                failed.append(name)
        return failed

    def __call__(self, request: Request) -> Response:
        failed = self.failing()
        if failed:
            return Response.text(503, "not ready: " + ", ".join(failed) + "\n")
        return Response.text(200, "ready\n")

    def _database(self) -> bool:
        try:
            with self.core.database.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except SQLAlchemyError:
            return False
        return True

    def _knowledge(self) -> bool:
        base, _ = self.core.knowledge.current()
        return len(base.entries) > 0
