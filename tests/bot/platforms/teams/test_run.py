"""`compliance-bot run` with TEAMS_* set: a real process serving POST /api/messages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.bot.platforms.teams.harness import activity as teams_activity
from tests.bot.test_run import free_port, wait_healthy


@pytest.fixture
def bot_env(database, make_settings, tmp_path, teams_api, secret_key):
    make_settings()  # writes the config file
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("SLACK_", "TEAMS_"))}
    return {
        **env,
        **teams_api.env(),
        "COMPLIANCE_BOT_CONFIG": str(tmp_path / "config.yaml"),
        "COMPLIANCE_BOT_SECRET_KEY": secret_key,
        "DATABASE_URL": database.url,
        "PORT": str(free_port()),
    }


def test_run_serves_teams_and_stops_cleanly(bot_env, teams_api, core):
    port = int(bot_env["PORT"])
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=bot_env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy(port, process)
        activity = teams_activity(teams_api.service_url, text="パスワードを教えてもいい？")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/messages", method="POST",
            data=json.dumps(activity).encode(),
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {teams_api.token()}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        [call] = teams_api.wait_for()
        assert call.token in teams_api.issued_tokens
        assert "出典" in call.card_text()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_run_refuses_a_secret_microsoft_rejects(bot_env):
    bot_env["TEAMS_APP_PASSWORD"] = "not-the-secret"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=bot_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "compliance-bot: error: TEAMS_APP_PASSWORD: no token for the bot "
        "(token endpoint: 401 invalid_client)")
    assert "not-the-secret" not in result.stderr


def test_run_refuses_signing_keys_it_cannot_read(bot_env):
    """Production reads the Bot Framework's keys at start: unreachable, it does not start."""
    bot_env["TEAMS_OPENID_METADATA_URL"] = f"http://127.0.0.1:{free_port()}/openid"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=bot_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "compliance-bot: error: TEAMS_OPENID_METADATA_URL: cannot read the Bot Framework "
        "signing keys (ConnectionError)")


def test_run_without_a_tenant_names_the_setting(bot_env):
    del bot_env["TEAMS_TENANT_ID"], bot_env["TEAMS_TOKEN_URL"]
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=bot_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "TEAMS_TENANT_ID" in result.stderr and "Traceback" not in result.stderr

