"""Benchmark: signed app_mention events over HTTP to the running bot, answers at the Web API.

The bot runs as IT runs it (`compliance-bot run`, a separate process, Slack in HTTP mode, the
bundled knowledge base, SQLite or DATABASE_URL); this process is both Slack's event sender and
a loopback Slack Web API. Events are sent open-loop at `--rate` per second for `--seconds`
(each one signed as Slack signs it, a question drawn from tests/eval/questions.yaml), and each
answer is matched to its event by thread_ts.

Prints `events_per_s` (answers seen per second of the run), `p50_ms` and `p99_ms` (event sent
to chat.postMessage received), plus `sent`, `answered`, `duplicates`, `lost`, `rate`.
Target (issue 3): p99 well under Slack's 3-second ack limit at 100 events/s on 2 cores.

Usage, from the repository root:

    python tests/benchmarks/slack_events.py --json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.slack import sign  # noqa: E402
from tests.slack_api import BOT_TOKEN, FakeSlackAPI  # noqa: E402

SECRET = "benchmark-signing-secret"


def _questions() -> list[str]:
    data = yaml.safe_load((REPO / "tests" / "eval" / "questions.yaml").read_text("utf-8"))
    items = data["questions"] if isinstance(data, dict) else data
    return [item["q"] if isinstance(item, dict) else str(item) for item in items]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_bot(api: FakeSlackAPI, workdir: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    (workdir / "config.yaml").write_text(f"data_dir: {workdir / 'var'}\nlogging:\n"
                                         "  level: WARNING\n", encoding="utf-8")
    env = {**os.environ, "COMPLIANCE_BOT_CONFIG": str(workdir / "config.yaml"),
           "COMPLIANCE_BOT_SECRET_KEY": _keygen(), "SLACK_BOT_TOKEN": BOT_TOKEN,
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api.url, "PORT": str(port)}
    if "DATABASE_URL" not in env:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, check=True,
                   capture_output=True, cwd=REPO)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bot exited: {process.stderr.read() if process.stderr else ''}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("bot did not start")


def _keygen() -> str:
    from bot.keys import generate_key

    return generate_key()


def _send(port: int, index: int, question: str) -> int:
    ts = f"1800000000.{index:06d}"
    body = json.dumps({
        "type": "event_callback", "event_id": f"EvBENCH{index:08d}", "team_id": "T0TEST001",
        "event": {"type": "app_mention", "user": "U0BENCH01", "channel": "C0GENERAL",
                  "ts": ts, "text": f"<@UBOT0001> {question}"},
    }).encode()
    stamp = str(int(time.time()))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/slack/events", body=body, headers={
            "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(body, stamp, SECRET)})
        return connection.getresponse().status
    finally:
        connection.close()


def run(rate: float, seconds: float) -> dict[str, object]:
    questions = _questions()
    total = int(rate * seconds)
    sent_at: dict[str, float] = {}
    statuses: list[int] = []
    with FakeSlackAPI() as api, tempfile.TemporaryDirectory() as tmp:
        process, port = _start_bot(api, Path(tmp))
        try:
            _send(port, 999_999, "warm-up")  # first request loads lazily imported code
            api.wait_for("chat.postMessage", 1, timeout=30)
            api.clear()
            lock = threading.Lock()

            def fire(index: int) -> None:
                ts = f"1800000000.{index:06d}"
                with lock:
                    sent_at[ts] = time.monotonic()
                statuses.append(_send(port, index, questions[index % len(questions)]))

            start = time.monotonic()
            with ThreadPoolExecutor(max_workers=32) as pool:
                for index in range(total):
                    delay = start + index / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    pool.submit(fire, index)
            deadline = time.monotonic() + 30
            while len(api.of("chat.postMessage")) < total and time.monotonic() < deadline:
                time.sleep(0.05)
            elapsed = time.monotonic() - start
        finally:
            process.terminate()
            process.wait(timeout=30)
        posts = api.of("chat.postMessage")
    latencies: list[float] = []
    seen: set[str] = set()
    duplicates = 0
    for call in posts:
        ts = str(call.params.get("thread_ts"))
        if ts in seen:
            duplicates += 1
            continue
        seen.add(ts)
        if ts in sent_at:
            latencies.append((call.at - sent_at[ts]) * 1000)
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2) \
            if latencies else float("nan")

    last = max((c.at for c in posts), default=start)
    return {
        "rate": rate, "sent": total, "answered": len(seen), "duplicates": duplicates,
        "lost": total - len(seen), "non_200": sum(1 for s in statuses if s != 200),
        "events_per_s": round(len(seen) / max(last - start, 1e-9), 1),
        "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": pct(1.0),
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(args.rate, args.seconds)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>14}: {value}")


if __name__ == "__main__":
    main()
