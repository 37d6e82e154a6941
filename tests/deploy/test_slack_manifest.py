"""The manifest asks Slack for exactly what the code uses: no missing and no spare grants,
and Slack accepts it (its official schema, vendored beside the repository in ../shared)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from bot.platforms.slack.app import BOT_EVENTS, REQUIRED_SCOPES
from bot.platforms.slack.listeners.commands import COMMAND
from bot.platforms.slack.listeners.shortcuts import ASK_ABOUT_MESSAGE

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "deploy" / "slack" / "manifest.yaml"
# Slack's official manifest schema (slackapi/manifest-schema 1.0.0), vendored beside the
# repository: CI always checks ../shared out next to it, so a missing schema is a failure.
MANIFEST_SCHEMA = (REPO.parent / "shared" / "slack-manifest-schema"
                   / "manifest.schema.1.0.0.json")


def _manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_manifest_is_valid_against_slacks_schema():
    """Every text within Slack's limits (a shortcut's name is at most 24 characters, ...).

    The schema's only ``format`` is ``uri`` on ``$schema``, which the manifest does not set
    (and jsonschema checks ``uri`` only with rfc3987 installed); the format checker is passed
    anyway so that a format the schema gains is checked where jsonschema can."""
    assert MANIFEST_SCHEMA.is_file(), (
        f"Slack's manifest schema is missing: {MANIFEST_SCHEMA} "
        "(check out the shared repository beside this one)")
    schema = json.loads(MANIFEST_SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(_manifest()), key=lambda e: e.json_path)
    assert not errors, f"{len(errors)} manifest error(s) against Slack's schema:\n" + "\n".join(
        f"  {e.json_path}: {e.message} ({e.validator} {e.validator_value!r})" for e in errors)


def test_scopes_are_exactly_those_the_code_needs():
    assert set(_manifest()["oauth_config"]["scopes"]["bot"]) == REQUIRED_SCOPES


def test_events_command_shortcut_and_home_match_the_listeners():
    manifest = _manifest()
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == BOT_EVENTS
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [COMMAND]
    assert [(s["type"], s["callback_id"]) for s in manifest["features"]["shortcuts"]] == [
        ("message", ASK_ABOUT_MESSAGE)]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_every_request_url_is_the_events_endpoint():
    manifest = _manifest()
    urls = [manifest["settings"]["event_subscriptions"]["request_url"],
            manifest["settings"]["interactivity"]["request_url"],
            *[c["url"] for c in manifest["features"]["slash_commands"]]]
    assert all(url.endswith("/slack/events") for url in urls)


def test_bolt_app_registers_a_listener_for_every_subscribed_event(slack, slack_api):
    """Each subscribed event reaches a listener that acts (answers or publishes the home)."""
    slack.mention("パスワードを他人に教えてもいい？")
    slack.dm("パスワードを他人に教えてもいい？")
    slack.event({"type": "app_home_opened", "user": "U0EMPLOYEE", "tab": "home",
                 "channel": "D0EMPLOYEE", "event_ts": "1.1"})
    slack_api.wait_for("chat.postMessage", 2)
    slack_api.wait_for("views.publish")
