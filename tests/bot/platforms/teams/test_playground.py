"""Local development with Microsoft 365 Agents Playground: TEAMS_ALLOW_UNAUTHENTICATED=true.

The Playground posts activities without a token (see `playground_activity` for their shape)
and takes the bot's answers at its own connector. Development mode must start and answer with
no Microsoft endpoint reachable, send private replies to the Playground rather than to the
configured or Microsoft's service URL, and, where the Playground cannot deliver to a 1:1 chat,
show such a reply where it was asked. A signed activity keeps production's rule: a private
reply never lands in a channel.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from handlers.ask.ids import FEEDBACK
from tests.bot.platforms.teams.harness import (
    CHANNEL,
    PLAYGROUND_TEAM,
    TeamsHarness,
    actions,
    playground_activity,
    texts,
)
from tests.bot.test_run import free_port, wait_healthy
from tests.teams_api import APP_ID, PLAYGROUND_PERSONAL, PLAYGROUND_USER, Failure, FakeTeams

STRANGER = "29:1SomeoneThePlaygroundDoesNotKnow"


def _post(port: int, activity: dict[str, Any], headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/messages", method="POST",
        data=json.dumps(activity).encode(),
        headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _creates(teams_api: FakeTeams) -> list:
    return [c for c in teams_api.calls if c.path.endswith("/v3/conversations")]


@pytest.fixture
def playground_env(database, make_settings, tmp_path, secret_key, teams_api):
    """`compliance-bot run` as the README's Playground steps set it up, with every Microsoft
    endpoint on a closed port: only the Playground's connector (the loopback) is there."""
    make_settings()  # writes the config file
    closed = f"http://127.0.0.1:{free_port()}"
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("SLACK_", "TEAMS_"))}
    return {
        **env,
        "COMPLIANCE_BOT_CONFIG": str(tmp_path / "config.yaml"),
        "COMPLIANCE_BOT_SECRET_KEY": secret_key,
        "DATABASE_URL": database.url,
        "PORT": str(free_port()),
        "TEAMS_APP_ID": APP_ID,
        "TEAMS_ALLOW_UNAUTHENTICATED": "true",
        "TEAMS_SERVICE_URL": teams_api.playground_url,
        "TEAMS_OPENID_METADATA_URL": closed + "/v1/.well-known/openidconfiguration",
        "TEAMS_TOKEN_URL": closed + "/oauth2/v2.0/token",
    }


def test_run_answers_the_playground_with_no_microsoft_endpoint_reachable(
        playground_env, teams_api):
    port = int(playground_env["PORT"])
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=playground_env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_healthy(port, process)
        url = teams_api.playground_url
        # A question in the Playground's personal chat (`-c emulator` this time).
        question = playground_activity(url, text="Can I tell the retail company my password?",
                                       channel_id="emulator")
        assert _post(port, question) == 202
        [answer] = teams_api.wait_for()
        assert answer.conversation == PLAYGROUND_PERSONAL and answer.token is None
        assert "Source" in answer.card_text()

        # `help` by @mention in its channel: private, so into the user's 1:1 chat, which the
        # Playground opens for its current user at its own connector.
        assert _post(port, playground_activity(url, text="help", scope="channel")) == 202
        _, private = teams_api.wait_for(2)
        [create] = _creates(teams_api)
        assert create.path.startswith("/playground/")
        assert create.body["members"] == [{"id": PLAYGROUND_USER}]
        assert private.conversation == PLAYGROUND_PERSONAL
        assert texts(private.card)[0] == "How to use"

        # A request that does carry a token cannot be checked offline: 503, never a 500.
        signed = playground_activity(url, text="password")
        assert _post(port, signed, {"Authorization": f"Bearer {teams_api.token()}"}) == 503
        time.sleep(0.3)
        assert not [c for c in teams_api.calls if not c.path.startswith("/playground/")]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    stderr = process.stderr.read() if process.stderr else ""
    assert "TEAMS_ALLOW_UNAUTHENTICATED is on" in stderr and "Traceback" not in stderr


