"""Teams is shown Teams' words: command words without Slack's `/comply`, no literal backticks,
no Slack ids as examples, no "reply in this thread" in a 1:1 chat without threads, and one
language per conversation."""

from __future__ import annotations

import json
import time

from bot.core import build_core
from tests.bot.platforms.teams.harness import PERSONAL, TeamsHarness, actions, receipt_values
from tests.handlers.messenger import DESK_CONFIG

SLACK_SYNTAX = ("/comply", "`", "slack:U", "<@")
DESK_AAD = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def _clean(text: str) -> None:
    for syntax in SLACK_SYNTAX:
        assert syntax not in text, (syntax, text[:300])


def _dialog(teams: TeamsHarness, data: dict, **who) -> dict:
    _, answer = teams.invoke("task/fetch", data, **who)
    assert answer["task"]["type"] == "continue", answer
    return answer["task"]["value"]["card"]["content"]


def test_help_names_teams_commands_without_slack_syntax(teams, teams_api):
    teams.dm("help", locale="en-US")
    [card] = teams_api.wait_for()
    text = card.card_text()
    _clean(text)
    assert "• report" in text and "• case" in text and "• desk" in text


def test_the_receipt_and_the_report_form_speak_teams(teams, teams_api):
    teams.installed(locale="en-US")
    [home] = teams_api.wait_for()
    [report] = [b for b in actions(home.card) if b["data"]["action"] == "report.new"]
    form = _dialog(teams, report["data"], locale="en-US")
    _clean(json.dumps(form, ensure_ascii=False))
    [submit] = form["actions"]
    _, answer = teams.invoke("task/submit", {**submit["data"], "category": "other",
                                             "what": "a test report"}, locale="en-US")
    receipt = answer["task"]["value"]["card"]["content"]
    text = json.dumps(receipt, ensure_ascii=False)
    _clean(text)
    assert 'Use \\"case\\" with both' in text
    assert receipt_values(receipt)["Secret key"]  # hidden until shown, still there


def test_the_escalation_form_and_the_desks_reply_speak_teams(database, make_settings,
                                                               teams_api):
    config = DESK_CONFIG.replace("test:DESK1", f"teams:{DESK_AAD}").replace("test:", "teams:")
    core = build_core(make_settings(config, DATABASE_URL=database.url))
    teams = TeamsHarness(core, teams_api)
    try:
        teams.dm("desk May I lend my ID to a colleague for a day?", locale="en-US")
        [launcher] = teams_api.wait_for()
        form = _dialog(teams, actions(launcher.card)[0]["data"], locale="en-US")
        intro = json.dumps(form, ensure_ascii=False)
        _clean(intro)
        assert 'use \\"report\\"' in intro
        teams.invoke("task/submit", {**form["actions"][0]["data"], "urgency": "normal",
                                     "question": "May I lend my ID to a colleague?"},
                     locale="en-US")
        [triage] = [c for c in teams_api.wait_for(2) if any(
            b["data"].get("action") == "desk.reply" for b in actions(c.card))]
        [reply] = [b for b in actions(triage.card) if b["data"]["action"] == "desk.reply"]
        desk_form = _dialog(teams, reply["data"], aad=DESK_AAD, user="29:1desk1")
        assert "actions" in desk_form, json.dumps(desk_form, ensure_ascii=False)[:600]
        before = len(teams_api.sent())
        teams.invoke("task/submit", {**desk_form["actions"][0]["data"],
                                     "text": "Please do not lend it."}, aad=DESK_AAD,
                     user="29:1desk1")
        posted = teams_api.wait_for(before + 2)[before:]
        [dm] = [c.card_text() for c in posted if c.conversation == PERSONAL
                and "Please do not lend it." in c.card_text()]  # the requester's 1:1 chat
        _clean(dm)
        assert "thread" not in dm and "スレッド" not in dm
    finally:
        teams.close()
        core.database.dispose()


def test_the_cases_list_and_the_case_it_opens_share_one_language(database, make_settings,
                                                                 teams_api):
    desk = f"teams:{DESK_AAD}"
    core = build_core(make_settings(f"desk:\n  members: ['{desk}']\n", DATABASE_URL=database.url))
    teams = TeamsHarness(core, teams_api)
    try:
        teams.dm("report", locale="en-US")
        [launcher] = teams_api.wait_for()
        form = _dialog(teams, actions(launcher.card)[0]["data"], locale="en-US")
        teams.invoke("task/submit", {**form["actions"][0]["data"], "category": "other",
                                     "what": "a test report"}, locale="en-US")
        before = len(teams_api.sent())
        teams.dm("cases", locale="en-US", aad=DESK_AAD)
        listing = teams_api.wait_for(before + 1)[-1]
        assert "Open cases" in listing.card_text() or "Open" in listing.card_text()
        [open_case] = [b for b in actions(listing.card) if b["data"]["action"] == "report.open"]
        case = _dialog(teams, open_case["data"], locale="en-US", aad=DESK_AAD)
        shown = json.dumps(case, ensure_ascii=False)
        assert "Category" in shown or "Received" in shown  # English, as the list was
        assert "受付" not in shown and "カテゴリ" not in shown
        time.sleep(0.1)
    finally:
        teams.close()
        core.database.dispose()
