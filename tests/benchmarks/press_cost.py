"""Benchmark: what one button press costs, component by component, in CPU.

Signed feedback presses (`ask.feedback`) go through the real door (bot.platforms.slack.http),
the real Bolt app, the dispatcher and the ask flow, against a SQLite file and the loopback
Slack Web API, one after another in this process with the listener run inline, so that
`time.thread_time()` sees all of a press's work: the HTTP server's threads are left out (the
chat-path benchmark measures them under load). Each component's CPU is summed by wrapping
its function; the same press through a bare Bolt app (ack and `respond`) is the baseline.

Printed: `cpu_ms_per_press` for ours and for the bare app, and `components_ms` (door parse,
signature, Bolt's request, the flow and its audit append, its statements, the commit, the
response_url post), each the median of --runs runs of --presses presses.

Usage, from the repository root:

    python tests/benchmarks/press_cost.py --json
"""

from __future__ import annotations

import argparse
import collections
import functools
import io
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.platforms.shared import WorkQueue  # noqa: E402
from tests.benchmarks.chat_load import (  # noqa: E402
    SECRET,
    BenchSlackAPI,
    bot_env,
    db_upgrade,
    dm_body,
    generate_key,
    press_body,
)
from tests.slack import sign  # noqa: E402
from tests.slack_api import BOT_TOKEN  # noqa: E402

FORM = "application/x-www-form-urlencoded"


