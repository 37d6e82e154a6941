"""Benchmark: a burst of reminder acknowledgements at two bot instances sharing PostgreSQL.

Two `compliance-bot run` processes (HTTP mode, different ports, one PostgreSQL database: a
temporary pgserver instance unless --database-url or DATABASE_URL names a server) and a loopback
Slack Web API (tests.slack_api, in this process, answering every call at whatever rate it comes).
A reminder with `delivery: dm` and a `users:` audience of --people is queued with
`compliance-bot reminders send ID --now`; the bots deliver it (the lease holder sends, at
`reminders.rate_per_second` = --send-rate), and each DM's acknowledge button is read off the
recorded chat.postMessage calls. Then every person presses their button once, the presses
spread evenly over --seconds (open loop) and alternating between the instances, each signed as
Slack signs it.

Printed: `acks_recorded` (rows in reminder_acks for the occurrence), `presses`, `duplicates`
(ack rows beyond one per person, audit events beyond one per person, replies beyond one per
press), `replies` by kind (recorded, already, apology, ...), p50/p99 press-to-ack (request
written -> the ephemeral reply at its response_url), `acks_all_seconds` (last press sent ->
reminder_acks holds all of them, polled every 0.1 s) and `status_all_seconds` (last press sent
-> `compliance-bot reminders status ID --format json` first shows all acknowledged; its
resolution is one run of that command, `status_command_seconds`), plus the delivery.

Usage, from the repository root:

    python tests/benchmarks/ack_burst.py --json
    python tests/benchmarks/ack_burst.py --json --people 200 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.benchmarks.chat_load import (  # noqa: E402
    BenchSlackAPI,
    Process,
    Sent,
    bot_env,
    cli,
    db_upgrade,
    generate_key,
    log_problems,
    match,
    open_loop,
    pct,
    post_signed,
    postgres,
    press_body,
    response_name,
    run_id,
    start_bot,
    wait_answers,
)

FORM = "application/x-www-form-urlencoded"
ACK = "reminder.ack"


def _write_definitions(path: Path, reminder_id: str, users: list[str]) -> None:
    audience = json.dumps([f"slack:{user}" for user in users])
    path.write_text(
        "reminders:\n"
        f"  - id: {reminder_id}\n"
        "    title: {ja: 行為規制研修の受講のお願い, en: Conduct-rule training}\n"
        "    message: {ja: 行為規制に関する定期研修の時期になりました。, en: Training time.}\n"
        "    schedule: {cron: \"0 10 1 2,8 *\"}\n"
        f"    audience: {{users: {audience}}}\n"
        "    delivery: dm\n"
        "    acknowledge: {ja: 受講しました, en: I have taken the training}\n",
        encoding="utf-8")


def _config(args: argparse.Namespace) -> str:
    return ("reminders:\n"
            "  path: reminders.yaml\n"
            f"  rate_per_second: {args.send_rate}\n"
            f"  burst: {int(args.send_rate)}\n"
            f"  workers: {args.workers}\n"
            "  send_interval_s: 0.25\n"
            "  plan_interval_s: 3600\n"
            "  post_timeout_s: 10\n")


def _buttons(api: BenchSlackAPI, users: set[str], timeout: float
             ) -> tuple[dict[str, tuple[str, str]], float, float]:
    """Each person's acknowledge button (action_id, value) as delivered, and when the first
    and the last DM reached the Web API; waits until all arrived or nothing new for
    `timeout` seconds."""
    found: dict[str, tuple[str, str]] = {}
    first = last = 0.0
    offset = 0
    deadline = time.monotonic() + timeout
    while len(found) < len(users) and time.monotonic() < deadline:
        calls = api.snapshot()
        for call in calls[offset:]:
            channel = str(call.params.get("channel"))
            if call.method != "chat.postMessage" or channel not in users:
                continue
            for block in call.params.get("blocks") or []:
                for element in block.get("elements") or []:
                    action = str(element.get("action_id", ""))
                    if action.split("|")[0] == ACK and channel not in found:
                        found[channel] = (action, str(element.get("value")))
                        first = first or call.at
                        last = call.at
                        deadline = time.monotonic() + timeout
        offset = len(calls)
        time.sleep(0.2)
    return found, first, last


def _reply_kinds() -> list[tuple[str, re.Pattern[str]]]:
    """The flow's replies to a press, as patterns over both languages' templates."""
    from bot.i18n import t
    from handlers.reminders.strings import STRINGS

    kinds = [(name, STRINGS[f"reminders.ack_{name}"]) for name in
             ("recorded", "already", "not_yours", "unknown")]
    kinds.append(("apology", {lang: t("platform.apology", lang) for lang in ("ja", "en")}))
    patterns = []
    for name, texts in kinds:
        for text in texts.values():
            pattern = re.sub(r"\\\{[a-z_]+\\\}", ".*", re.escape(text))
            patterns.append((name, re.compile(pattern, re.S)))
    return patterns


def _classify(replies: dict[str, str]) -> dict[str, int]:
    patterns = _reply_kinds()
    counts: dict[str, int] = {}
    for text in replies.values():
        kind = next((name for name, pattern in patterns if pattern.match(text)), "other")
        counts[kind] = counts.get(kind, 0) + 1
    return counts


class Acks:
    """The acknowledgement rows of one reminder, read straight from the database."""

    def __init__(self, url: str, reminder_id: str) -> None:
        from bot.db import Database

        self.database = Database(url)
        self.reminder_id = reminder_id

    def count(self) -> int:
        from sqlalchemy import func, select

        from bot.reminders.models import ReminderAck

        with self.database.transaction() as session:
            return int(session.execute(select(func.count()).select_from(ReminderAck).where(
                ReminderAck.reminder_id == self.reminder_id)).scalar_one())

    def totals(self) -> dict[str, int]:
        from sqlalchemy import distinct, func, select

        from bot.models import AuditEvent
        from bot.reminders.models import ReminderAck, ReminderDelivery

        with self.database.transaction() as session:
            rows, people = session.execute(
                select(func.count(), func.count(distinct(ReminderAck.recipient)))
                .where(ReminderAck.reminder_id == self.reminder_id)).one()
            audited = session.execute(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "reminder.acknowledged",
                AuditEvent.subject.like(f"reminder:{self.reminder_id}:%"))).scalar_one()
            closed = session.execute(select(func.count()).select_from(ReminderDelivery).where(
                ReminderDelivery.reminder_id == self.reminder_id,
                ReminderDelivery.acknowledged_at.is_not(None))).scalar_one()
        return {"rows": int(rows), "people": int(people), "audit_events": int(audited),
                "deliveries_closed": int(closed)}

    def close(self) -> None:
        self.database.dispose()


def _status(env: dict[str, str], reminder_id: str) -> int:
    done = cli(env, "reminders", "status", reminder_id, "--format", "json", timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"reminders status failed:\n{done.stderr[-2000:]}")
    return sum(int(json.loads(line)["acknowledged"]) for line in done.stdout.splitlines()
               if line.strip())


def measure(args: argparse.Namespace) -> dict[str, Any]:
    began = time.monotonic()
    load = os.getloadavg()
    rid = run_id()
    reminder_id = f"ack-burst-{rid.lower()}"
    users = [f"U0A{rid}{n:06d}" for n in range(args.people)]
    result: dict[str, Any] = {"people": args.people, "instances": args.instances}
    given = args.database_url or (os.environ.get("DATABASE_URL", "")
                                  if os.environ.get("DATABASE_URL", "").startswith("postgres")
                                  else None)
    with BenchSlackAPI() as api, tempfile.TemporaryDirectory(prefix="ack-burst-") as tmp, \
            postgres(given) as url:
        workdir = Path(tmp)
        _write_definitions(workdir / "reminders.yaml", reminder_id, users)
        env = bot_env(workdir, api, url, generate_key(), _config(args))
        db_upgrade(env)
        bots: list[Process] = []
        acks = Acks(url, reminder_id)
        try:
            for n in range(args.instances):
                bots.append(start_bot(env, workdir, f"bot{n + 1}"))
            result.update(_run(args, api, env, bots, acks, reminder_id, users))
        finally:
            for bot in bots:
                bot.stop()
            acks.close()
        result["log_problems"] = {f"bot{n + 1}": log_problems(bot) for n, bot in enumerate(bots)}
    result.update({"database": "postgresql", "cpus": os.cpu_count(),
                   "load_avg": [round(x, 2) for x in load],
                   "total_seconds": round(time.monotonic() - began, 1)})
    return result


def _run(args: argparse.Namespace, api: BenchSlackAPI, env: dict[str, str],
         bots: list[Process], acks: Acks, reminder_id: str, users: list[str]
         ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # -- queue and deliver --------------------------------------------------------------------
    api.settle(quiet=0.5)
    api.clear()
    queued_at = time.monotonic()
    done = cli(env, "reminders", "send", reminder_id, "--now")
    if done.returncode != 0:
        raise SystemExit(f"reminders send failed:\n{done.stderr[-2000:]}")
    out["queue_seconds"] = round(time.monotonic() - queued_at, 2)
    buttons, first, last = _buttons(api, set(users), timeout=args.drain)
    out["delivered"] = len(buttons)
    out["delivery_seconds"] = round(last - first, 2) if buttons else None
    out["delivery_per_s"] = round(len(buttons) / (last - first), 1) if last > first else None
    if len(buttons) < len(users):
        raise SystemExit(f"only {len(buttons)} of {len(users)} reminders delivered:\n"
                         + "\n".join(bot.tail(2000) for bot in bots))
    api.settle(quiet=0.5)
    api.clear()

    # -- the presses --------------------------------------------------------------------------
    ports = [bot.port for bot in bots]
    rate = len(users) / args.seconds

    def fire(index: int, sent: Sent) -> None:
        user = users[index]
        action_id, value = buttons[user]
        body = press_body(action_id, value, user=user, channel="D" + user[1:],
                          message_ts=f"{1_800_000_000 + index}.000100",
                          response_url=api.response_url(sent.key))
        post_signed(ports[index % len(ports)], body, FORM, sent)

    pressed_at = time.monotonic()
    sent = open_loop(rate, len(users), fire, lambda i: f"a{i}")
    last_press = max(s.sent for s in sent)
    out["press_seconds"] = round(last_press - pressed_at, 2)
    out["press_rate"] = round(rate, 1)

    # -- until everything is recorded ---------------------------------------------------------
    all_recorded: list[float] = []

    def poll_rows() -> None:
        deadline = time.monotonic() + args.drain
        seen = -1
        while time.monotonic() < deadline:
            count = acks.count()
            if count >= len(users):
                all_recorded.append(time.monotonic() - last_press)
                return
            if count != seen:
                seen, deadline = count, time.monotonic() + args.drain
            time.sleep(0.1)

    poller = threading.Thread(target=poll_rows, daemon=True)
    poller.start()
    status_all = None
    runs: list[float] = []
    deadline = time.monotonic() + args.drain
    shown = -1
    while time.monotonic() < deadline:
        started = time.monotonic()
        acknowledged = _status(env, reminder_id)
        runs.append(time.monotonic() - started)
        if acknowledged >= len(users):
            status_all = time.monotonic() - last_press
            break
        if acknowledged != shown:
            shown, deadline = acknowledged, time.monotonic() + args.drain
    poller.join()
    out["acks_all_seconds"] = round(all_recorded[0], 2) if all_recorded else None
    out["status_all_seconds"] = round(status_all, 2) if status_all is not None else None
    out["status_command_seconds"] = round(sorted(runs)[len(runs) // 2], 2) if runs else None

    # -- what the people saw, and what the database holds ------------------------------------
    def key_of(call: Any) -> str | None:
        return response_name(call) if call.method == "response_url" else None

    wait_answers(api, {s.key for s in sent}, key_of, timeout=min(args.drain, 30))
    outcome = match(sent, api.snapshot(), key_of)
    summary = outcome.summary()
    totals = acks.totals()
    out.update({
        "presses": len(sent),
        "acks_recorded": totals["rows"],
        "duplicates": (totals["rows"] - totals["people"])
        + max(0, totals["audit_events"] - totals["people"]) + outcome.duplicates,
        "duplicate_ack_rows": totals["rows"] - totals["people"],
        "audit_ack_events": totals["audit_events"],
        "deliveries_closed": totals["deliveries_closed"],
        "duplicate_replies": outcome.duplicates,
        "replies": _classify(outcome.replies),
        "answered": outcome.answered, "lost_replies": outcome.lost,
        "non_200": summary["non_200"],
        "p50_ms": summary["p50_ms"], "p99_ms": summary["p99_ms"], "max_ms": summary["max_ms"],
        "generator_lag_p99_ms": summary["generator_lag_p99_ms"],
    })
    if "statuses" in summary:
        out["statuses"] = summary["statuses"]
    per_instance: dict[str, dict[str, Any]] = {}
    for n in range(len(bots)):
        mine = [s.key for i, s in enumerate(sent) if i % len(bots) == n]
        latencies = [outcome.latency_ms[key] for key in mine if key in outcome.latency_ms]
        per_instance[f"bot{n + 1}"] = {"presses": len(mine), "answered": len(latencies),
                                       "p50_ms": pct(latencies, 0.50),
                                       "p99_ms": pct(latencies, 0.99)}
    out["per_instance"] = per_instance
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="the presses are spread evenly over this many seconds")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--send-rate", type=float, default=500.0,
                        help="reminders.rate_per_second of the bots (the loopback takes any)")
    parser.add_argument("--workers", type=int, default=8, help="reminders.workers")
    parser.add_argument("--database-url", help="an existing PostgreSQL server "
                        "(default: DATABASE_URL if it is one, else a temporary pgserver)")
    parser.add_argument("--drain", type=float, default=60.0,
                        help="seconds without progress after which waiting stops")
    args = parser.parse_args(argv)
    result = measure(args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
