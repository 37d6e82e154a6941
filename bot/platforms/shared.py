"""What every adapter does the same way, written once: cutting text to a platform's limits,
rows of buttons, where a reply goes, the failure guard's one log line, API-error metrics and
keeping chatty libraries quiet.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from bot.messages import CHOICES, Button, Reply
from bot.metrics import PLATFORM_API_ERRORS, WORK_QUEUE_DEPTH, WORK_SHED

_T = TypeVar("_T")
# Events handled at once, and accepted in all (handled and waiting) before "busy". The count
# alone does not bound the wait (a press takes milliseconds, a question tens of them), so an
# event is also refused once the oldest one waiting has waited MAX_WAIT: an answer a second or
# two late is fine in chat, one that would come later is better refused now with "busy,
# please try again". Refusing sooner costs more than it saves: a refusal is not free (the
# notice is a Web API call), and a queue that sheds at its first hiccup answers fewer people.
WORKERS = 8
QUEUE_LIMIT = 200
MAX_WAIT = 2.0  # seconds
# Requests the HTTP server has read and not yet given a thread, past which a door answers busy
# (bot.server.Routes.backlog): they wait for their acknowledgement too, which Slack wants
# within 3 seconds. It must sit well below waitress's 100 open connections: past those,
# requests wait unread in the kernel where no bound sees them, and refusing quickly here is
# what keeps that queue empty.
BACKLOG_LIMIT = 50
# The busy notices themselves: a late "please try again" still tells the user what happened
# (a response_url lasts 30 minutes), so they wait far longer than answers before being
# dropped, and a flood's worth of them fits.
NOTICE_LIMIT = 2000
NOTICE_MAX_WAIT = 60.0  # seconds


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis saying something was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quiet(names: Iterable[str]) -> None:
    """Libraries that log request and response bodies at DEBUG (user ids, report text) never
    log below INFO, whatever the level set."""
    for name in names:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.getEffectiveLevel(), logging.INFO))


class Route(enum.Enum):
    FORM = "form"  # open the reply's form: a modal, a dialog, prompts
    PRIVATE = "private"  # to the user alone: ephemeral in Slack, their 1:1 chat in Teams
    HERE = "here"  # where the user spoke: the channel's thread or the DM


def route(reply: Reply) -> Route:
    if reply.form is not None:
        return Route.FORM
    return Route.PRIVATE if reply.ephemeral else Route.HERE


def button_rows(buttons: list[Button], *, long_label: int, per_row: int) -> list[list[Button]]:
    """Buttons of one group share a row, in order; a choice (a whole question as its label) or
    any label longer than `long_label` gets a row to itself."""
    rows: list[list[Button]] = []
    row: list[Button] = []
    for button in buttons:
        alone = button.group == CHOICES or len(button.label) > long_label
        if row and (alone or button.group != row[-1].group or len(row) == per_row):
            rows.append(row)
            row = []
        row.append(button)
        if alone:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return rows


def count_api_error(platform: str, code: str) -> None:
    PLATFORM_API_ERRORS.labels(platform, code).inc()


def log_failure(log: logging.Logger, what: str, exc: BaseException, *,
                code: str | None = None) -> None:
    """One line naming the failure: the platform's error code if it has one, else the
    exception's type. Never its message, which may quote the payload; the frames (code only)
    go to DEBUG."""
    if code is not None:
        log.error("%s: %s", what, code)
        return
    log.error("%s: failed: %s", what, type(exc).__name__)
    log.debug("%s: at\n%s", what, "".join(traceback.format_tb(exc.__traceback__)))


class WorkQueue(ThreadPoolExecutor):
    """The pool chat events are handled on, bounded: past `limit` events accepted and not yet
    handled it says it is `full`, and the adapter answers "busy, please try again" at once
    instead of queueing an answer that would come a minute late.

    A ThreadPoolExecutor's own queue has no bound; counting here keeps the executor Bolt and
    the Teams adapter already use. The depth is exported as a gauge for /metrics.
    """

    @classmethod
    def for_notices(cls, platform: str) -> WorkQueue:
        """The small pool busy notices go out on (bot.platforms.slack.busy, Teams alike)."""
        return cls(f"{platform}-busy", workers=2, limit=NOTICE_LIMIT, max_wait=NOTICE_MAX_WAIT)

    def __init__(self, platform: str, *, workers: int = WORKERS, limit: int = QUEUE_LIMIT,
                 max_wait: float = MAX_WAIT) -> None:
        super().__init__(max_workers=workers, thread_name_prefix=f"{platform}-work")
        self.platform = platform
        self.limit = limit
        self.max_wait = max_wait
        self._pending = 0
        # When each task not yet started was submitted, oldest first: the executor starts
        # tasks in submission order, so the first is always the longest waiting.
        self._waiting: deque[tuple[int, float]] = deque()
        self._serial = 0
        self._lock = threading.Lock()
        WORK_QUEUE_DEPTH.labels(platform).set(0)

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        with self._lock:
            self._pending += 1
            self._serial += 1
            serial = self._serial
            self._waiting.append((serial, time.monotonic()))
            WORK_QUEUE_DEPTH.labels(self.platform).set(self._pending)

        def started() -> _T:
            self._start(serial)
            return fn(*args, **kwargs)

        try:
            future = super().submit(started)
        except BaseException:
            self._start(serial)
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _start(self, serial: int) -> None:
        with self._lock:
            while self._waiting and self._waiting[0][0] <= serial:
                self._waiting.popleft()

    def waited(self) -> float:
        """Seconds the oldest task not yet started has waited (0 when none waits)."""
        with self._lock:
            return time.monotonic() - self._waiting[0][1] if self._waiting else 0.0

    def _done(self, _future: object) -> None:
        with self._lock:
            self._pending -= 1
            WORK_QUEUE_DEPTH.labels(self.platform).set(self._pending)

    @property
    def full(self) -> bool:
        return self._pending >= self.limit or self.waited() >= self.max_wait

    def shed(self, kind: str) -> None:
        """Count an event answered busy instead of handled."""
        WORK_SHED.labels(self.platform, kind).inc()
