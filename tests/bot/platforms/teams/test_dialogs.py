"""A button that opens a form opens its Teams dialog in one click: the `task/fetch` comes from
the button itself (`Button.opens_form`), its action runs once, and nothing else is posted."""

from __future__ import annotations

import time

import sqlalchemy as sa

from bot.core import build_core
from bot.models import AuditEvent
from tests.bot.platforms.teams.harness import PERSONAL, TeamsHarness, actions
from tests.handlers.messenger import DESK_CONFIG


def _open_from(teams: TeamsHarness, button: dict) -> dict:
    """What Teams does when the button is pressed: it invokes task/fetch with its data."""
    assert button["data"]["msteams"] == {"type": "task/fetch"}, button["title"]
    status, answer = teams.invoke("task/fetch", button["data"])
    assert status == 200 and answer is not None
    return answer["task"]


def test_home_buttons_open_their_dialogs_with_one_click(teams, teams_api):
    teams.installed()
    [home] = teams_api.wait_for()
    buttons = actions(home.card)
    assert len(buttons) == 3
    for button in buttons:
        task = _open_from(teams, button)
        assert task["type"] == "continue", button["title"]
        assert any(b["type"].startswith("Input.") for b in task["value"]["card"]["content"]
                   ["body"]), button["title"]
    time.sleep(0.3)
    assert len(teams_api.sent()) == 1  # the home card only: no "open the form" message


def test_ask_the_desk_under_an_answer_opens_its_dialog_at_once(
        database, make_settings, teams_api):
    config = DESK_CONFIG.replace("test:", "teams:")
    core = build_core(make_settings(config, DATABASE_URL=database.url))
    teams = TeamsHarness(core, teams_api)
    try:
        teams.dm("異動したら前の部署のIDはどうなる？")
        [answer] = teams_api.wait_for()
        assert answer.conversation == PERSONAL
        [desk_button] = [b for b in actions(answer.card)
                         if b["data"].get("action") == "escalate.open"]
        with core.database.transaction() as session:
            before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        task = _open_from(teams, desk_button)
        assert task["type"] == "continue"
        fields = task["value"]["card"]["content"]["body"]
        assert any(b.get("id") == "question" and b.get("value") for b in fields)  # prefilled
        with core.database.transaction() as session:  # opening a form changes nothing
            after = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        assert after == before
        time.sleep(0.3)
        assert len(teams_api.sent()) == 1  # the answer only
    finally:
        teams.close()
        core.database.dispose()
