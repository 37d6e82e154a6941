"""The report flows as reporters and the desk meet them: commands, forms, buttons, dispatched."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest
import sqlalchemy as sa

from bot.audit import verify
from bot.db import Database
from bot.i18n import t
from bot.messages import FormSubmission, User
from bot.models import AuditEvent
from bot.reports.models import KeyCheck, Report, ReportMessage
from handlers.reports.ids import ANSWER, CHECK, DESK, INTAKE
from tests.bot.reports.helpers import (
    DESK_A,
    DESK_B,
    OUTSIDER,
    RecordingMessenger,
    ReportChat,
    audit_export,
    dump_database,
    report_core,
)


@pytest.fixture
def core(database, make_settings):
    built = report_core(database, make_settings)
    try:
        yield built
    finally:
        built.database.dispose()


def _events(core, action: str | None = None) -> list[AuditEvent]:
    with core.database.transaction() as session:
        query = sa.select(AuditEvent).order_by(AuditEvent.seq)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query))


def _reports(core) -> list[Report]:
    with core.database.transaction() as session:
        return list(session.scalars(sa.select(Report)))


# -- intake -------------------------------------------------------------------------------------


def test_report_command_opens_the_intake_form_with_anonymity_by_default(core):
    chat = ReportChat(core)
    reply = chat.command("通報")
    form = reply.form
    assert form is not None and form.id == INTAKE and form.lang == "ja"
    fields = {f.name: f for f in form.fields}
    assert list(fields) == ["category", "what", "when", "where", "who", "anonymity", "exclude"]
    assert [c.value for c in fields["category"].options] == [
        "conduct_rules", "id_misuse", "separation", "info_leak", "other"]
    assert fields["anonymity"].initial == "anonymous"
    assert fields["what"].required and not fields["who"].required
    assert chat.command("report").form.lang == "en"
    assert chat.command("相談").form.id == INTAKE


def test_bad_input_gets_messages_next_to_the_fields_and_stores_nothing(core):
    chat = ReportChat(core)
    form = chat.command("report").form
    outcome = chat.submit(form, {"category": "gossip", "what": " ", "when": "x" * 201,
                                 "anonymity": "maybe", "exclude": "U0NOBODY"})
    assert set(outcome.errors) == {"category", "what", "when", "anonymity", "exclude"}
    assert "at most 200" in outcome.errors["when"].lower()
    assert "U0NOBODY" in outcome.errors["exclude"]
    assert outcome.reply is None and outcome.followup is None
    excluded_all = chat.submit(form, {"category": "other", "what": "x",
                                      "exclude": "slack:U0DESKA, <@U0DESKB>"})
    assert set(excluded_all.errors) == {"exclude"}
    assert _reports(core) == [] and _events(core) == []


def test_receipt_is_shown_once_in_the_form_reply_and_never_posted(core):
    chat = ReportChat(core)
    form = chat.command("report").form
    outcome = chat.submit(form, {"category": "id_misuse", "what": "ID貸与の疑い"})
    assert outcome.followup is None and not outcome.errors
    fields = dict(outcome.reply.fields)
    case_number, key = fields["Case number"], fields["Secret key"]
    assert case_number.startswith("R-") and len(key) == 24
    messenger = RecordingMessenger()
    assert len(chat.bot.feature("reports").notifier({"slack": messenger}).tick()) == 1
    posted = repr(messenger.posts)
    assert case_number in posted and key not in posted and "ID貸与" not in posted
    [report] = _reports(core)
    assert key not in report.key_hash and report.key_hash.startswith("scrypt$15$8$1$")


def test_anonymous_report_leaves_no_trace_of_the_reporter(core, caplog):
    """Submit, read and answer as a known user; then search everything the bot keeps."""
    chat = ReportChat(core)
    messenger = RecordingMessenger()
    with caplog.at_level(logging.DEBUG):
        case_number, key = chat.report(what="販売部門の端末で託送の顧客情報を見た",
                                       who="営業二課", exclude="U0DESKB")
        chat.bot.feature("reports").notifier({"slack": messenger}).tick()
        desk = chat.desk_form(case_number, DESK_A)
        chat.submit(desk, {"message": "いつ頃のことですか？"}, DESK_A)
        mailbox = chat.check(case_number, key).reply.form
        chat.submit(mailbox, {"message": "先週の金曜日です"})
        chat.check(case_number, "WRONG-KEY0-0000-0000-0000")
    identity = ["U0REPORTER9", "Taro Whistle", core.keyring.pseudonym("slack", "U0REPORTER9")]
    content = ["販売部門の端末", "営業二課", "先週の金曜日", key, key.replace("-", "")]
    stored = dump_database(core.database)
    logs = caplog.text + "".join(r.getMessage() for r in caplog.records)
    trail = audit_export(core)
    for secret in identity:
        for where, text in (("db", stored), ("audit", trail), ("logs", logs),
                            ("messages", repr(messenger.posts)), ("desk", desk.intro)):
            assert secret not in text, (secret, where)
    for secret in content:
        assert secret not in stored and secret not in trail and secret not in logs, secret
    # ...while the desk member who wrote is accountable under their pseudonym.
    assert core.keyring.pseudonym("slack", "U0DESKA") in trail
    assert "Reporter: anonymous" in desk.intro and "excluded by the reporter: 1" in desk.intro


def test_named_consultation_shows_the_name_to_the_desk_only(core):
    chat = ReportChat(core)
    case_number, _ = chat.report(anonymity="named")
    intro = chat.desk_form(case_number, DESK_A).intro
    assert "Taro Whistle (slack:U0REPORTER9) (named)" in intro
    [report] = _reports(core)
    assert report.named and "Taro" not in (report.content or "")
    assert "U0REPORTER9" not in audit_export(core)


def test_database_down_means_an_error_and_no_receipt(core, caplog):
    down = Database("postgresql://nobody@127.0.0.1:9/none")
    chat = ReportChat(dataclasses.replace(core, database=down))
    form = chat.command("report").form
    with caplog.at_level(logging.DEBUG):
        outcome = chat.submit(form, {"category": "other", "what": "保存されない通報本文"})
    assert outcome.reply is None and outcome.followup is None
    assert "no case number was issued" in outcome.errors["what"]
    assert "保存されない通報本文" not in caplog.text
    assert "report not stored (OperationalError)" in caplog.text
    assert _reports(core) == []


# -- the two-way mailbox ------------------------------------------------------------------------


def test_full_two_way_exchange(core):
    chat = ReportChat(core)
    case_number, key = chat.report(category="separation", what="NW端末が販売側の島に置かれている")

    desk = chat.desk_form(case_number, DESK_A)
    assert desk.id == DESK and "NW端末が販売側の島" in desk.intro
    saved = chat.submit(desk, {"message": "どのフロアですか？", "status": "investigating"}, DESK_A)
    assert dict(saved.reply.fields)["Change the status"] == "Under investigation"

    opened = chat.check(case_number.lower().replace("-", " "), key.lower())
    mailbox = opened.reply.form
    assert mailbox.id == ANSWER and "Status: Under investigation" in mailbox.intro
    assert "Desk: どのフロアですか？" in mailbox.intro
    sent = chat.submit(mailbox, {"message": "3階の東側です"})
    assert sent.reply.text == "Sent to the desk."

    desk = chat.desk_form(case_number, DESK_B)
    assert "Reporter: 3階の東側です" in desk.intro
    closing = chat.submit(desk, {"status": "closed"}, DESK_B)
    assert "needs a reason or outcome" in closing.errors["note"]
    outcome = "端末を移設し、全員に再教育を行いました"
    chat.submit(desk, {"status": "closed", "note": outcome}, DESK_B)

    final = chat.check(case_number, key).reply.form.intro
    assert "Status: Closed" in final
    assert f"Desk (Outcome): {outcome}" in final
    [report] = _reports(core)
    assert report.status == "closed" and report.acknowledged_at and report.decided_at
    assert report.feedback_at and report.closed_at
    actions = [e.action for e in _events(core)]
    assert actions.count("report.opened") == 2 and actions.count("report.read_by_reporter") == 2
    assert "report.reporter_wrote" in actions and actions.count("report.desk_wrote") == 2
    assert all(e.actor == "reporter" for e in _events(core, "report.reporter_wrote"))
    with core.database.transaction() as session:
        assert verify(session, core.keyring).ok


def test_answer_form_is_bound_to_the_user_who_opened_it_and_expires(core):
    chat = ReportChat(core)
    case_number, key = chat.report()
    mailbox = chat.check(case_number, key).reply.form
    stolen = chat.submit(mailbox, {"message": "なりすまし"}, User("slack", "U0OTHER"))
    assert "expired" in stolen.reply.text
    chat.clock.advance(minutes=31)
    late = chat.submit(mailbox, {"message": "遅すぎた返信"})
    assert "expired" in late.reply.text
    with core.database.transaction() as session:
        assert session.scalars(sa.select(ReportMessage)).all() == []
    assert chat.submit(chat.check(case_number, key).reply.form, {"message": ""}).reply.text \
        == "Nothing was sent."


def test_wrong_key_and_unknown_case_get_the_same_answer(core):
    chat = ReportChat(core)
    case_number, key = chat.report()
    wrong = chat.check(case_number, "AAAA-BBBB-CCCC-DDDD-EEEE")
    unknown = chat.check("R-ZZZZZZZZ", key)
    garbage = chat.check("not a case", key)
    assert wrong.errors == unknown.errors == garbage.errors
    assert set(wrong.errors) == {"case_number", "key"}
    assert "did not open a case" in wrong.errors["case_number"]
    assert wrong.reply is unknown.reply is None


def test_wrong_keys_never_open_the_case_nor_lock_out_its_reporter(core):
    chat = ReportChat(core)
    case_number, key = chat.report()
    bot = chat.bot
    guessers = [User("slack", f"U0GUESS{i}") for i in range(40)]  # so no one is limited alone
    for attempt in range(200):  # each costs a real scrypt derivation, about 0.1 s
        outcome = bot.dispatcher.submit(FormSubmission(
            guessers[attempt % len(guessers)], CHECK,
            {"case_number": case_number, "key": f"{attempt:04d}-AAAA-BBBB-CCCC-DDDD"}, "en"))
        assert outcome.reply is None and "did not open" in outcome.errors["case_number"]
    rejected = _events(core, "report.key_rejected")
    assert len(rejected) == 200 and {e.actor for e in rejected} == {"anonymous"}
    assert {e.subject for e in rejected} == {f"report:{case_number}"}
    # No lock: the reporter opens the case at once, whatever strangers tried.
    assert chat.check(case_number, key).reply.form is not None
    assert "U0GUESS" not in dump_database(core.database) + audit_export(core)


def test_one_person_over_the_limit_is_refused_like_a_wrong_key_until_the_window_passes(core):
    chat = ReportChat(core)
    case_number, key = chat.report()
    for number in range(10):
        chat.check(f"R-2345678{number % 8 + 2}", "AAAA-BBBB-CCCC-DDDD-EEEE")
    limited = chat.check(case_number, key)
    assert limited.reply is None  # the right key, but this person is over the limit
    wrong = chat.check(case_number, "AAAA-BBBB-CCCC-DDDD-EEEE", User("slack", "U0OTHER1"))
    assert limited.errors == wrong.errors
    assert chat.check(case_number, key, User("slack", "U0SOMEONEELSE")).reply is not None
    chat.clock.advance(minutes=16)
    assert chat.check(case_number, key).reply is not None
    with core.database.transaction() as session:
        buckets = list(session.scalars(sa.select(KeyCheck.bucket)))
    assert buckets and not any("U0" in bucket or "slack" in bucket for bucket in buckets)


def test_the_four_refusals_answer_alike_and_each_costs_one_key_derivation(core):
    from bot.reports import receipts

    chat = ReportChat(core)
    case_number, key = chat.report()
    limited_user = User("slack", "U0LIMITED")
    for _ in range(10):
        chat.check("R-23456789", "AAAA-BBBB-CCCC-DDDD-EEEE", limited_user)
    attempts = {
        "wrong key": (case_number, "AAAA-BBBB-CCCC-DDDD-EEEE", User("slack", "U0A")),
        "unknown case": ("R-23456789", key, User("slack", "U0B")),
        "malformed": ("not a case", key, User("slack", "U0C")),
        "limited": (case_number, key, limited_user),
    }
    answers, costs, writes = {}, {}, {}
    for name, (number, typed, user) in attempts.items():
        before, events = receipts.derivations(), len(_events(core, "report.key_rejected"))
        answers[name] = chat.check(number, typed, user).errors
        costs[name] = receipts.derivations() - before
        writes[name] = len(_events(core, "report.key_rejected")) - events
    assert len({repr(a) for a in answers.values()}) == 1, answers
    assert set(costs.values()) == {1}, costs
    assert set(writes.values()) == {1}, writes


# -- desk access --------------------------------------------------------------------------------


def test_excluded_member_and_non_member_are_refused_and_each_refusal_audited(core):
    chat = ReportChat(core)
    case_number, _ = chat.report(exclude="slack:U0DESKB")
    outsider = chat.act("report.open", case_number, OUTSIDER)
    excluded = chat.act("report.open", case_number, DESK_B)
    excluded_by_command = chat.command(f"case {case_number}", DESK_B)
    for reply in (outsider, excluded, excluded_by_command):
        assert reply.form is None and reply.text == t("desk.refused", reply.lang)
    assert chat.act("report.open", case_number, DESK_A).form.id == DESK
    # A forged desk submission by the excluded member is refused as well.
    forged = chat.submit(chat.desk_form(case_number, DESK_A), {"message": "x"}, DESK_B)
    assert forged.reply.text == "You cannot open this case."

    refusals = [(e.actor, json.loads(e.details)["reason"]) for e in
                _events(core, "report.open_refused")]
    assert refusals == [
        (core.keyring.pseudonym("slack", "U0OUTSIDER"), "not_desk_member"),
        (core.keyring.pseudonym("slack", "U0DESKB"), "excluded"),
        (core.keyring.pseudonym("slack", "U0DESKB"), "excluded"),
        (core.keyring.pseudonym("slack", "U0DESKB"), "excluded"),
    ]
    assert [e.actor for e in _events(core, "report.opened")] == [
        core.keyring.pseudonym("slack", "U0DESKA")] * 2
    with core.database.transaction() as session:
        assert session.scalars(sa.select(ReportMessage)).all() == []


def test_a_non_member_typing_a_case_number_gets_the_receipt_form(core):
    chat = ReportChat(core)
    case_number, _ = chat.report()
    form = chat.command(f"case {case_number.lower()}", OUTSIDER).form
    assert form.id == CHECK and form.fields[0].initial == case_number
    assert _events(core, "report.opened") == []


def test_desk_list_shows_open_cases_without_content_and_hides_exclusions(core):
    chat = ReportChat(core)
    seen, _ = chat.report(what="見える案件の本文")
    hidden, _ = chat.report(exclude="U0DESKB")
    listing = chat.command("cases", DESK_B)
    assert seen in listing.text and hidden not in listing.text
    assert "見える案件の本文" not in listing.text
    # each "Open" carries its case and the language it was listed in, so the case opens in it
    assert [b.value for b in listing.buttons] == [f"{seen}|{listing.lang}"]
    assert hidden in chat.command("cases", DESK_A).text
    refused = chat.command("cases", OUTSIDER)
    assert refused.text == "Only desk members can list the cases."
    assert [json.loads(e.details)["reason"] for e in _events(core, "report.list_refused")] == [
        "not_desk_member"]


def test_status_moves_only_forward_and_messages_acknowledge(core):
    chat = ReportChat(core)
    case_number, _ = chat.report()
    desk = chat.desk_form(case_number, DESK_A)
    assert [c.value for c in desk.fields[1].options] == [
        "acknowledged", "investigating", "not_investigated", "closed"]
    assert chat.submit(desk, {}, DESK_A).reply.text == "Nothing changed."
    chat.submit(desk, {"message": "受け付けました"}, DESK_A)
    [report] = _reports(core)
    assert report.status == "acknowledged" and report.acknowledged_at is not None
    assert report.decided_at is None
    chat.submit(desk, {"status": "not_investigated", "note": "既に是正済みのため"}, DESK_A)
    again = chat.submit(desk, {"status": "acknowledged"}, DESK_A)
    assert "cannot move" in again.errors["status"]
    [report] = _reports(core)
    assert report.status == "not_investigated" and report.decided_at and report.feedback_at
    changes = [(json.loads(e.before)["status"], json.loads(e.after)["status"])
               for e in _events(core, "report.status_changed")]
    assert changes == [("received", "acknowledged"), ("acknowledged", "not_investigated")]
