"""Scale-out as documented: two `compliance-bot run` processes on one PostgreSQL, HTTP mode,
no balancer; requests alternate between them and Slack's redeliveries hit the other one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from bot.audit import verify
from bot.core import build_core
from bot.escalations.models import Escalation
from bot.escalations.views import CLAIM, RESOLVE
from bot.models import AuditEvent
from tests.bot.test_run import free_port, wait_healthy
from tests.slack import SlackSender
from tests.slack_api import BOT_TOKEN

SECRET = "scale-out-signing-secret"
CONFIG = """
desk:
  members: ["slack:U0DESK001"]
  default_channel: slack:C0DESK001
reminders:
  path: reminders.yaml
  plan_interval_s: 0.3
  send_interval_s: 0.3
"""
REMINDERS = """\
reminders:
  - id: log-review
    message: {ja: アクセスログを確認してください, en: Please review the access logs}
    schedule: {cron: "0 10 1 4,10 *"}
    audience: {users: ["slack:U0SCALE01", "slack:U0SCALE02", "slack:U0SCALE03"]}
    acknowledge: {ja: 確認しました, en: Reviewed}
"""
RECIPIENTS = {"U0SCALE01", "U0SCALE02", "U0SCALE03"}


def _buttons(call) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {e["action_id"].split("|")[0]: e for b in call.params["blocks"]
            if b["type"] == "actions" for e in b["elements"]}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_processes_answer_remind_and_escalate_once(database, make_settings, tmp_path,
                                                       slack_api, secret_key):
    settings = make_settings(CONFIG, DATABASE_URL=database.url)
    (tmp_path / "reminders.yaml").write_text(REMINDERS, encoding="utf-8")
    base_env = {
        **__import__("os").environ,
        "COMPLIANCE_BOT_CONFIG": str(tmp_path / "config.yaml"),
        "COMPLIANCE_BOT_SECRET_KEY": secret_key, "DATABASE_URL": database.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_api.url,
    }
    ports = [free_port(), free_port()]
    processes = [subprocess.Popen([sys.executable, "-m", "bot.cli", "run"],
                                  env={**base_env, "PORT": str(port)},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for port in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_healthy(port, process)
        a, b = (SlackSender(slack_api, port, SECRET) for port in ports)

        # 1. Questions alternate between the instances; each is redelivered to the other one.
        for i in range(20):
            first, second = (a, b) if i % 2 == 0 else (b, a)
            ts = f"1700000100.{i:06d}"
            assert first.mention("パスワードを他人に教えてもいい？", event_id=f"EvSCALE{i:04d}",
                                 ts=ts)[0] == 200
            assert second.mention("パスワードを他人に教えてもいい？", event_id=f"EvSCALE{i:04d}",
                                  ts=ts, retry=1)[0] == 200
        answers = slack_api.wait_for("chat.postMessage", 20, timeout=30)
        time.sleep(1.5)
        answers = [c for c in slack_api.of("chat.postMessage")
                   if c.params.get("channel") == "C0GENERAL"]
        assert sorted(c.params["thread_ts"] for c in answers) == \
            [f"1700000100.{i:06d}" for i in range(20)]

        # 2. A reminder queued once: both instances sweep, each recipient gets it once.
        slack_api.clear()
        queued = subprocess.run([sys.executable, "-m", "bot.cli", "reminders", "send",
                                 "log-review", "--now"], env={**base_env, "PORT": "0"},
                                capture_output=True, text=True, timeout=60)
        assert queued.returncode == 0, queued.stderr
        slack_api.wait_for("chat.postMessage", 3, timeout=30)
        time.sleep(2)
        dms = Counter(c.params["channel"] for c in slack_api.of("chat.postMessage"))
        assert dms == dict.fromkeys(RECIPIENTS, 1)

        # 3. An escalation opened on one instance, submitted, claimed and resolved across both.
        slack_api.clear()
        a.command("desk 社員食堂のメニューを変えてほしい", user="U0EMPLOYEE")
        [opened] = slack_api.wait_for("views.open")
        status, _ = b.submit(opened.params["view"], {
            "question": "社員食堂のメニューを変えてほしい", "context": "", "urgency": "normal"},
            user="U0EMPLOYEE")
        assert status == 200
        card = next(c for c in slack_api.wait_for("chat.postMessage")
                    if c.params["channel"] == "C0DESK001")
        core = build_core(settings)
        try:
            with core.database.transaction() as session:
                [escalation] = session.execute(sa.select(Escalation)).scalars().all()
            buttons = _buttons(card)
            for sender in (a, b):  # the same press reaching both instances: claimed once
                sender.press(buttons[CLAIM]["action_id"], buttons[CLAIM]["value"],
                             user="U0DESK001", channel="C0DESK001",
                             message_ts=escalation.triage_message)
            slack_api.wait_for("chat.update", 1)
            b.press(buttons[RESOLVE]["action_id"], buttons[RESOLVE]["value"], user="U0DESK001",
                    channel="C0DESK001", message_ts=escalation.triage_message)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                with core.database.transaction() as session:
                    state = session.get(Escalation, escalation.id)
                    if state.status == "resolved":
                        break
                time.sleep(0.1)
            assert state.status == "resolved"
            with core.database.transaction() as session:
                actions = Counter(e.action for e in session.execute(
                    sa.select(AuditEvent).where(
                        AuditEvent.subject == f"escalation:{escalation.id}")).scalars())
                assert verify(session, core.keyring).ok
            assert actions["escalation.created"] == 1
            assert actions["escalation.claimed"] == 1
            assert actions["escalation.resolved"] == 1
            time.sleep(0.5)
            final = slack_api.of("chat.update")[-1]
            assert "解決済み" in json.dumps(final.params, ensure_ascii=False)
        finally:
            core.database.dispose()
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            assert process.wait(timeout=30) == 0
