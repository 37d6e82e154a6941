"""The knowledge base in use, reloaded when curators change its files.

Reload is checked on use, at most every `reload_interval_s`, by comparing file names, sizes
and modification times: no watcher thread to keep alive, and a burst of questions costs one
directory listing. A broken edit never replaces a good base: the last good one stays and the
reason is logged with file:line.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from bot.kb.loader import KnowledgeBase, load_knowledge
from bot.search.engine import SearchEngine, Tuning
from bot.search.semantic import Embedder

log = logging.getLogger(__name__)


class KnowledgeLoadError(Exception):
    pass


def _signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    paths = [*directory.glob("*.yaml"), *directory.glob("*.yml")]
    stats = []
    for path in sorted(paths):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        stats.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(stats)


class KnowledgeStore:
    def __init__(
        self,
        directory: Path,
        tuning: Tuning,
        *,
        reload_interval_s: float = 2.0,
        stale_after_days: int = 365,
        embedder: Embedder | None = None,
    ) -> None:
        self.directory = directory
        self.embedder = embedder
        self.tuning = tuning
        self.reload_interval_s = reload_interval_s
        self.stale_after_days = stale_after_days
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._signature = _signature(directory)
        base = self._load()
        if not base.loadable:
            problems = "; ".join(str(i) for i in base.errors if i.blocks_loading)
            raise KnowledgeLoadError(f"knowledge base {directory} has errors: {problems}")
        self._install(base)

    def _load(self) -> KnowledgeBase:
        base = load_knowledge(self.directory, stale_after_days=self.stale_after_days)
        for issue in base.issues:
            if issue.severity == "warning" or not issue.blocks_loading:
                log.warning("knowledge base: %s", issue)
        return base

    def _install(self, base: KnowledgeBase) -> None:
        engine = SearchEngine.for_base(base, self.tuning, self.embedder)
        self.base, self.engine = base, engine
        log.info("knowledge base %s loaded: %d entries", base.version, len(base.entries))

    def current(self) -> tuple[KnowledgeBase, SearchEngine]:
        """The base and engine to answer with, reloading first if the files changed."""
        now = time.monotonic()
        if now - self._checked_at >= self.reload_interval_s:
            self.reload_if_changed()
        return self.base, self.engine

    def reload_if_changed(self) -> bool:
        with self._lock:
            self._checked_at = time.monotonic()
            signature = _signature(self.directory)
            if signature == self._signature:
                return False
            self._signature = signature
            base = self._load()
            if not base.loadable:
                for issue in base.errors:
                    if issue.blocks_loading:
                        log.error("knowledge base not reloaded, keeping %s: %s",
                                  self.base.version, issue)
                return False
            self._install(base)
            return True

