"""What the chat-path benchmarks share: the loopback Slack Web API with a name for each
response_url, the bot as IT runs it (`compliance-bot run`, HTTP mode), a temporary PostgreSQL,
signed requests as Slack sends them, and an open-loop generator.

Not a benchmark itself: tests/benchmarks/chat_path.py and tests/benchmarks/ack_burst.py use it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.pg import temporary_postgres  # noqa: E402
from tests.slack import sign  # noqa: E402
from tests.slack_api import BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlackAPI  # noqa: E402

SECRET = "benchmark-signing-secret"


# -- the far side: Slack's Web API, with each response_url told apart --------------------------


class BenchSlackAPI(FakeSlackAPI):
    """tests.slack_api's loopback, recording which response_url a post went to (params
    `_path`), with a listen backlog for hundreds of connections a second."""

    def __init__(self) -> None:
        self._local = threading.local()
        super().__init__()
        self._server.socket.listen(1024)  # the default 5 drops SYNs at these rates

    def _handler_class(self) -> type[Any]:
        base = super()._handler_class()
        api = self

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                api._local.path = self.path
                super().do_POST()

            do_GET = do_POST

        return Handler

    def _answer(self, method: str, params: dict[str, Any], token: str | None
                ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "response_url":
            params = {**params, "_path": getattr(self._local, "path", "")}
        return super()._answer(method, params, token)

    def response_url(self, name: str = "r1") -> str:
        return self.root_url + f"/response/{name}"

    def count(self) -> int:
        with self._lock:
            return len(self.calls)

    def snapshot(self) -> list[Any]:
        with self._lock:
            return list(self.calls)

    def settle(self, quiet: float = 1.0, limit: float = 30.0) -> None:
        """Wait until no call has arrived for `quiet` seconds: a backlog left by one phase
        must not be counted in the next."""
        deadline = time.monotonic() + limit
        last, since = self.count(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.count()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return


def response_name(call: Any) -> str:
    return str(call.params.get("_path", "")).rsplit("/", 1)[-1]


# -- the near side: the bot, as IT runs it -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def generate_key() -> str:
    from bot.keys import generate_key as make

    return make()


def bot_env(workdir: Path, api: BenchSlackAPI, database_url: str, secret_key: str,
            extra_config: str = "") -> dict[str, str]:
    """The environment of `compliance-bot` commands: this checkout's code, Slack in HTTP mode
    against the loopback, the database given, warnings only in the log."""
    config = workdir / "config.yaml"
    config.write_text(f"data_dir: {workdir / 'var'}\nlogging:\n  level: WARNING\n"
                      + extra_config, encoding="utf-8")
    env = {**os.environ, "COMPLIANCE_BOT_CONFIG": str(config),
           "COMPLIANCE_BOT_SECRET_KEY": secret_key, "SLACK_BOT_TOKEN": BOT_TOKEN,
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api.url,
           "DATABASE_URL": database_url, "PYTHONPATH": str(REPO)}
    env.pop("SLACK_APP_TOKEN", None)  # Socket Mode would take precedence over HTTP
    return env


def cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`compliance-bot ARGS` from this checkout (the installed script may point elsewhere)."""
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def db_upgrade(env: dict[str, str]) -> None:
    done = cli(env, "db", "upgrade")
    if done.returncode != 0:
        raise SystemExit(f"compliance-bot db upgrade failed:\n{done.stderr[-3000:]}")


@dataclass
class Process:
    """A server process (the bot or the bare Bolt app), its port and its stderr log."""

    popen: subprocess.Popen[str]
    port: int
    log: Path

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start_process(command: list[str], env: dict[str, str], port: int, log: Path,
                  timeout: float = 120) -> Process:
    """Start a server in this checkout and wait until GET /healthz answers 200."""
    handle = open(log, "w", encoding="utf-8")  # noqa: SIM115 - the child keeps writing to it
    popen = subprocess.Popen(command, env={**env, "PORT": str(port)}, cwd=REPO,
                             stdout=handle, stderr=subprocess.STDOUT, text=True)
    handle.close()
    process = Process(popen, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise SystemExit(f"{command} exited ({popen.returncode}):\n{process.tail()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.stop()
    raise SystemExit(f"{command} did not answer /healthz within {timeout:.0f}s:\n"
                     f"{process.tail()}")


def start_bot(env: dict[str, str], workdir: Path, name: str = "bot") -> Process:
    return start_process([sys.executable, "-m", "bot.cli", "run"], env, free_port(),
                         workdir / f"{name}.log")


def log_problems(process: Process) -> dict[str, int]:
    """The process's warnings and errors, counted by message with digits masked: what went
    wrong under load, without the log's volume (the ten most frequent)."""
    counts: dict[str, int] = {}
    for line in process.tail(50_000_000).splitlines():
        found = LOG_LINE.match(line)
        if found:
            message = f"{found[1]} {found[2]}: {found[3]}"
        elif line.startswith("Traceback") or line.startswith("Exception"):
            message = line
        else:
            continue
        key = re.sub(r"\d+", "#", message)[:160]
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1])[:10])


LOG_LINE = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) (\S+): (.*)$")


# -- PostgreSQL: a temporary pgserver instance, as tests/conftest.py starts one ------------------


@contextmanager
def postgres(url: str | None = None) -> Iterator[str]:
    """`url` when given (an existing server); else a pgserver instance in a temporary
    directory, removed afterwards."""
    with temporary_postgres(url, prefix="compliance-bot-bench-pg-") as uri:
        yield uri


# -- Slack's side of HTTP mode: signed requests ----------------------------------------------------