@pytest.fixture
def playground(core, teams_api):
    """Development mode in process, with no password; TEAMS_SERVICE_URL stays the loopback
    Teams, so a call that ignored the activity's service URL would show up there, and
    TEAMS_TENANT_ID stays set, which the Playground's mock tenant must not trip over."""
    harness = TeamsHarness(core, teams_api, allow_unauthenticated=True,
                           env={"TEAMS_APP_PASSWORD": ""})
    try:
        yield harness
    finally:
        harness.close()


def test_private_replies_go_to_the_activitys_service_url_and_nothing_is_remembered(
        playground, teams_api):
    activity = playground_activity(teams_api.playground_url, text="help", scope="channel")
    assert playground.send(activity, token=None)[0] == 202
    [private] = teams_api.wait_for()
    assert private.conversation == PLAYGROUND_PERSONAL
    assert [c.path.split("/v3/")[0] for c in teams_api.calls] == ["/playground"] * 2
    assert playground.bot.book.personal(PLAYGROUND_USER) is None  # an unsigned claim


def test_help_and_thanks_the_playground_cannot_deliver_privately_stay_where_asked(
        playground, teams_api, caplog):
    caplog.set_level(logging.WARNING)
    url = teams_api.playground_url
    asked = playground_activity(url, text="help", scope="channel", user=STRANGER,
                                root="1796202982082")
    assert playground.send(asked, token=None)[0] == 202
    refused, help_reply = teams_api.wait_for(2)  # refused: the post to the 1:1 chat
    assert refused.answer["error"]["code"] == "UserNotFound"  # the chat opened, though
    assert help_reply.conversation == f"{PLAYGROUND_TEAM};messageid=1796202982082"
    assert help_reply.body["replyToId"] == asked["id"]
    assert {c.path.split("/v3/")[0] for c in teams_api.calls} == {"/playground"}
    assert texts(help_reply.card)[0] == "How to use"
    assert "posted where it was asked (development mode)" in caplog.text

    # Thanks for feedback, equally private, takes the same way back.
    question = playground_activity(url, text="Can I tell the retail company my password?",
                                   scope="channel", user=STRANGER, root="1796202990000")
    assert playground.send(question, token=None)[0] == 202
    answer = teams_api.wait_for(3)[-1]
    down = [a for a in actions(answer.card) if a["data"]["action"] == FEEDBACK][1]
    press = playground_activity(url, text=None, scope="channel", user=STRANGER,
                                root="1796202990000", replyToId=answer.answer["id"],
                                value=down["data"])
    press["channelData"]["source"] = {"name": "message"}
    assert playground.send(press, token=None)[0] == 202
    *_, refused, thanks = teams_api.wait_for(5)
    assert refused.answer["error"]["code"] == "UserNotFound"  # nothing kept from before
    assert thanks.conversation == f"{PLAYGROUND_TEAM};messageid=1796202990000"
    assert "review" in thanks.card_text()


@pytest.mark.parametrize("development", [False, True])
def test_a_signed_activitys_private_reply_never_lands_in_a_channel(
        core, teams_api, caplog, development):
    """Production, and a signed activity in development mode: one line, nothing posted."""
    caplog.set_level(logging.WARNING)
    harness = TeamsHarness(core, teams_api, allow_unauthenticated=development)
    try:
        teams_api.fail(Failure(403))  # Teams refuses to open the 1:1 chat
        assert harness.mention("help", activity_id="1700000000900")[0] == 202
        deadline = time.monotonic() + 5
        while "private reply not delivered" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert [c.path.rsplit("/", 1)[-1] for c in teams_api.connector_calls()] == [
            "conversations"]  # the refused chat, and nothing after it
        assert not [c for c in teams_api.sent() if CHANNEL in (c.conversation or "")]
        lines = [r for r in caplog.records if "private reply" in r.getMessage()]
        assert len(lines) == 1 and "nothing was posted in the channel" in lines[0].getMessage()
        assert "403" in lines[0].getMessage()
    finally:
        harness.close()
