"""The Teams app package in deploy/teams/: its manifest matches what the bot does."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import sqlalchemy as sa

from bot.messages import IncomingMessage, User
from bot.models import Question
from bot.wiring import assemble

TEAMS = Path(__file__).resolve().parents[4] / "deploy" / "teams"
PLACEHOLDER = "${{TEAMS_APP_ID}}"


def _manifest() -> dict:
    return json.loads((TEAMS / "manifest.json").read_text(encoding="utf-8"))


def _png_size(path: Path) -> tuple[int, int, int]:
    """Width, height and colour type, from the PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


def test_bot_scopes_and_the_app_id_placeholder():
    manifest = _manifest()
    assert manifest["manifestVersion"] == "1.17"
    assert manifest["$schema"].endswith("/v1.17/MicrosoftTeams.schema.json")
    [bot] = manifest["bots"]
    assert manifest["id"] == bot["botId"] == PLACEHOLDER  # the README fills in TEAMS_APP_ID
    assert set(bot["scopes"]) == {"personal", "team"}
    assert "messageTeamMembers" in manifest["permissions"]  # DMs to people in a team
    for name in ("short", "full"):
        assert manifest["description"][name] and len(manifest["description"][name]) <= (
            80 if name == "short" else 4000)
    assert len(manifest["name"]["short"]) <= 30


def test_icons_have_the_sizes_teams_requires():
    icons = _manifest()["icons"]
    assert _png_size(TEAMS / icons["color"])[:2] == (192, 192)
    width, height, colour = _png_size(TEAMS / icons["outline"])
    assert (width, height) == (32, 32) and colour == 6  # RGBA: white on transparent


def test_every_listed_command_is_a_command_word_of_the_router(core):
    bot = assemble(core)
    user = User("teams", "6b8f0c2e-1d3a-4e5f-8a9b-0c1d2e3f4a5b")
    lists = _manifest()["bots"][0]["commandLists"]
    assert {scope for item in lists for scope in item["scopes"]} == {"personal", "team"}
    titles = {command["title"] for item in lists for command in item["commands"]}
    assert {"help", "report", "case"} <= titles
    for item in lists:
        for command in item["commands"]:
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128
            reply = bot.dispatcher.command(IncomingMessage(user, command["title"]))
            assert reply.text or reply.form is not None
    with core.database.transaction() as session:  # none of them was taken for a question
        assert session.scalars(sa.select(Question)).all() == []
