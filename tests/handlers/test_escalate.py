"""The employee's side of an escalation, through the Router with a recording messenger."""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa

from bot.core import Core
from bot.escalations.models import Escalation, EscalationMessage
from bot.escalations.views import ANSWER, CLAIM, ESCALATE, REPLY
from bot.messages import IncomingMessage
from bot.models import AuditEvent, Question
from bot.wiring import assemble
from handlers.ask.ids import FEEDBACK
from tests.chat import TestChat
from tests.handlers.messenger import (
    DESK_CHANNEL,
    EMPLOYEE,
    NETWORK_CHANNEL,
    OUTSIDER,
    SATO,
    URGENT_CHANNEL,
    DeskHarness,
    button,
)

UNANSWERABLE = "社員食堂の今日のメニューは？"


def _rows(core: Core, model):  # type: ignore[no-untyped-def]
    with core.database.transaction() as session:
        return list(session.execute(sa.select(model)).scalars())


def _escalate(desk: DeskHarness, text: str = UNANSWERABLE, **values: str) -> Escalation:
    answer = desk.say(text)
    form = desk.press(button(answer, ESCALATE), EMPLOYEE)
    assert form is not None
    outcome = desk.submit(form, EMPLOYEE, **values)
    assert not outcome.errors, outcome.errors
    return _rows(desk.bot.core, Escalation)[-1]


def test_answers_and_abstentions_offer_the_desk_only_when_it_is_configured(desk, core):
    abstained = desk.say(UNANSWERABLE)
    answered = desk.say("IDを他社の人に貸してもいい？")
    for reply in (abstained, answered):
        assert [b.label for b in reply.buttons if b.action == ESCALATE] == ["窓口に相談する"]
    # Feedback stays last; the desk button sits before it.
    assert [b.action for b in answered.buttons][-3:] == [ESCALATE, FEEDBACK, FEEDBACK]
    english = desk.say("What is on the cafeteria menu today?")
    assert button(english, ESCALATE).label == "Ask the compliance desk"
    # Without desk.default_channel there is nowhere to send it, so no button.
    plain = TestChat(core).push(UNANSWERABLE)
    assert not any(b.action == ESCALATE for b in plain.buttons)
    refusal = assemble(core).dispatcher.command(IncomingMessage(EMPLOYEE, "desk 食堂のメニュー"))
    assert "設定されていません" in refusal.text and refusal.form is None


def test_the_button_opens_a_named_form_prefilled_with_the_question(desk):
    answer = desk.say(UNANSWERABLE)
    reply = desk.press(button(answer, ESCALATE), EMPLOYEE)
    form = reply.form
    assert form is not None and form.lang == "ja"
    assert [(f.name, f.kind, f.required) for f in form.fields] == [
        ("question", "multiline", True), ("context", "multiline", False),
        ("urgency", "select", True)]
    assert form.fields[0].initial == UNANSWERABLE
    assert [c.value for c in form.fields[2].options] == ["low", "normal", "high"]
    assert form.fields[2].initial == "normal"
    assert "至急 2時間" in form.fields[2].hint
    # Named, and says where anonymous reports go, spelled as the asker's platform spells it
    # (this test platform has no slash commands: the word alone, in the asker's language).
    assert "お名前付き" in form.intro and "「通報」" in form.intro
    [question] = _rows(desk.bot.core, Question)
    assert form.state == str(question.id)


def test_someone_else_pressing_the_button_gets_an_empty_form(desk):
    answer = desk.say(UNANSWERABLE)
    form = desk.press(button(answer, ESCALATE), OUTSIDER).form
    assert form.fields[0].initial is None and form.state == ""


def test_comply_desk_opens_the_form_with_the_rest_of_the_command(desk):
    form = desk.command("desk Can I forward a customer's complaint to the retail team?").form
    assert form.lang == "en" and form.state == ""
    assert form.fields[0].initial == "Can I forward a customer's complaint to the retail team?"
    assert 'use "report"' in form.intro  # spelled as the asker's platform spells it
    japanese = desk.command("窓口").form
    assert japanese.lang == "ja" and japanese.fields[0].initial is None


def test_submission_creates_a_named_escalation_with_the_bots_attempt(desk, caplog):
    core = desk.bot.core
    with caplog.at_level(logging.DEBUG):
        answer = desk.say("IDを他社の人に貸してもいい？")
        form = desk.press(button(answer, ESCALATE), EMPLOYEE)
        outcome = desk.submit(form, EMPLOYEE, context="隣の課の人に頼まれた")
    [question] = _rows(core, Question)
    [escalation] = _rows(core, Escalation)
    assert escalation.requester == core.pseudonym(EMPLOYEE)
    assert (escalation.platform, escalation.dm_user) == ("test", EMPLOYEE.id)
    assert escalation.question_id == question.id
    assert (escalation.bot_entry_id, escalation.bot_score) == (question.entry_id, question.score)
    assert json.loads(escalation.topics) == ["id-password-sharing"]
    assert escalation.category == "ids-and-passwords"
    assert (escalation.status, escalation.urgency, escalation.route) == ("open", "normal",
                                                                          "default")
    assert escalation.context == "隣の課の人に頼まれた"
    # The employee is told the reference and when to expect an answer (1 business day later).
    assert outcome.reply is not None and f"#{escalation.id}" in outcome.reply.text
    assert "11/25 10:00" in outcome.reply.text
    event = _rows(core, AuditEvent)[-1]
    assert (event.action, event.actor, event.subject) == (
        "escalation.created", escalation.requester, f"escalation:{escalation.id}")
    assert json.loads(event.after)["status"] == "open"
    assert json.loads(event.details)["bot_entry_id"] == question.entry_id
    everything = caplog.text + repr([(e.actor, e.details, e.after) for e in _rows(core,
                                                                                  AuditEvent)])
    for secret in (EMPLOYEE.id, EMPLOYEE.name, "他社の人に貸して", "隣の課"):
        assert secret not in everything


