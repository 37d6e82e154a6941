"""Anonymous reports through Slack's modals, end to end over HTTP: what the reporter sees,
and what Slack, the database, the audit trail and the logs never see."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.bot.reports.helpers import audit_export, dump_database, report_core

WHISTLEBLOWER = "U0WHISTLE77"
USERNAME = "taro.whistle"


@pytest.fixture
def core(database, make_settings):
    built = report_core(database, make_settings)
    try:
        yield built
    finally:
        built.database.dispose()


def _open_intake(slack, slack_api) -> dict:
    assert slack.command("report", user=WHISTLEBLOWER, user_name=USERNAME)[0] == 200
    [opened] = slack_api.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "report.submit"
    return view


def _submit(slack, view: dict, values: dict) -> dict:
    status, body = slack.submit(view, values, user=WHISTLEBLOWER)
    assert status == 200
    return json.loads(body)


def test_anonymous_report_through_the_modal_leaves_no_trace_of_the_reporter(
        core, slack, slack_api, caplog):
    caplog.set_level(logging.DEBUG)
    view = _open_intake(slack, slack_api)
    anonymity = next(b for b in view["blocks"] if b.get("block_id") == "anonymity")
    assert anonymity["element"]["initial_option"]["value"] == "anonymous"
    answer = _submit(slack, view, {"category": "id_misuse", "what": "異動者のIDが共有されている",
                                   "who": "営業一課", "anonymity": "anonymous"})
    # The receipt replaces the modal (response_action: update) ...
    assert answer["response_action"] == "update"
    fields = [f["text"] for b in answer["view"]["blocks"] if b["type"] == "section"
              for f in b.get("fields", [])]
    case_number = fields[0].split("\n")[1]
    key = fields[1].split("\n")[1]
    assert case_number.startswith("R-") and len(key) == 24
    # ... and is in no message posted anywhere.
    time.sleep(0.3)
    posted = json.dumps([c.params for c in slack_api.calls
                         if c.method in ("chat.postMessage", "chat.postEphemeral",
                                         "chat.update", "response_url")], ensure_ascii=False)
    assert key not in posted and case_number not in posted
    # The arrival is audited once its random delay has passed (no delay in this config).
    assert slack.bot.feature("reports").reports.record_receipts() == 1
    # Nothing that identifies the reporter is kept anywhere.
    stored = dump_database(core.database)
    trail = audit_export(core)
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    pseudonym = core.keyring.pseudonym("slack", WHISTLEBLOWER)
    for secret in (WHISTLEBLOWER, USERNAME, pseudonym, "T0TEST001", "hanako"):
        for where, text in (("database", stored), ("audit", trail), ("logs", logged),
                            ("messages", posted)):
            assert secret not in text, (secret, where)
    assert "異動者のIDが共有されている" not in stored  # encrypted at rest
    assert "report" in trail  # the intake is an audit event, just not a traceable one


def test_missing_fields_keep_the_modal_open_with_errors_and_nothing_stored(core, slack,
                                                                          slack_api):
    view = _open_intake(slack, slack_api)
    answer = _submit(slack, view, {"category": "", "what": ""})
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) >= {"category", "what"}
    assert "R-" not in dump_database(core.database).split("reports")[-1][:200]


def test_reporter_checks_the_case_with_the_receipt_in_a_modal(core, slack, slack_api):
    view = _open_intake(slack, slack_api)
    answer = _submit(slack, view, {"category": "other", "what": "相談です"})
    fields = [f["text"] for b in answer["view"]["blocks"] if b["type"] == "section"
              for f in b.get("fields", [])]
    case_number, key = (f.split("\n")[1] for f in fields[:2])
    slack_api.clear()
    slack.command("case", user=WHISTLEBLOWER)
    [opened] = slack_api.wait_for("views.open")
    mailbox = _submit(slack, opened.params["view"], {"case_number": case_number, "key": key})
    assert mailbox["response_action"] == "update"
    assert mailbox["view"]["callback_id"] == "case.reply"
    assert case_number in json.dumps(mailbox["view"], ensure_ascii=False)
    sent = _submit(slack, mailbox["view"], {"message": "追加の情報です"})
    assert sent["response_action"] == "update"
    # A new check opens a new modal (Slack gives each its own id; the first was used up).
    wrong = _submit(slack, {**opened.params["view"], "id": "V0SECOND"},
                    {"case_number": case_number, "key": "2222-3333-4444-5555-6666"})
    assert wrong["response_action"] == "errors"
    assert set(wrong["errors"]) == {"case_number", "key"}


def test_a_replayed_report_submission_stores_one_report_and_shows_no_second_receipt(
        core, slack, slack_api):
    from bot.reports.models import Report

    view = _open_intake(slack, slack_api)
    values = {"category": "other", "what": "二重送信のテスト", "anonymity": "anonymous"}
    first = _submit(slack, view, values)
    assert "R-" in json.dumps(first, ensure_ascii=False)
    again = _submit(slack, view, values)  # the same view, id and hash: a replay
    assert again["response_action"] == "update"
    text = json.dumps(again, ensure_ascii=False)
    assert ("already submitted" in text or "すでに送信されています" in text) and "R-" not in text
    with core.database.transaction() as session:
        assert session.query(Report).count() == 1


def test_a_form_sent_back_with_errors_can_be_sent_again_corrected(core, slack, slack_api):
    from bot.reports.models import Report

    view = _open_intake(slack, slack_api)
    assert _submit(slack, view, {"category": "", "what": ""})["response_action"] == "errors"
    fixed = _submit(slack, view, {"category": "other", "what": "直しました",
                                  "anonymity": "anonymous"})
    assert "R-" in json.dumps(fixed, ensure_ascii=False)
    with core.database.transaction() as session:
        assert session.query(Report).count() == 1


# -- a receipt, or nothing, within Slack's 3 seconds --------------------------------------------

def _slow_report_inserts(database, seconds: float) -> None:
    """A trigger that makes every report INSERT take `seconds` (PostgreSQL's pg_sleep)."""
    with database.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE FUNCTION slow_down() RETURNS trigger AS $$ BEGIN "
            f"PERFORM pg_sleep({seconds}); RETURN NEW; END $$ LANGUAGE plpgsql")
        connection.exec_driver_sql("CREATE TRIGGER slow_reports BEFORE INSERT ON reports "
                                   "FOR EACH ROW EXECUTE FUNCTION slow_down()")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_commit_slower_than_3_s_shows_saving_then_the_receipt(core, slack, slack_api,
                                                                 database):
    from bot.reports.models import Report

    _slow_report_inserts(database, 3.5)
    view = _open_intake(slack, slack_api)
    started = time.monotonic()
    answer = _submit(slack, view, {"category": "other", "what": "遅いコミット",
                                   "anonymity": "anonymous"})
    assert time.monotonic() - started < 3.0  # answered within Slack's 3 seconds
    assert answer["response_action"] == "update" and "R-" not in json.dumps(answer)
    [update] = slack_api.wait_for("views.update", timeout=15)
    assert update.params["view_id"] == "V0MODAL"
    shown = json.dumps(update.params["view"], ensure_ascii=False)
    with core.database.transaction() as session:
        [report] = session.query(Report).all()
    assert report.case_number in shown


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_slow_report_whose_receipt_cannot_be_shown_is_taken_back(core, slack, slack_api,
                                                                   database):
    from bot.reports.models import Report
    from tests.slack_api import Failure

    _slow_report_inserts(database, 3.5)
    slack_api.fail("views.update", Failure(200, "not_found"))  # the modal was closed
    view = _open_intake(slack, slack_api)
    _submit(slack, view, {"category": "other", "what": "遅いコミット", "anonymity": "anonymous"})
    slack_api.wait_for("views.update", timeout=15)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with core.database.transaction() as session:
            if session.query(Report).count() == 0:
                break
        time.sleep(0.1)
    with core.database.transaction() as session:
        assert session.query(Report).count() == 0  # no receipt was seen: nothing is kept
    assert "report.received" not in audit_export(core)


