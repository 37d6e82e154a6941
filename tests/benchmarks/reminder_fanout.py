"""Benchmark: one reminder fanned out to 10,000 people through a rate-limited, failing Slack.

A loopback HTTP server speaks the Slack Web API (chat.postMessage, conversations.open,
conversations.history, users.list). chat.postMessage is held to `--rate` calls a second by a
token bucket (two seconds of burst); calls over it get 429 with Retry-After, and on top of that
a share of calls is answered 429 anyway, and a share 500 (half of those after the message was
posted, as a gateway timeout can). The sender is the real bot code in a separate process
(`ReminderScheduler` started with its APScheduler jobs, the real `SlackMessenger` and
`SlackDirectory` over slack_sdk's `WebClient`), killed with SIGKILL once midway and started
again, as an operator's restart would; the new process takes the lease over when the dead one's
expires, looks up the messages whose fate it cannot know, and finishes.

The occurrence is queued as `compliance-bot reminders send ID --now` queues it (users.list
through the Slack directory); `seconds` is the fan-out window the fake API sees, from the first
chat.postMessage to the last delivered one, the kill and the restart included.

Printed: recipients, delivered (people who got the reminder), duplicates (extra copies),
lost (people who got nothing), seconds, allowed_rate_fraction (delivered per second over the
rate the fake API allows), and what the fake API saw (429s, 500s, lookups) and the restart.

Usage, from the repository root:

    python tests/benchmarks/reminder_fanout.py            # a short table
    python tests/benchmarks/reminder_fanout.py --json     # one JSON object on stdout
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

TOKEN = "xoxb-benchmark"
REMINDER_ID = "fanout"
PAGE = 200


# -- the far side: a Slack Web API on loopback ---------------------------------------------------


class FakeSlack:
    """Slack's Web API as far as a reminder fan-out touches it, with its limits and faults."""

    def __init__(self, users: list[str], *, rate: float, p429: float, p500: float,
                 seed: int) -> None:
        self.users = users
        self.rate = rate
        # Two seconds of burst, as Slack tolerates short bursts; the bot's own pacer allows one,
        # so the jitter of four concurrent requests never trips the limit.
        self.burst = 2 * rate
        self.p429 = p429
        self.p500 = p500
        self.rng = random.Random(seed)
        self.tokens = self.burst
        self.refilled = time.monotonic()
        self.received: Counter[str] = Counter()  # user -> messages that reached them
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.counts: Counter[str] = Counter()
        self.events: list[tuple[float, int]] = []  # (when, HTTP status) of each post call
        self.first_post: float | None = None
        self.last_delivery: float | None = None
        self.last_ts = 0.0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def delivered(self) -> int:
        with self.lock:
            return len(self.received)

    # -- methods -----------------------------------------------------------------------------

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any], int]:
        """(HTTP status, body, Retry-After seconds or 0)."""
        with self.lock:
            self.counts[method] += 1
            if method == "chat.postMessage":
                answer = self._post(params)
                self.events.append((time.monotonic(), answer[0]))
                return answer
            if method == "conversations.open":
                return 200, {"ok": True, "channel": {"id": "D" + str(params["users"])}}, 0
            if method == "conversations.history":
                return self._history(params)
            if method == "users.list":
                start = int(params.get("cursor") or 0)
                page = [{"id": user, "name": user.lower()} for user in
                        self.users[start:start + PAGE]]
                more = str(start + PAGE) if start + PAGE < len(self.users) else ""
                return 200, {"ok": True, "members": page,
                             "response_metadata": {"next_cursor": more}}, 0
            return 200, {"ok": False, "error": "unknown_method"}, 0

    def _post(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], int]:
        now = time.monotonic()
        if self.first_post is None:
            self.first_post = now
        self.tokens = min(self.burst, self.tokens + (now - self.refilled) * self.rate)
        self.refilled = now
        if self.rng.random() < self.p429:
            self.counts["429 injected"] += 1
            return 429, {"ok": False, "error": "ratelimited"}, 1
        if self.tokens < 1:
            self.counts["429 over the limit"] += 1
            return 429, {"ok": False, "error": "ratelimited"}, max(1, math.ceil(
                (1 - self.tokens) / self.rate))
        self.tokens -= 1
        fault = self.rng.random()
        if fault < self.p500 / 2:
            self.counts["500 not posted"] += 1
            return 500, {"ok": False, "error": "internal_error"}, 0
        channel = str(params["channel"])
        self.last_ts = max(time.time(), self.last_ts + 0.000001)
        message = {"type": "message", "ts": f"{self.last_ts:.6f}", "text": params.get("text"),
                   "blocks": params.get("blocks")}
        dm = "D" + channel if channel.startswith("U") else channel
        self.history.setdefault(dm, []).append(message)
        self.received[channel] += 1
        self.last_delivery = now
        if fault < self.p500:
            self.counts["500 after posting"] += 1
            return 500, {"ok": False, "error": "internal_error"}, 0
        return 200, {"ok": True, "channel": dm, "ts": message["ts"], "message": message}, 0

    def _history(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], int]:
        oldest = float(params.get("oldest") or 0)
        messages = [m for m in reversed(self.history.get(str(params["channel"]), []))
                    if float(m["ts"]) >= oldest]
        return 200, {"ok": True, "messages": messages, "has_more": False,
                     "response_metadata": {"next_cursor": ""}}, 0

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                params: dict[str, Any] = dict(parse_qsl(parts.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params.update(json.loads(raw) if raw else {})
                elif raw:
                    params.update(parse_qsl(raw, keep_blank_values=True))
                if isinstance(params.get("blocks"), str):
                    params["blocks"] = json.loads(params["blocks"])
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    status, body, retry = 200, {"ok": False, "error": "invalid_auth"}, 0
                else:
                    status, body, retry = api.answer(parts.path.removeprefix("/api/"), params)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                if retry:
                    self.send_header("Retry-After", str(retry))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


# -- the near side: the bot's sender, in its own process -------------------------------------------


def run_sender(api_url: str) -> int:
    """A bot process: the real scheduler and Slack client until nothing is left to send."""
    from sqlalchemy import func, select

    from bot.config import SlackEnv, load_settings
    from bot.core import build_core
    from bot.platforms.slack.directory import reminder_ports
    from bot.reminders.definitions import load_reminders
    from bot.reminders.models import PENDING, SENDING, ReminderDelivery
    from bot.reminders.scheduler import ReminderScheduler

    settings = load_settings()
    core = build_core(settings)
    # What the runner wires: no retries inside the client, Retry-After is the sender's business.
    slack = SlackEnv(bot_token=TOKEN, app_token=None, signing_secret="benchmark",
                     api_url=api_url)
    messenger, directory = reminder_ports(
        slack, timeout_s=int(settings.file.reminders.post_timeout_s))
    scheduler = ReminderScheduler(core, load_reminders(settings.file.reminders.path),
                                  {"slack": messenger},
                                  directories={"slack": directory}, lookups={"slack": directory})
    scheduler.start()
    try:
        while True:
            time.sleep(0.1)
            with core.database.transaction() as session:
                left = session.execute(select(func.count()).select_from(ReminderDelivery).where(
                    ReminderDelivery.state.in_((PENDING, SENDING)))).scalar_one()
            if left == 0:
                return 0
    finally:
        scheduler.stop()


# -- the run -------------------------------------------------------------------------------------


def _write_setup(directory: Path, args: argparse.Namespace) -> dict[str, str]:
    from bot.keys import generate_key

    (directory / "reminders.yaml").write_text(
        "reminders:\n"
        f"  - id: {REMINDER_ID}\n"
        "    title: {ja: 行為規制研修の受講のお願い, en: Conduct-rule training}\n"
        "    message: {ja: 行為規制に関する定期研修の時期になりました。, en: Training time.}\n"
        "    schedule: {cron: \"0 10 1 2,8 *\"}\n"
        "    audience: {all_members: slack}\n"
        "    acknowledge: {ja: 受講しました, en: I have taken the training}\n",
        encoding="utf-8")
    (directory / "config.yaml").write_text(
        f"data_dir: {directory}\n"
        "reminders:\n"
        "  path: reminders.yaml\n"
        f"  rate_per_second: {args.rate}\n"
        f"  burst: {int(args.rate)}\n"
        f"  workers: {args.workers}\n"
        "  send_interval_s: 0.25\n"
        "  plan_interval_s: 3600\n"
        f"  lease_ttl_s: {args.lease_ttl}\n"
        "  post_timeout_s: 1\n"
        "  max_attempts: 10\n",
        encoding="utf-8")
    url = args.database_url or f"sqlite:///{directory / 'fanout.sqlite3'}"
    return {**os.environ, "COMPLIANCE_BOT_CONFIG": str(directory / "config.yaml"),
            "COMPLIANCE_BOT_SECRET_KEY": generate_key(), "DATABASE_URL": url,
            "PYTHONPATH": str(REPO_ROOT)}


def _queue(env: dict[str, str], api_url: str) -> tuple[str, int, float]:
    """`reminders send fanout --now`, in process: users.list through the Slack directory."""
    from slack_sdk import WebClient

    from bot import migrate
    from bot.audit import AuditTrail
    from bot.config import load_settings
    from bot.db import Database
    from bot.keys import load_keyring
    from bot.platforms.slack.directory import SlackDirectory
    from bot.reminders.definitions import load_reminders
    from bot.reminders.planner import Planner

    settings = load_settings(env)
    database = Database(settings.effective_database_url())
    migrate.upgrade(database)
    client = WebClient(token=TOKEN, base_url=api_url)
    client.retry_handlers = []
    [reminder] = load_reminders(settings.file.reminders.path)
    planner = Planner(database, AuditTrail(load_keyring(settings)), [reminder],
                      {"slack": SlackDirectory(client)}, directory_refresh_s=3600)
    started = time.monotonic()
    key, queued = planner.plan_now(reminder, datetime.now(UTC), actor="cli")
    database.dispose()
    return key, queued, time.monotonic() - started


def _states(env: dict[str, str]) -> dict[str, int]:
    from sqlalchemy import func, select

    from bot.db import Database
    from bot.reminders.models import ReminderDelivery

    database = Database(env["DATABASE_URL"])
    try:
        with database.transaction() as session:
            return dict(session.execute(select(ReminderDelivery.state, func.count())
                                        .group_by(ReminderDelivery.state)).all())
    finally:
        database.dispose()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    users = [f"U{n:08d}" for n in range(args.recipients)]
    api = FakeSlack(users, rate=args.rate, p429=args.p429, p500=args.p500,
                    seed=args.seed).start()
    with tempfile.TemporaryDirectory(prefix="reminder-fanout-") as tmp:
        directory = Path(tmp)
        env = _write_setup(directory, args)
        _, queued, plan_seconds = _queue(env, api.url)
        command = [sys.executable, str(Path(__file__).resolve()), "--sender", api.url]
        with open(directory / "sender1.log", "w", encoding="utf-8") as log1, \
                open(directory / "sender2.log", "w", encoding="utf-8") as log2:
            first = subprocess.Popen(command, env=env, stdout=log1, stderr=subprocess.STDOUT)
            kill_at = int(args.recipients * args.kill_at)
            while api.delivered() < kill_at and first.poll() is None:
                time.sleep(0.01)
            if first.poll() is None:
                os.kill(first.pid, signal.SIGKILL)  # no cleanup, no lease release, posts in flight
            first.wait()
            killed_at = api.delivered()
            killed = time.monotonic()
            second = subprocess.Popen(command, env=env, stdout=log2, stderr=subprocess.STDOUT)
            while api.delivered() == killed_at and second.poll() is None:
                time.sleep(0.01)
            resumed_after = time.monotonic() - killed
            try:
                code = second.wait(timeout=args.timeout)
            except subprocess.TimeoutExpired:
                second.kill()
                code = -1
        states = _states(env)
        if code != 0:
            sys.stderr.write((directory / "sender2.log").read_text(encoding="utf-8")[-4000:])
    api.stop()
    if args.timeline:
        _timeline(api, killed, sys.stderr)
    counts = api.received
    delivered = sum(1 for user in users if counts[user] > 0)
    seconds = (api.last_delivery or 0) - (api.first_post or 0)
    return {
        "recipients": args.recipients,
        "delivered": delivered,
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "lost": args.recipients - delivered,
        "seconds": round(seconds, 2),
        "allowed_rate_fraction": round(delivered / seconds / args.rate, 3) if seconds else 0.0,
        "allowed_rate": args.rate,
        "queued": queued,
        "plan_seconds": round(plan_seconds, 2),
        "killed_after_delivered": killed_at,
        "resumed_after_seconds": round(resumed_after, 2),
        "http_429_over_limit": api.counts["429 over the limit"],
        "http_429_injected": api.counts["429 injected"],
        "http_500_not_posted": api.counts["500 not posted"],
        "http_500_after_posting": api.counts["500 after posting"],
        "post_calls": api.counts["chat.postMessage"],
        "history_lookups": api.counts["conversations.history"],
        "rows": states,
        "sender_exit": code,
        "database": "postgresql" if args.database_url else "sqlite",
    }


def _timeline(api: FakeSlack, killed: float, out: Any) -> None:
    """Posts a second as the fake API saw them: where the pauses and the restart went."""
    start = api.events[0][0]
    seconds: dict[int, Counter[int]] = {}
    for when, status in api.events:
        seconds.setdefault(int(when - start), Counter())[status] += 1
    for second in range(max(seconds) + 1):
        row = seconds.get(second, Counter())
        mark = "  <- killed" if int(killed - start) == second else ""
        out.write(f"{second:4d}s {row[200]:5d} ok {row[429]:3d} 429 {row[500]:3d} 500{mark}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0,
                        help="chat.postMessage calls a second the fake API allows")
    parser.add_argument("--p429", type=float, default=0.001,
                        help="share of calls answered 429 even under the limit")
    parser.add_argument("--p500", type=float, default=0.01,
                        help="share of calls answered 500 (half after posting)")
    parser.add_argument("--kill-at", type=float, default=0.5,
                        help="kill the sender once this share has been delivered")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--lease-ttl", type=float, default=2.0)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--timeline", action="store_true",
                        help="posts per second on stderr, to see where time went")
    parser.add_argument("--sender", metavar="API_URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sender:
        return run_sender(args.sender)
    result = measure(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    ok = result["duplicates"] == 0 and result["lost"] == 0
    return 0 if ok and result["allowed_rate_fraction"] >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
