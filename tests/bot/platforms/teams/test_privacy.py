"""The report issue's anonymity test, repeated through Teams: after an anonymous report is
submitted, read and answered, nothing the bot keeps, logs or sends names the reporter."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot.core import Core, build_core
from tests.bot.platforms.teams.harness import (
    CHANNEL,
    TeamsHarness,
    actions,
    inputs,
    receipt_values,
)
from tests.bot.reports.helpers import audit_export, dump_database
from tests.teams_api import FakeTeams

REPORTER_AAD = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
REPORTER_ID = "29:1ReporterTeamsId_ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvutsrq"
REPORTER = {"aad": REPORTER_AAD, "user": REPORTER_ID, "user_name": "Taro Whistle"}
DESK_AAD = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
DESK = {"aad": DESK_AAD, "user": "29:1DeskMember_abcdefghijklmnopqrstuvwxyz0123456789",
        "user_name": "Desk Member"}


@pytest.fixture
def report_core(database, make_settings) -> Iterator[Core]:
    core = build_core(make_settings(
        f"desk:\n  members: ['teams:{DESK_AAD}', 'slack:U0DESKB']\n"
        f"reports:\n  desk_channel: 'teams:{CHANNEL}'\n  notice_delay_min_minutes: 0\n"
        "  notice_delay_max_minutes: 0\n",
        DATABASE_URL=database.url))
    try:
        yield core
    finally:
        core.database.dispose()


def _dialog(answer: dict) -> dict:
    assert answer["task"]["type"] == "continue", answer
    return answer["task"]["value"]["card"]["content"]


def _open(teams: TeamsHarness, teams_api: FakeTeams, text: str, who: dict) -> dict:
    """Type a command in the 1:1 chat, press the card's button: the form's dialog."""
    before = len(teams_api.sent())
    teams.dm(text, locale="en-US", **who)
    launcher = teams_api.wait_for(before + 1)[-1]
    [button] = actions(launcher.card)
    _, answer = teams.invoke("task/fetch", button["data"], locale="en-US", **who)
    return _dialog(answer)


def _submit(teams: TeamsHarness, form: dict, values: dict, who: dict) -> dict | None:
    status, answer = teams.invoke("task/submit", {**form["actions"][0]["data"], **values},
                                  locale="en-US", **who)
    assert status == 200
    return answer


def test_anonymous_report_leaves_no_trace_of_the_reporter(report_core, teams_api, caplog):
    caplog.set_level(logging.DEBUG)
    teams = TeamsHarness(report_core, teams_api)
    try:
        intake = _open(teams, teams_api, "report", REPORTER)
        assert inputs(intake)["anonymity"]["value"] == "anonymous"
        receipt = _dialog(_submit(teams, intake, {
            "category": "info_leak", "what": "販売部門の端末で託送の顧客情報を見た",
            "who": "営業二課", "exclude": "slack:U0DESKB"}, REPORTER))
        values = receipt_values(receipt)
        case_number, key = values["Case number"], values["Secret key"]

        notices = teams.app.feature("reports").notifier(teams.app.messengers).tick()
        assert len(notices) == 1
        notice = teams_api.sent()[-1]
        assert notice.conversation == CHANNEL and case_number in notice.card_text()

        desk_form = _open(teams, teams_api, f"case {case_number}", DESK)
        assert "anonymous" in str(desk_form).lower()
        assert _submit(teams, desk_form, {"message": "いつ頃のことですか？"}, DESK) is not None

        check = _open(teams, teams_api, "case", REPORTER)
        mailbox = _dialog(_submit(teams, check, {"case_number": case_number, "key": key},
                                  REPORTER))
        assert "いつ頃のことですか" in str(mailbox)
        _submit(teams, mailbox, {"message": "先週の金曜日です"}, REPORTER)
        wrong = _dialog(_submit(teams, check, {"case_number": case_number,
                                               "key": "WRONG-KEY0-0000-0000-0000"}, REPORTER))
        assert [b for b in wrong["body"] if b.get("color") == "attention"]
    finally:
        teams.close()

    identity = [REPORTER_AAD, REPORTER_ID, "Taro Whistle",
                report_core.keyring.pseudonym("teams", REPORTER_AAD),
                report_core.keyring.pseudonym("teams", REPORTER_ID)]
    content = ["販売部門の端末", "営業二課", "先週の金曜日", key, key.replace("-", "")]
    stored = dump_database(report_core.database)
    logs = caplog.text + "".join(r.getMessage() for r in caplog.records)
    trail = audit_export(report_core)
    sent = "\n".join(f"{c.path} {c.card_text()}" for c in teams_api.connector_calls())
    for secret in identity:
        for where, text in (("db", stored), ("audit", trail), ("logs", logs),
                            ("sent to Teams", sent)):
            assert secret not in text, (secret, where)
    for secret in content:
        for where, text in (("db", stored), ("audit", trail), ("logs", logs),
                            ("sent to Teams", sent)):
            assert secret not in text, (secret, where)
    # ...while the desk member who wrote is accountable under their pseudonym.
    assert report_core.keyring.pseudonym("teams", DESK_AAD) in trail


def test_the_report_is_not_linked_to_the_reporters_question_by_order_or_time(
        database, make_settings, teams_api):
    from tests.bot.reports.helpers import assert_no_timing_link

    core = build_core(make_settings(  # the default 5-15 minute delay
        f"desk:\n  members: ['teams:{DESK_AAD}']\nreports:\n  desk_channel: 'teams:{CHANNEL}'\n",
        DATABASE_URL=database.url))
    teams = TeamsHarness(core, teams_api)
    try:
        teams.dm("異動前のIDを使ってもいい？", **REPORTER)  # audited under their pseudonym
        teams_api.wait_for(1)
        form = _open(teams, teams_api, "report", REPORTER)
        answer = _submit(teams, form, {"category": "other", "what": "タイミングの確認"},
                         REPORTER)
        assert "R-" in str(answer)
        person = teams.activity(**REPORTER)
        user_key = core.keyring.pseudonym("teams", person["from"]["aadObjectId"])
        assert_no_timing_link(core, user_key)
    finally:
        teams.close()
        core.database.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_dialog_slower_than_teams_allows_gives_no_receipt_and_keeps_nothing(
        report_core, teams_api, database):
    import time

    from bot.reports.models import Report
    from tests.bot.platforms.slack.test_reports import _slow_report_inserts

    _slow_report_inserts(database, 2.0)
    teams = TeamsHarness(report_core, teams_api)
    teams.bot.submit_within_s = 0.5  # Teams' 15 s, scaled down for the test
    try:
        form = _open(teams, teams_api, "report", REPORTER)
        answer = _submit(teams, form, {"category": "other", "what": "遅いコミット"}, REPORTER)
        assert answer["task"]["type"] == "message" and "R-" not in str(answer)
        assert "not be saved" in answer["task"]["value"]
        time.sleep(2.0)  # the slow insert commits, then is taken back
        deadline = time.monotonic() + 10
        while True:
            with report_core.database.transaction() as session:
                left = session.query(Report).count()
            if left == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert left == 0
    finally:
        teams.close()


OTHER_AAD = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
OTHER = {"aad": OTHER_AAD, "user": "29:1OtherDeskMember_abcdefghijklmnopqrstuvwxyz01234567",
         "user_name": "Other Member"}


def test_a_desk_member_picked_by_name_cannot_open_the_report(database, make_settings,
                                                             teams_api):
    """Conflict of interest in Teams: a multi-select of the desk by name; the one picked is
    refused (and audited), the other sees that someone is excluded, not who."""
    core = build_core(make_settings(
        f"desk:\n  members: ['teams:{DESK_AAD}', 'teams:{OTHER_AAD}']\n"
        f"  names: {{'teams:{DESK_AAD}': 佐藤, 'teams:{OTHER_AAD}': 鈴木}}\n",
        DATABASE_URL=database.url))
    teams = TeamsHarness(core, teams_api)
    try:
        intake = _open(teams, teams_api, "report", REPORTER)
        picker = inputs(intake)["exclude"]
        assert picker["type"] == "Input.ChoiceSet" and picker["isMultiSelect"] is True
        by_name = {choice["title"]: choice["value"] for choice in picker["choices"]}
        assert set(by_name) == {"佐藤", "鈴木"}
        receipt = _dialog(_submit(teams, intake, {"category": "other", "what": "上司の件です",
                                                  "exclude": by_name["鈴木"]}, REPORTER))
        case_number = receipt_values(receipt)["Case number"]
        before = len(teams_api.sent())
        teams.dm(f"case {case_number}", locale="en-US", **OTHER)
        [refusal] = teams_api.wait_for(before + 1)[before:]
        assert "You cannot open this case." in refusal.card_text()
        desk_form = _open(teams, teams_api, f"case {case_number}", DESK)
        shown = json.dumps(desk_form, ensure_ascii=False)
        assert "Desk members excluded by the reporter: 1" in shown and "鈴木" not in shown
        trail = audit_export(core)
        assert "report.open_refused" in trail and "report.opened" in trail
    finally:
        teams.close()
        core.database.dispose()