def test_the_report_is_not_linked_to_the_reporters_question_by_order_or_time(
        database, make_settings, slack_api):
    from bot.core import build_core
    from tests.bot.reports.helpers import DESK_CONFIG, assert_no_timing_link
    from tests.slack import SlackHarness

    core = build_core(make_settings(DESK_CONFIG + "reports:\n  desk_channel: 'slack:C0DESK'\n",
                                    DATABASE_URL=database.url))  # the default 5-15 min delay
    harness = SlackHarness(core, slack_api)
    try:
        harness.mention("異動前のIDを使ってもいい？", user=WHISTLEBLOWER)  # audited as them
        slack_api.wait_for("chat.postMessage")
        answer = _submit(harness, _open_intake(harness, slack_api),
                         {"category": "other", "what": "タイミングの確認",
                          "anonymity": "anonymous"})
        assert "R-" in json.dumps(answer, ensure_ascii=False)
        assert_no_timing_link(core, core.keyring.pseudonym("slack", WHISTLEBLOWER))
    finally:
        harness.close()
        core.database.dispose()


def test_a_desk_member_picked_by_name_cannot_open_the_report(core, slack, slack_api):
    """Conflict of interest: the reporter picks 鈴木 from the names; 鈴木's open is refused
    and audited, 佐藤 opens it and learns only that someone is excluded."""
    view = _open_intake(slack, slack_api)
    [picker] = [b for b in view["blocks"] if b.get("block_id") == "exclude"]
    assert picker["element"]["type"] == "multi_static_select"
    options = {o["text"]["text"]: o["value"] for o in picker["element"]["options"]}
    assert set(options) == {"佐藤", "鈴木"}
    answer = _submit(slack, view, {"category": "other", "what": "上司の件です",
                                   "exclude": options["鈴木"]})
    fields = [f["text"] for b in answer["view"]["blocks"] if b["type"] == "section"
              for f in b.get("fields", [])]
    case_number = fields[0].split("\n")[1]
    slack.command(f"case {case_number}", user="U0DESKB")
    [refusal] = slack_api.wait_for("response_url")
    assert "You cannot open this case." in json.dumps(refusal.params, ensure_ascii=False) \
        or "この案件を開く権限がありません" in json.dumps(refusal.params, ensure_ascii=False)
    slack.command(f"case {case_number}", user="U0DESKA")
    [opened] = slack_api.wait_for("views.open", 2)[1:]
    shown = json.dumps(opened.params["view"], ensure_ascii=False)
    assert "除外された窓口担当者: 1名" in shown or "excluded by the reporter: 1" in shown
    assert "鈴木" not in shown and "U0DESKB" not in shown
    trail = audit_export(core)
    assert "report.open_refused" in trail and "report.opened" in trail
