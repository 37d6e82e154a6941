"""Reports in storage: ciphertext at rest, keys and rotation, deadlines with a moved clock,
retention. Run on SQLite and PostgreSQL through the `database` fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.audit import AuditTrail, verify
from bot.config import ReportsSettings
from bot.keys import Keyring, generate_key, key_id, parse_key
from bot.messages import MessageRef, MessengerError
from bot.models import AuditEvent
from bot.refusal import Refusal
from bot.reports.crypto import SealError
from bot.reports.desk import DeskNotifier
from bot.reports.models import Report
from bot.reports.service import CaseView, Intake, Reports
from tests.bot.reports.helpers import START, Clock, RecordingMessenger

DESK = ("slack:U0DESKA", "slack:U0DESKB")
TEXT = "送配電の系統情報を小売の営業担当者に渡していた"


def _keyring(*retired: Keyring) -> Keyring:
    return Keyring(parse_key(generate_key()), tuple(k.current for k in retired))


def _reports(database, keyring: Keyring, clock: Clock | None = None, **settings) -> Reports:
    defaults = {"desk_channel": "slack:C0DESK", "notice_delay_min_minutes": 0,
                "notice_delay_max_minutes": 0}
    return Reports(database, keyring, AuditTrail(keyring),
                   ReportsSettings(**{**defaults, **settings}), DESK, clock=clock or Clock())


def _submit(reports: Reports, **values) -> tuple[str, str]:
    intake = Intake(**{"category": "conduct_rules", "lang": "ja", "what": TEXT,
                       "who": "営業一課の課長", **values})
    receipt = reports.submit(intake)
    return receipt.case_number, receipt.secret_key


def _raw(database, table: str) -> list[dict]:
    with database.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.text(f"SELECT * FROM {table}"))]


def _actions(database) -> list[str]:
    with database.transaction() as session:
        return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)))


# -- encryption at rest --------------------------------------------------------------------------


def test_report_table_holds_ciphertext_only(database):
    keyring = _keyring()
    reports = _reports(database, keyring)
    case_number, key = _submit(reports, identity="山田花子 (slack:U0NAMED)")
    reports.desk_update("slack:U0DESKA", "u_desk", case_number, message="詳細を教えてください")
    [row] = _raw(database, "reports")
    [message] = _raw(database, "report_messages")
    for token in (row["content"], row["exclusions"], message["body"]):
        assert token.startswith(f"v1:{key_id(keyring.current)}:")
    everything = repr(_raw(database, "reports") + _raw(database, "report_messages"))
    for plain in ("送配電", "営業一課", "山田花子", "U0NAMED", "詳細を教えて", key):
        assert plain not in everything
    view = reports.open_as_reporter(case_number, key, "test:U0REPORTER")
    assert isinstance(view, CaseView) and view.content["what"] == TEXT
    assert view.messages[0].text == "詳細を教えてください"


def test_a_wrong_secret_key_cannot_read_reports(database):
    reports = _reports(database, _keyring())
    case_number, key = _submit(reports)
    stranger = _reports(database, _keyring())
    with pytest.raises(SealError, match="unknown key"):
        stranger.desk_open("slack:U0DESKA", "u_desk", case_number)
    with pytest.raises(SealError, match="unknown key"):
        stranger.open_as_reporter(case_number, key, "test:U0REPORTER")


def test_ciphertext_moved_to_another_case_does_not_open(database):
    reports = _reports(database, _keyring())
    first, _ = _submit(reports)
    second, _ = _submit(reports, what="別の案件")
    with database.transaction() as session:
        rows = {r.case_number: r for r in session.scalars(sa.select(Report))}
        rows[second].content = rows[first].content
    with pytest.raises(SealError, match="altered or does not belong"):
        reports.desk_open("slack:U0DESKA", "u_desk", second)


def test_rekey_re_encrypts_under_the_new_key_and_old_receipts_still_open(database):
    old = _keyring()
    before = _reports(database, old)
    case_number, key = _submit(before)
    before.desk_update("slack:U0DESKA", "u_desk", case_number, message="質問です")

    rotated = _keyring(old)  # the new key, the old one retired
    counts = _reports(database, rotated).rekey()
    assert counts == {"reports": 1, "messages": 1}
    new_id = key_id(rotated.current)
    tokens = [r["content"] for r in _raw(database, "reports")] + [
        m["body"] for m in _raw(database, "report_messages")]
    assert all(token.startswith(f"v1:{new_id}:") for token in tokens)

    only_new = _reports(database, Keyring(rotated.current))  # the old key is gone for good
    view = only_new.open_as_reporter(case_number, key, "test:U0REPORTER")
    assert isinstance(view, CaseView) and view.content["what"] == TEXT
    assert view.messages[0].text == "質問です"
    assert _reports(database, rotated).rekey() == {"reports": 0, "messages": 0}
    assert _actions(database).count("reports.rekeyed") == 2
    with database.transaction() as session:
        assert verify(session, rotated).ok


def test_rekey_command(database, tmp_path):
    old_key, new_key = generate_key(), generate_key()
    old = Keyring(parse_key(old_key))
    case_number, key = _submit(_reports(database, old))
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": database.url,
           "COMPLIANCE_BOT_SECRET_KEY": new_key, "COMPLIANCE_BOT_OLD_SECRET_KEYS": old_key}
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "reports", "rekey"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "re-encrypted 1 reports and 0 messages" in proc.stdout
    rekeyed = _reports(database, Keyring(parse_key(new_key)))
    view = rekeyed.open_as_reporter(case_number, key, "test:U0REPORTER")
    assert isinstance(view, CaseView)


# -- deadlines and the desk channel --------------------------------------------------------------


def _kinds(sent) -> list[tuple[str, str]]:
    return [(n.case_number, n.kind) for n in sent]


def test_deadline_reminders_fire_as_the_clock_moves(database):
    clock = Clock()
    reports = _reports(database, _keyring(), clock)
    messenger = RecordingMessenger()
    notifier = DeskNotifier(reports, {"slack": messenger}, "ja")
    case_number, _ = _submit(reports)

    assert _kinds(notifier.tick()) == [(case_number, "new")]
    assert "期限: 受領確認 2026-12-08／調査の要否の通知 2026-12-21" in messenger.posts[0][1].text
    assert notifier.tick() == []
    clock.advance(days=4)
    assert notifier.tick() == []
    clock.advance(days=1)  # day 5: two days before the acknowledgement is due
    assert _kinds(notifier.tick()) == [(case_number, "acknowledge.due_soon")]
    clock.advance(days=2)  # day 7: overdue
    assert _kinds(notifier.tick()) == [(case_number, "acknowledge.overdue")]
    assert messenger.posts[-1][1].text.startswith("⚠ 案件")
    assert notifier.tick() == []

    reports.desk_update("slack:U0DESKA", "u_desk", case_number, message="受け付けました")
    clock.advance(days=11)  # day 18: the 20-day notice is near
    assert _kinds(notifier.tick()) == [(case_number, "decide.due_soon")]
    clock.advance(days=3)  # day 21: the reporter may now go outside the company
    assert _kinds(notifier.tick()) == [(case_number, "decide.overdue")]
    reports.desk_update("slack:U0DESKA", "u_desk", case_number, status="investigating")
    clock.now = START + timedelta(days=88)  # 2027-02-27: feedback due 2027-03-01
    assert _kinds(notifier.tick()) == [(case_number, "feedback.due_soon")]
    clock.now = START + timedelta(days=91)
    assert _kinds(notifier.tick()) == [(case_number, "feedback.overdue")]

    assert {to.id for to, _ in messenger.posts} == {"C0DESK"}
    assert all(reply.buttons[0].action == "report.open" for _, reply in messenger.posts)
    assert all(TEXT not in reply.text for _, reply in messenger.posts)
    assert _actions(database).count("report.desk_notified") == 7


def test_new_report_notice_waits_for_its_random_delay(database):
    clock = Clock()
    reports = _reports(database, _keyring(), clock, notice_delay_min_minutes=0,
                       notice_delay_max_minutes=60)
    notifier = DeskNotifier(reports, {"slack": RecordingMessenger()}, "en")
    _submit(reports)
    [row] = _raw(database, "reports")
    # received_at is kept to the hour, so the delay counts from up to an hour before.
    delay = _aware(row["notify_after"]) - _aware(row["received_at"])
    assert timedelta(0) <= delay <= timedelta(minutes=120)
    clock.now = _aware(row["notify_after"]) - timedelta(seconds=1)
    assert notifier.tick() == []
    clock.advance(seconds=1)
    assert [n.kind for n in notifier.tick()] == ["new"]


def _aware(value):
    from bot.reports.deadlines import aware

    if isinstance(value, str):  # SQLite through a raw connection
        from datetime import datetime

        value = datetime.fromisoformat(value)
    return aware(value)


class FailingMessenger(RecordingMessenger):
    def post(self, to, reply) -> MessageRef:
        raise MessengerError("ratelimited")


def test_undelivered_notice_is_tried_again_next_tick(database):
    reports = _reports(database, _keyring())
    _submit(reports)
    assert DeskNotifier(reports, {"slack": FailingMessenger()}, "en").tick() == []
    assert [n.kind for n in DeskNotifier(reports, {"slack": RecordingMessenger()},
                                         "en").tick()] == ["new"]


def test_closed_cases_are_purged_after_retention_and_the_trail_keeps_that(database):
    clock = Clock()
    reports = _reports(database, _keyring(), clock, retention_days=30)
    case_number, key = _submit(reports)
    reports.desk_update("slack:U0DESKA", "u_desk", case_number, status="closed", note="是正済み")
    notifier = DeskNotifier(reports, {"slack": RecordingMessenger()}, "en")
    clock.advance(days=29)
    notifier.tick()
    assert _raw(database, "reports")[0]["content"] is not None
    clock.advance(days=2)
    notifier.tick()
    [row] = _raw(database, "reports")
    assert row["content"] is None and row["exclusions"] is None and row["purged_at"]
    assert [m["body"] for m in _raw(database, "report_messages")] == [None]
    view = reports.open_as_reporter(case_number, key, "test:U0REPORTER")
    assert view.purged_at is not None and view.content is None and view.status == "closed"
    with database.transaction() as session:
        [event] = session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "report.purged"))
        assert json.loads(event.details)["messages"] == 1


def test_unknown_case_is_refused_for_the_desk_too(database):
    reports = _reports(database, _keyring())
    with pytest.raises(Refusal) as unknown:
        reports.desk_open("slack:U0DESKA", "u_desk", "R-22222222")
    assert unknown.value.reason == "unknown_case"
    with pytest.raises(Refusal) as outsider:
        reports.desk_open("slack:U0OUT", "u_out", "R-22222222")
    assert outsider.value.reason == "not_desk_member"
    assert _actions(database) == ["report.open_refused"] * 2


# -- unlinkable intake ----------------------------------------------------------------------------

def test_a_reports_arrival_is_audited_only_after_its_random_delay_and_once(database):
    """The intake writes no audit row; "report.received" follows 5-15 minutes later, so its
    place and time in the trail say nothing about who used the bot just before."""
    clock = Clock()
    keyring = _keyring()
    reports = _reports(database, keyring, clock, notice_delay_min_minutes=5,
                       notice_delay_max_minutes=15)
    other = _reports(database, keyring, clock, notice_delay_min_minutes=5,
                     notice_delay_max_minutes=15)  # a second instance on the same database
    submitted_at = clock.now
    case_number, _ = _submit(reports)
    assert "report.received" not in _actions(database)
    [row] = _raw(database, "reports")
    delay = _aware(row["notify_after"]) - submitted_at
    assert timedelta(minutes=5) <= delay <= timedelta(minutes=15)
    clock.now = _aware(row["notify_after"]) - timedelta(seconds=1)
    assert reports.record_receipts() == 0 and "report.received" not in _actions(database)
    clock.advance(seconds=1)
    assert reports.record_receipts() + other.record_receipts() == 1
    assert reports.record_receipts() == 0
    assert _actions(database).count("report.received") == 1
    with database.transaction() as session:
        [event] = session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "report.received")).all()
    assert event.subject == f"report:{case_number}" and event.actor == "reporter"
    assert json.loads(event.details) == {"category": "conduct_rules", "named": False,
                                         "lang": "ja", "excluded": 0}


def test_a_reports_stored_time_is_kept_to_the_hour(database):
    clock = Clock()
    clock.now = clock.now.replace(minute=37, second=12, microsecond=345)
    reports = _reports(database, _keyring(), clock)
    _submit(reports)
    [row] = _raw(database, "reports")
    assert _aware(row["received_at"]) == clock.now.replace(minute=0, second=0, microsecond=0)


def test_the_per_person_limit_is_shared_by_instances_and_stores_no_identifier(database):
    keyring = _keyring()
    first = _reports(database, keyring, key_checks_per_person=4)
    second = _reports(database, keyring, key_checks_per_person=4)  # another instance
    case_number, key = _submit(first)
    for service in (first, second, first, second):
        assert service.open_as_reporter("R-23456789", key, "slack:U0PERSISTENT") is None
    assert second.open_as_reporter(case_number, key, "slack:U0PERSISTENT") is None  # limited
    assert first.open_as_reporter(case_number, key, "slack:U0SOMEONE") is not None
    stored = json.dumps(_raw(database, "key_checks"), default=str)
    assert "U0PERSISTENT" not in stored and "slack" not in stored
