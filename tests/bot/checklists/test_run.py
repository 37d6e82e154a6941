"""`compliance-bot run` serves the webhook and its sweeps deliver what it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

from bot.keys import generate_key
from tests.bot.checklists.conftest import REPO, checklist_config, platform_desk
from tests.bot.test_run import free_port, wait_healthy
from tests.slack_api import BOT_TOKEN


def _post(port: int, body: dict, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/checklists", data=json.dumps(body).encode(),
        method="POST", headers={"Content-Type": "application/json",
                                "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_run_serves_the_webhook_and_sends_what_it_started(
        database, make_settings, slack_api, secret_key):
    config = checklist_config(desk=platform_desk("slack", "U0DESK01", "C0DESK001"),
                              plan_interval_s=0.5, send_interval_s=0.5)
    settings = make_settings(config)
    token = generate_key()
    port = free_port()
    env = {**os.environ, "COMPLIANCE_BOT_CONFIG": str(settings.config_path),
           "COMPLIANCE_BOT_SECRET_KEY": secret_key, "DATABASE_URL": database.url,
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "test-signing-secret",
           "SLACK_API_URL": slack_api.url, "PORT": str(port),
           "CHECKLISTS_WEBHOOK_TOKEN": token}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy(port, process)
        body = {"checklist": "disaster-support-end", "request_id": "DS-2027-001",
                "people": [{"person": "slack:U0SUPPORT1", "confirmer": "slack:U0INFO01"}]}
        assert _post(port, body, "wrong-" + token)[0] == 401
        status, started = _post(port, body, token)
        assert status == 201 and started["started"] is True
        assert _post(port, body, token) == (200, {**started, "started": False})
        [dm] = slack_api.wait_for("chat.postMessage", timeout=30)
        assert dm.params["channel"] == "U0SUPPORT1"
        assert "非常災害応援の終了時チェックリスト" in dm.blocks_text()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
