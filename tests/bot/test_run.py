"""`compliance-bot run` as IT starts it: a real process, Slack in HTTP mode, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.slack import sign
from tests.slack_api import BOT_TOKEN


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"bot exited: {process.stderr.read() if process.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("bot did not become healthy")


@pytest.fixture
def bot_env(database, make_settings, tmp_path, slack_api, secret_key):
    make_settings()  # writes the config file
    return {
        **os.environ,
        "COMPLIANCE_BOT_CONFIG": str(tmp_path / "config.yaml"),
        "COMPLIANCE_BOT_SECRET_KEY": secret_key,
        "DATABASE_URL": database.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "SLACK_API_URL": slack_api.url,
        "PORT": str(free_port()),
    }


def test_run_serves_slack_in_http_mode_and_stops_cleanly(bot_env, slack_api):
    port = int(bot_env["PORT"])
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=bot_env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy(port, process)
        body = (b'{"type":"event_callback","event_id":"Ev0RUN0001","team_id":"T0TEST001",'
                b'"event":{"type":"app_mention","user":"U0EMPLOYEE","channel":"C0GENERAL",'
                b'"ts":"1700000000.000100","text":"<@UBOT0001> password"}}')
        stamp = str(int(time.time()))
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/slack/events", data=body, method="POST", headers={
                "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": sign(body, stamp, "test-signing-secret")})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        [call] = slack_api.wait_for("chat.postMessage")
        assert call.params["thread_ts"] == "1700000000.000100"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_run_refuses_a_token_slack_rejects(bot_env):
    bot_env["SLACK_BOT_TOKEN"] = "xoxb-revoked"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=bot_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "compliance-bot: error: SLACK_BOT_TOKEN: Slack refused the token (200 invalid_auth)")


def test_run_refuses_http_mode_without_signing_secret(bot_env):
    del bot_env["SLACK_SIGNING_SECRET"]
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=bot_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


REMINDER = """\
reminders:
  - id: log-review
    message: {ja: アクセスログを確認してください, en: Please review the access logs}
    schedule: {cron: "0 10 1 4,10 *"}
    audience: {users: ["slack:U0REMIND1"]}
    acknowledge: {ja: 確認しました, en: Reviewed}
"""


def test_run_starts_the_reminder_sweeps_and_delivers(bot_env, slack_api, tmp_path):
    (tmp_path / "reminders.yaml").write_text(REMINDER, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "reminders:\n"
                      "  path: reminders.yaml\n  plan_interval_s: 0.5\n"
                      "  send_interval_s: 0.5\n", encoding="utf-8")
    port = int(bot_env["PORT"])
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=bot_env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy(port, process)
        queued = subprocess.run([sys.executable, "-m", "bot.cli", "reminders", "send",
                                 "log-review", "--now"], env=bot_env, capture_output=True,
                                text=True, timeout=60)
        assert queued.returncode == 0, queued.stderr
        [dm] = slack_api.wait_for("chat.postMessage", timeout=30)
        assert dm.params["channel"] == "U0REMIND1"
        assert "アクセスログを確認してください" in dm.params["text"] + dm.blocks_text()
        time.sleep(2)  # more sweeps pass: still exactly one delivery
        assert len(slack_api.of("chat.postMessage")) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