def test_the_triage_card_goes_to_the_routed_channel(desk):
    escalation = _escalate(desk)
    [card] = desk.messenger.top_level(DESK_CHANNEL)
    assert (escalation.triage_channel, escalation.triage_message) == (
        card.ref.channel, card.ref.id)
    reply = card.reply
    assert reply.title == f"相談 #{escalation.id} · 通常 · 未対応"
    assert reply.text == UNANSWERABLE
    fields = dict(reply.fields)
    assert fields["相談者"] == "Taro Yamada"
    assert fields["初回回答"] == "11/25 10:00まで"
    assert fields["解決"] == "11/27 10:00まで"
    assert fields["ボットの回答"].startswith("回答なし")
    assert [b.action for b in reply.buttons] == [CLAIM, REPLY, "desk.reassign", "desk.resolve"]
    assert {b.value for b in reply.buttons} == {str(escalation.id)}


def test_routing_by_topic_keyword_and_urgency(desk):
    by_topic = _escalate(desk, "営業に使わなければ新電力のお客さま情報を見てもいい？")
    by_keyword = _escalate(desk, "託送料金の請求書の宛先を変えたい")
    by_urgency = _escalate(desk, UNANSWERABLE, urgency="high")
    assert (by_topic.channel, by_topic.route) == (f"test:{NETWORK_CHANNEL}", "routes[0]")
    assert (by_keyword.channel, by_keyword.route) == (f"test:{NETWORK_CHANNEL}", "routes[1]")
    assert (by_urgency.channel, by_urgency.route) == (f"test:{URGENT_CHANNEL}", "routes[2]")
    assert len(desk.messenger.top_level(NETWORK_CHANNEL)) == 2
    assert len(desk.messenger.top_level(URGENT_CHANNEL)) == 1


def test_form_errors_keep_the_form_open_and_store_nothing(desk):
    form = desk.command("desk")
    outcome = desk.submit(form, EMPLOYEE, question="  ", urgency="whenever")
    assert set(outcome.errors) == {"question", "urgency"}
    too_long = desk.submit(form, EMPLOYEE, question="a" * 2001)
    assert "2000" in too_long.errors["question"]
    assert _rows(desk.bot.core, Escalation) == []


def test_a_failed_post_is_kept_and_posted_by_the_sweep(desk):
    desk.messenger.failing = True
    escalation = _escalate(desk)
    assert escalation.triage_message is None
    desk.messenger.failing = False
    result = desk.desk.sweep()
    assert result.published == [escalation.id]
    assert len(desk.messenger.top_level(DESK_CHANNEL)) == 1
    assert desk.desk.sweep().published == []


def test_the_requester_answers_the_desk_into_the_triage_thread(desk):
    escalation = _escalate(desk)
    [card] = desk.messenger.top_level(DESK_CHANNEL)
    form = desk.press(button(card.reply, REPLY), SATO)
    desk.submit(form, SATO, text="どの建物の食堂ですか？")
    [dm] = desk.messenger.dms(EMPLOYEE)
    answer_form = desk.press(button(dm.reply, ANSWER), EMPLOYEE)
    outcome = desk.submit(answer_form, EMPLOYEE, text="本社ビルです")
    assert outcome.reply is not None and f"#{escalation.id}" in outcome.reply.text
    thread = desk.messenger.thread(card.ref)
    assert [r.text for r in thread][-1] == "💬 相談者からの返信:\n本社ビルです"
    # ...and a plain reply in the DM thread does the same.
    ack = desk.say("2階です", channel=dm.ref.channel, thread=dm.ref.id)
    assert ack.ephemeral and f"#{escalation.id}" in ack.text
    assert desk.messenger.thread(card.ref)[-1].text.endswith("2階です")
    messages = _rows(desk.bot.core, EscalationMessage)
    assert [(m.role, m.text) for m in messages] == [
        ("desk", "どの建物の食堂ですか？"), ("requester", "本社ビルです"), ("requester", "2階です")]
    # A thread that is not an escalation's is an ordinary question.
    other = desk.say(UNANSWERABLE, channel=dm.ref.channel, thread="999.0")
    assert other.title == "お答えできません"


def test_only_the_requester_may_answer(desk):
    _escalate(desk)
    [card] = desk.messenger.top_level(DESK_CHANNEL)
    desk.submit(desk.press(button(card.reply, REPLY), SATO), SATO, text="詳細を教えてください")
    [dm] = desk.messenger.dms(EMPLOYEE)
    refused = desk.press(button(dm.reply, ANSWER), OUTSIDER)
    assert refused.ephemeral and refused.form is None
    event = _rows(desk.bot.core, AuditEvent)[-1]
    assert event.action == "escalation.refused"
    assert event.actor == desk.bot.core.pseudonym(OUTSIDER)
    # The outsider's message in someone else's thread is not taken as the requester's answer.
    desk.say("なりすまし", OUTSIDER, channel=dm.ref.channel, thread=dm.ref.id)
    assert all("なりすまし" not in r.text for r in desk.messenger.thread(card.ref))


def test_nul_characters_are_dropped_not_stored(desk):
    """PostgreSQL text cannot hold NUL; a pasted one must not turn a question into an error."""
    form = desk.command("desk")
    assert not desk.submit(form, EMPLOYEE, question="社員食堂\x00のメニュー",
                           context="\x00").errors
    [escalation] = _rows(desk.bot.core, Escalation)
    assert (escalation.question, escalation.context) == ("社員食堂のメニュー", "")
    assert desk.say("x", channel="D-1", thread="1\x00").title  # an ordinary question again