@dataclass
class Sent:
    """One request: when it was due (open loop), when it went out, what the bot answered."""

    key: str
    due: float
    sent: float = 0.0
    status: int = 0  # 0: no answer (connection refused, reset, timeout)


def post_signed(port: int, body: bytes, content_type: str, sent: Sent,
                timeout: float = 30) -> None:
    stamp = str(int(time.time()))
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
               "X-Slack-Signature": sign(body, stamp, SECRET)}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent.sent = time.monotonic()
        connection.request("POST", "/slack/events", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        sent.status = response.status
    except OSError:
        sent.status = 0
    finally:
        connection.close()


def event_body(event: dict[str, Any], event_id: str) -> bytes:
    return json.dumps({
        "token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": "A0TEST001",
        "event": event, "type": "event_callback", "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }).encode()


def mention_body(text: str, *, user: str, channel: str, ts: str, event_id: str) -> bytes:
    return event_body({"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}",
                       "ts": ts, "channel": channel, "event_ts": ts}, event_id)


def dm_body(text: str, *, user: str, channel: str, ts: str, event_id: str) -> bytes:
    return event_body({"type": "message", "channel_type": "im", "user": user, "text": text,
                       "ts": ts, "channel": channel, "event_ts": ts}, event_id)


def press_body(action_id: str, value: str, *, user: str, channel: str, message_ts: str,
               response_url: str) -> bytes:
    """A block_actions interaction, as tests.slack.SlackSender.press shapes it."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0TEST001", "team": {"id": TEAM_ID, "domain": "test"},
        "trigger_id": "12466734323.1395872398.7dbc7db2d1e0",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1",
                     "value": value, "action_ts": str(time.time())}],
        "channel": {"id": channel, "name": "directmessage"},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "message": {"type": "message", "ts": message_ts, "text": "..."},
        "response_url": response_url,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def run_id() -> str:
    """Upper-case letters and digits: unique event ids and user ids for one run, so a
    database kept between runs never sees a request twice."""
    return uuid.uuid4().hex[:6].upper()


# -- the open-loop generator ---------------------------------------------------------------------


def open_loop(rate: float, count: int, fire: Callable[[int, Sent], None],
              key: Callable[[int], str], workers: int = 256) -> list[Sent]:
    """Request i is due at start + i/rate whatever became of the ones before (open loop);
    `fire(i, sent)` sends it and fills `sent`. A generator that cannot keep up shows as
    `lag` (sent - due) in the results, not as a lower rate."""
    sent = [Sent(key(i), 0.0) for i in range(count)]
    start = time.monotonic() + 0.05
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for index in range(count):
            due = start + index / rate
            sent[index].due = due
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(fire, index, sent[index])
    return sent


def pct(values: list[float], p: float) -> float | None:
    """Nearest rank on sorted values, in ms with two decimals; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)


@dataclass
class Outcome:
    """Requests matched with the Web API calls they caused (by a key each call carries)."""

    sent: list[Sent]
    latency_ms: dict[str, float] = field(default_factory=dict)  # key -> its first answer's
    answered: int = 0
    duplicates: int = 0
    replies: dict[str, str] = field(default_factory=dict)  # key -> first reply's text
    seconds: float | None = None  # first request due -> last answer waited for

    @property
    def latencies_ms(self) -> list[float]:
        return list(self.latency_ms.values())

    @property
    def lost(self) -> int:
        return len(self.sent) - self.answered

    def summary(self) -> dict[str, Any]:
        lags = [(s.sent - s.due) * 1000 for s in self.sent if s.sent]
        statuses: dict[str, int] = {}
        for s in self.sent:
            if s.status != 200:
                statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
        out: dict[str, Any] = {
            "sent": len(self.sent), "answered": self.answered, "lost": self.lost,
            "duplicates": self.duplicates, "non_200": sum(statuses.values()),
            "p50_ms": pct(self.latencies_ms, 0.50), "p99_ms": pct(self.latencies_ms, 0.99),
            "max_ms": pct(self.latencies_ms, 1.0),
            "generator_lag_p99_ms": pct(lags, 0.99),
        }
        if statuses:
            out["statuses"] = statuses
        if self.seconds is not None:
            out["seconds"] = round(self.seconds, 2)
        return out


def match(sent: list[Sent], calls: list[Any], key_of: Callable[[Any], str | None]) -> Outcome:
    """The first call carrying a request's key answers it; later ones are duplicates.
    Latency: the signed request written to the socket -> the call seen at the loopback."""
    by_key = {s.key: s for s in sent}
    outcome = Outcome(sent)
    seen: set[str] = set()
    for call in calls:
        key = key_of(call)
        if key is None or key not in by_key:
            continue
        if key in seen:
            outcome.duplicates += 1
            continue
        seen.add(key)
        outcome.answered += 1
        outcome.replies[key] = str(call.params.get("text") or "")
        request = by_key[key]
        if request.sent:
            outcome.latency_ms[key] = (call.at - request.sent) * 1000
    return outcome


def wait_answers(api: BenchSlackAPI, keys: set[str], key_of: Callable[[Any], str | None],
                 timeout: float) -> None:
    """Until every key has had a call, or `timeout` seconds pass with no new one."""
    found: set[str] = set()
    offset = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls = api.snapshot()
        before = len(found)
        for call in calls[offset:]:
            key = key_of(call)
            if key in keys:
                found.add(key)
        offset = len(calls)
        if len(found) == len(keys):
            return
        if len(found) != before:
            deadline = time.monotonic() + timeout
        time.sleep(0.05)
