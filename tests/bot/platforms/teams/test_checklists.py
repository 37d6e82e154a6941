"""A transfer checklist end to end over the Bot Connector protocol and the loopback Microsoft
side: HR's CSV starts it, the person answers in a dialog (one "no" with a note, which reaches
the desk's channel), the manager sends it back, the person answers again, the manager
confirms; status and the auditor's export show each step."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from bot.checklists.views import CONFIRM, OPEN, RETURN
from bot.core import Core, build_core
from tests.bot.checklists.conftest import checklist_config, platform_desk
from tests.bot.checklists.story import (
    COMMENT,
    NOTE,
    answers,
    check_status_and_export,
    start_from_csv,
)
from tests.bot.platforms.teams.harness import (
    CHANNEL,
    EMPLOYEE_AAD,
    EMPLOYEE_ID,
    PERSONAL,
    TeamsHarness,
    actions,
    inputs,
)
from tests.teams_api import FakeTeams

MANAGER_AAD = "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
MANAGER_ID = "29:1ManagerTeamsId_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
DESK_AAD = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
MANAGER = {"aad": MANAGER_AAD, "user": MANAGER_ID, "user_name": "佐藤 課長"}
EMPLOYEE = {"aad": EMPLOYEE_AAD, "user": EMPLOYEE_ID, "user_name": "山田 太郎"}


@pytest.fixture
def teams(database, make_settings, teams_api: FakeTeams) -> Iterator[TeamsHarness]:  # type: ignore[no-untyped-def]
    config = checklist_config(desk=platform_desk("teams", DESK_AAD, CHANNEL),
                              starters=f"[teams:{DESK_AAD}]")
    core: Core = build_core(make_settings(config, DATABASE_URL=database.url))
    harness = TeamsHarness(core, teams_api)
    try:
        yield harness
    finally:
        harness.close()
        core.database.dispose()


def _chat_of(aad: str) -> str:
    """The 1:1 chat the loopback Bot Connector makes for someone the bot writes to first."""
    return "a:1" + base64.urlsafe_b64encode(aad.encode()).decode().rstrip("=") + "x" * 60


def _send(teams: TeamsHarness) -> None:
    [job] = [j for j in teams.app.registry.jobs if j.name == "checklists.send"]
    job.run()


def _to(teams_api: FakeTeams, conversation: str) -> list:  # type: ignore[type-arg]
    return [c for c in teams_api.sent() if c.conversation == conversation]


def _action(card: dict[str, Any], action: str, suffix: str = "") -> dict[str, Any]:
    return next(a["data"] for a in actions(card) if a["data"].get("action") == action
                and a["data"].get("value", "").endswith(suffix))


def _dialog(teams: TeamsHarness, data: dict[str, Any], who: dict[str, str]) -> dict[str, Any]:
    assert data["msteams"] == {"type": "task/fetch"}  # opens the dialog in one click
    status, answer = teams.invoke("task/fetch", data, **who)
    assert status == 200 and answer is not None and answer["task"]["type"] == "continue"
    return answer["task"]["value"]["card"]["content"]


def _submit(teams: TeamsHarness, card: dict[str, Any], values: dict[str, str],
            who: dict[str, str]) -> dict[str, Any]:
    status, answer = teams.invoke("task/submit", {**card["actions"][0]["data"], **values},
                                  **who)
    assert status == 200 and answer is not None
    return answer["task"]


def test_a_transfer_from_hrs_csv_to_the_managers_confirmation(teams, teams_api, tmp_path):
    settings = teams.core.settings
    teams.installed()  # the employee has the app: their chat is known
    teams_api.wait_for()
    start_from_csv(settings, tmp_path, f"teams:{EMPLOYEE_AAD}", f"teams:{MANAGER_AAD}")
    _send(teams)
    [ask] = _to(teams_api, PERSONAL)[-1:]
    assert "異動時のチェックリスト" in ask.card_text()
    teams.installed()  # the home card lists it, with its button
    home = teams_api.wait_for(3)[-1]
    assert "チェックリスト" in home.card_text() and "checklist.open" in home.card_text()

    # The person answers in a dialog: one "no", whose note is required, goes to the desk.
    form = _dialog(teams, _action(ask.card, OPEN, ".ja"), EMPLOYEE)
    assert inputs(form)["stored-ids-deleted"]["type"] == "Input.ChoiceSet"
    refused = _submit(teams, form, {**answers("stored-ids-deleted"),
                                    "note.stored-ids-deleted": ""}, EMPLOYEE)
    assert refused["type"] == "continue"
    assert "状況を書いてください" in str(refused["value"]["card"])
    done = _submit(teams, form, answers("stored-ids-deleted"), EMPLOYEE)
    assert "送信しました" in str(done["value"]["card"])
    triage = [c for c in teams_api.wait_for(2) if c.conversation == CHANNEL]
    assert len(triage) == 1 and NOTE in triage[0].card_text()

    # The manager (never seen before: the bot opens their chat) sends it back.
    _send(teams)
    [review] = _to(teams_api, _chat_of(MANAGER_AAD))
    assert NOTE in review.card_text()
    comment = _dialog(teams, _action(review.card, RETURN), MANAGER)
    sent_back = _submit(teams, comment, {"comment": COMMENT}, MANAGER)
    assert "差し戻しました" in str(sent_back["value"]["card"])

    # The person answers again from the message with the comment.
    _send(teams)
    returned = _to(teams_api, PERSONAL)[-1]
    assert COMMENT in returned.card_text()
    form = _dialog(teams, _action(returned.card, OPEN, ".ja"), EMPLOYEE)
    assert inputs(form)["stored-ids-deleted"]["value"] == "no"  # the previous answers
    assert "送信しました" in str(_submit(teams, form, answers(), EMPLOYEE)["value"]["card"])

    # The manager confirms from the new review (in the chat Teams told the bot they use now);
    # the press is answered there.
    _send(teams)
    review = [c for c in teams_api.sent() if "確認のお願い" in c.card_text()][-1]
    assert review is not _to(teams_api, _chat_of(MANAGER_AAD))[0]
    before = len(teams_api.sent())
    assert teams.press(_action(review.card, CONFIRM), reply_to=review.answer["id"],
                       **MANAGER)[0] == 202
    [answer] = teams_api.wait_for(before + 1)[before:]
    assert "確認済みとして記録しました" in answer.card_text()
    _send(teams)
    assert "佐藤 課長" in _to(teams_api, PERSONAL)[-1].card_text()
    assert len([c for c in teams_api.sent() if c.conversation == CHANNEL]) == 1

    check_status_and_export(settings, f"teams:{EMPLOYEE_AAD}", f"teams:{MANAGER_AAD}")


def test_a_starter_starts_one_by_mentioning_someone_the_bot_has_seen(teams, teams_api):
    teams.installed()  # the employee has the app: the bot knows their Teams id
    teams_api.wait_for()
    activity = teams.activity(text="<at>Compliance Bot</at> checklist transfer "
                                   "<at>山田 太郎</at>", scope="channel", aad=DESK_AAD,
                              user="29:1DeskTeamsId", user_name="窓口")
    activity["entities"] += [
        {"type": "mention", "text": "<at>Compliance Bot</at>",
         "mentioned": {"id": "28:bot", "name": "Compliance Bot"}},
        {"type": "mention", "text": "<at>山田 太郎</at>",
         "mentioned": {"id": EMPLOYEE_ID, "name": "山田 太郎"}}]
    assert teams.send(activity)[0] == 202
    [started] = teams_api.wait_for(2)[1:]
    assert "山田 太郎" in started.card_text() and "Started" in started.card_text()