class InlineWork(WorkQueue):
    """A listener executor that runs the listener in the calling thread: its CPU is then the
    caller's, where thread_time() sees it. Both apps use it."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class Costs:
    """CPU per component, summed by wrapping the functions that do each part."""

    def __init__(self) -> None:
        self.seconds: collections.Counter[str] = collections.Counter()

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.thread_time() - started

        setattr(owner, name, timed)

    def reset(self) -> None:
        self.seconds.clear()


def _environ(body: bytes, content_type: str) -> dict[str, Any]:
    stamp = str(int(time.time()))
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events",
            "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "HTTP_X_SLACK_REQUEST_TIMESTAMP": stamp,
            "HTTP_X_SLACK_SIGNATURE": sign(body, stamp, SECRET), "SERVER_NAME": "bench",
            "SERVER_PORT": "0", "wsgi.url_scheme": "http", "QUERY_STRING": ""}


@contextmanager
def ours(api: BenchSlackAPI) -> Iterator[tuple[Callable[[int], None], Costs]]:
    """The bot as `compliance-bot run` builds it, its door called as waitress would."""
    with tempfile.TemporaryDirectory(prefix="press-cost-") as tmp:
        env = bot_env(Path(tmp), api, f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                      generate_key())
        db_upgrade(env)
        os.environ.update(env)
        from bot.config import load_settings
        from bot.platforms.slack.app import build_app
        from bot.platforms.slack.http import SlackEndpoint
        from bot.server import Routes
        from bot.wiring import build

        settings = load_settings(dict(env))
        assert settings.slack is not None
        bot = build(settings)
        app, ctx = build_app(bot.dispatcher, bot.core, settings.slack,
                             work=InlineWork("slack-bench"))
        routes = Routes()
        routes.add("/slack/events", SlackEndpoint(app, SECRET, ctx))

        def call(body: bytes, content_type: str) -> None:
            routes(_environ(body, content_type), lambda status, headers: None)

        call(dm_body("パスワードを他人に教えてもいい？", user="U0BENCH", channel="D0BENCH",
                     ts="1800000000.000001", event_id="Ev0BENCH"), "application/json")
        [answer] = api.wait_for("chat.postMessage", 1, timeout=60)[-1:]
        action, value = next(
            (str(e["action_id"]), str(e["value"])) for block in answer.params["blocks"]
            for e in block.get("elements") or []
            if str(e.get("action_id", "")).startswith("ask.feedback")
            and str(e.get("value", "")).endswith(":up"))
        api.clear()

        def press(n: int) -> None:
            call(press_body(action, value, user=f"U0P{n:07d}", channel="D0BENCH",
                            message_ts="1800000001.000100",
                            response_url=api.response_url(f"p{n}")), FORM)

        costs = Costs()
        yield press, costs
        bot.core.database.dispose()


def _instrument(costs: Costs) -> None:
    import sqlalchemy.orm.session as orm_session
    from slack_bolt import App
    from slack_bolt.request import request as bolt_request

    import bot.platforms.slack.context as context
    import bot.platforms.slack.http as door
    from bot.audit import AuditTrail
    from bot.keys import Keyring
    from handlers.ask.flow import AskFlow

    costs.wrap(door, "_parses", "door: body parse and shape check")
    costs.wrap(door.SignatureVerifier, "is_valid", "door: signature check")
    costs.wrap(bolt_request.BoltRequest, "__init__", "Bolt: request (its own parse)")
    costs.wrap(App, "dispatch", "Bolt: dispatch, all within")
    costs.wrap(AskFlow, "handle_action", "flow, all within")
    costs.wrap(AskFlow, "_feedback", "flow: the rating, audit append included")
    costs.wrap(AuditTrail, "record", "flow: audit append")
    costs.wrap(orm_session.Session, "execute", "flow: statements (checkout and BEGIN on the first)")
    costs.wrap(orm_session.SessionTransaction, "commit", "flow: commit")
    costs.wrap(Keyring, "pseudonym", "flow: pseudonym")
    costs.wrap(context.SlackContext, "deliver", "response_url post (Bolt's respond)")


def bare(api: BenchSlackAPI) -> Callable[[int], None]:
    from slack_bolt import Ack, App, BoltRequest, Respond
    from slack_sdk import WebClient

    app = App(client=WebClient(token=BOT_TOKEN, base_url=api.url), signing_secret=SECRET,
              request_verification_enabled=True, token_verification_enabled=False,
              listener_executor=InlineWork("bare-bench"))

    @app.action(re.compile(r".+"))
    def on_press(ack: Ack, respond: Respond) -> None:
        ack()
        respond(response_type="ephemeral", replace_original=False, text="thanks")

    def press(n: int) -> None:
        body = press_body("ask.feedback|1", "1:up", user=f"U0B{n:07d}", channel="D0BENCH",
                          message_ts="1800000001.000100",
                          response_url=api.response_url(f"b{n}")).decode()
        stamp = str(int(time.time()))
        app.dispatch(BoltRequest(body=body, headers={
            "content-type": [FORM], "x-slack-request-timestamp": [stamp],
            "x-slack-signature": [sign(body.encode(), stamp, SECRET)]}))

    return press


def cpu_per_press(press: Callable[[int], None], first: int, count: int) -> float:
    started = time.thread_time()
    for n in range(first, first + count):
        press(n)
    return (time.thread_time() - started) * 1000 / count


def measure(args: argparse.Namespace) -> dict[str, Any]:
    with BenchSlackAPI() as api, ours(api) as (press, costs):
        baseline = bare(api)
        for n in range(30):  # lazily imported code and first statements: not measured
            press(10_000_000 + n)
            baseline(10_000_000 + n)
        _instrument(costs)
        ours_ms: list[float] = []
        bare_ms: list[float] = []
        parts: dict[str, list[float]] = collections.defaultdict(list)
        for run in range(args.runs):
            costs.reset()
            ours_ms.append(cpu_per_press(press, run * args.presses, args.presses))
            for label, seconds in costs.seconds.items():
                parts[label].append(seconds * 1000 / args.presses)
            bare_ms.append(cpu_per_press(baseline, run * args.presses, args.presses))
            api.clear()
    return {
        "presses_per_run": args.presses, "runs": args.runs, "database": "sqlite",
        "cpu_ms_per_press": {"ours": round(statistics.median(ours_ms), 3),
                             "bare_bolt": round(statistics.median(bare_ms), 3)},
        "components_ms": {label: round(statistics.median(values), 3)
                          for label, values in sorted(parts.items(),
                                                      key=lambda item: -max(item[1]))},
        "cpus": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--presses", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result = measure(args)
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
