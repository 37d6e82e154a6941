"""A temporary PostgreSQL server from the pgserver wheel, for the tests and the benchmarks."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def temporary_postgres(url: str | None = None, prefix: str = "compliance-bot-pg-"
                       ) -> Iterator[str]:
    """`url` when given (an existing server); else a pgserver instance, removed afterwards.

    Not under pytest's numbered temp dirs: another pytest session on the machine may prune
    those, and PostgreSQL shuts down when its data directory's lock file disappears.
    """
    if url:
        yield url
        return
    import pgserver

    home = Path(tempfile.mkdtemp(prefix=prefix))
    server = pgserver.get_server(home / "pgdata", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)
