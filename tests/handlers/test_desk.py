"""The desk's side of escalations through the Router: triage, authorisation, SLAs, start-up."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
import sqlalchemy as sa

from bot.audit import verify
from bot.config import ConfigError
from bot.core import Core, build_core
from bot.escalations.models import Escalation, EscalationMessage
from bot.escalations.views import (
    ANSWER,
    CLAIM,
    ESCALATE,
    REASSIGN,
    REOPEN,
    REPLY,
    REPLY_FORM,
    RESOLVE,
)
from bot.messages import Button, FormSubmission, MessageRef
from bot.models import AuditEvent
from bot.scheduler import JobScheduler
from tests.handlers.messenger import (
    DESK_CHANNEL,
    EMPLOYEE,
    LEAD_CHANNEL,
    NETWORK_CHANNEL,
    OUTSIDER,
    SATO,
    SUZUKI,
    URGENT_CHANNEL,
    DeskHarness,
    Posted,
    RecordingMessenger,
    button,
    jst,
)

UNANSWERABLE = "社員食堂の今日のメニューは？"


def _rows(core: Core, model):  # type: ignore[no-untyped-def]
    with core.database.transaction() as session:
        query = sa.select(model).order_by(*model.__table__.primary_key.columns)
        return list(session.execute(query).scalars())


def _escalation(core: Core, number: int) -> Escalation:
    with core.database.transaction() as session:
        return session.get(Escalation, number)


def _escalate(desk: DeskHarness, text: str = UNANSWERABLE, **values: str) -> Posted:
    """The employee escalates; returns the triage card as posted."""
    answer = desk.say(text)
    outcome = desk.submit(desk.press(button(answer, ESCALATE), EMPLOYEE), EMPLOYEE, **values)
    assert not outcome.errors, outcome.errors
    return desk.messenger.posts[-1]


def _events(core: Core, number: int) -> list[AuditEvent]:
    return [e for e in _rows(core, AuditEvent) if e.subject == f"escalation:{number}"]


def test_end_to_end_from_an_unanswered_question_to_a_resolved_escalation(desk):
    core, messenger, clock = desk.bot.core, desk.messenger, desk.clock
    # 1. The bot cannot answer; the employee asks the desk from the abstention.
    abstention = desk.say(UNANSWERABLE)
    assert abstention.title == "お答えできません"
    form = desk.press(button(abstention, ESCALATE), EMPLOYEE)
    desk.submit(form, EMPLOYEE, context="来客に聞かれました")
    [escalation] = _rows(core, Escalation)
    number = escalation.id
    # 2. One triage message in the default channel.
    [card] = messenger.top_level(DESK_CHANNEL)
    assert card.reply.title == f"相談 #{number} · 通常 · 未対応"
    assert "来客に聞かれました" in card.reply.text
    # 3. A desk member claims it: the same message now shows the owner and since when.
    clock.advance(minutes=5)
    assert desk.press(button(card.reply, CLAIM), SATO, card.ref) is None
    claimed = messenger.shown(card.ref)
    assert claimed.title == f"相談 #{number} · 通常 · 対応中"
    assert dict(claimed.fields)["担当"] == "佐藤（11/24 10:05から）"
    assert not any(b.action == CLAIM for b in claimed.buttons)
    # 4. ...and replies: the employee gets a DM with a way to answer back.
    clock.advance(minutes=25)
    reply_form = desk.press(button(claimed, REPLY), SATO, card.ref)
    assert reply_form.form.id == REPLY_FORM and reply_form.form.state == str(number)
    outcome = desk.submit(reply_form, SATO, text="食堂のメニューは総務部のページにあります。")
    assert outcome.errors == {} and outcome.reply is None
    [dm] = messenger.dms(EMPLOYEE)
    assert dm.to.thread is None and dm.reply.lang == "ja"
    assert dm.reply.text == "食堂のメニューは総務部のページにあります。"
    assert dm.reply.title == f"窓口からの回答（#{number}）"
    assert dict(dm.reply.fields)["担当"] == "佐藤"
    assert dict(messenger.shown(card.ref).fields)["初回回答"] == "✅ 11/24 10:30"
    # 5. The employee answers; it lands in the triage message's thread.
    clock.advance(minutes=10)
    answer_form = desk.press(button(dm.reply, ANSWER), EMPLOYEE)
    desk.submit(answer_form, EMPLOYEE, text="ありがとうございました")
    assert [r.text for r in messenger.thread(card.ref)] == [
        "↪ 佐藤が相談者に回答しました:\n食堂のメニューは総務部のページにあります。",
        "💬 相談者からの返信:\nありがとうございました",
    ]
    # 6. The desk resolves it; the message shows the final state with only Reopen left.
    clock.advance(minutes=5)
    assert desk.press(button(messenger.shown(card.ref), RESOLVE), SATO, card.ref) is None
    final = messenger.shown(card.ref)
    assert final.title == f"相談 #{number} · 通常 · 解決済み"
    assert dict(final.fields)["担当"] == "佐藤が解決（11/24 10:45）"
    assert dict(final.fields)["解決"] == "✅ 11/24 10:45"
    assert [b.action for b in final.buttons] == [REOPEN]
    assert len(messenger.top_level(DESK_CHANNEL)) == 1  # updated in place, never re-posted
    # 7. Every step is in the audit trail with its actor, and state changes with before/after.
    employee, sato = core.pseudonym(EMPLOYEE), core.pseudonym(SATO)
    steps = [(e.action, e.actor, json.loads(e.before) if e.before else None,
              json.loads(e.after) if e.after else None) for e in _events(core, number)]
    assert [(action, actor) for action, actor, _, _ in steps] == [
        ("escalation.created", employee), ("escalation.claimed", sato),
        ("escalation.replied", sato), ("escalation.requester_answered", employee),
        ("escalation.resolved", sato)]
    created, claim, reply, _, resolve = steps
    assert created[3] == {"status": "open", "owner": None, "first_response_at": None,
                          "resolved_at": None}
    assert (claim[2]["status"], claim[3]["status"], claim[3]["owner"]) == ("open", "claimed",
                                                                           sato)
    assert reply[2]["first_response_at"] is None
    assert reply[3]["first_response_at"].startswith("2026-11-24T01:30")
    assert (resolve[2]["status"], resolve[3]["status"]) == ("claimed", "resolved")
    with core.database.transaction() as session:
        assert verify(session, core.keyring).ok
    stored = _escalation(core, number)
    assert (stored.status, stored.owner) == ("resolved", "test:DESK1")


def test_a_non_member_pressing_claim_is_refused_audited_and_changes_nothing(desk):
    core = desk.bot.core
    card = _escalate(desk)
    number = int(card.reply.buttons[0].value)
    before = _escalation(core, number)
    refusal = desk.press(button(card.reply, CLAIM), OUTSIDER, card.ref)
    assert refusal is not None and refusal.ephemeral
    assert "窓口の担当者だけ" in refusal.text
    after = _escalation(core, number)
    assert (after.status, after.owner, after.owner_since) == (before.status, None, None)
    assert desk.messenger.updates == []
    event = _events(core, number)[-1]
    assert (event.action, event.actor) == ("escalation.refused", core.pseudonym(OUTSIDER))
    assert json.loads(event.details) == {"action": "claim"}
    assert OUTSIDER.id not in event.details + event.actor


def test_every_desk_entry_point_refuses_outsiders(desk):
    core = desk.bot.core
    card = _escalate(desk)
    number = card.reply.buttons[0].value
    for action in (REPLY, REASSIGN, RESOLVE, REOPEN):
        reply = desk.press(Button("x", action, number), OUTSIDER)
        assert reply.ephemeral and reply.form is None, action
    # A forged form submission does not get through either.
    forged = desk.bot.dispatcher.submit(
        FormSubmission(OUTSIDER, REPLY_FORM, {"text": "hi"}, number))
    assert forged.reply is not None and forged.reply.ephemeral
    assert desk.messenger.dms(EMPLOYEE) == []
    refused = [json.loads(e.details)["action"] for e in _events(core, int(number))
               if e.action == "escalation.refused"]
    assert refused == ["reply", "reassign", "resolve", "reopen", "reply"]
    assert _escalation(core, int(number)).status == "open"


def test_reassign_to_another_member_and_not_to_anyone_else(desk):
    core = desk.bot.core
    card = _escalate(desk)
    desk.press(button(card.reply, CLAIM), SATO, card.ref)
    form = desk.press(button(desk.messenger.shown(card.ref), REASSIGN), SATO, card.ref)
    owner = form.form.fields[0]
    assert [(c.value, c.label) for c in owner.options] == [("test:DESK1", "佐藤"),
                                                           ("test:DESK2", "鈴木")]
    assert owner.initial == "test:DESK1"
    bad = desk.submit(form, SATO, owner="test:U0OTHER")
    assert bad.reply is not None and bad.reply.ephemeral
    desk.clock.advance(hours=1)
    assert desk.submit(form, SATO, owner="test:DESK2").reply is None
    assert dict(desk.messenger.shown(card.ref).fields)["担当"] == "鈴木（11/24 11:00から）"
    event = _rows(core, AuditEvent)[-1]
    assert event.action == "escalation.reassigned" and event.actor == core.pseudonym(SATO)
    assert json.loads(event.before)["owner"] == core.pseudonym(SATO)
    assert json.loads(event.after)["owner"] == core.pseudonym(SUZUKI)


def test_resolve_reopen_and_what_is_refused_on_the_way(desk):
    core = desk.bot.core
    card = _escalate(desk)
    value = card.reply.buttons[0].value
    # Resolving an unclaimed escalation makes the resolver its owner.
    assert desk.press(Button("x", RESOLVE, value), SUZUKI) is None
    assert "すでに解決済み" in desk.press(Button("x", RESOLVE, value), SATO).text
    assert "再オープン" in desk.press(Button("x", REPLY, value), SATO).text
    assert desk.press(Button("x", REOPEN, value), SATO) is None
    reopened = _escalation(core, int(value))
    assert (reopened.status, reopened.owner, reopened.resolved_at) == ("claimed", "test:DESK2",
                                                                      None)
    assert "解決済みではありません" in desk.press(Button("x", REOPEN, value), SATO).text
    assert "すでにあなたが担当" in desk.press(Button("x", CLAIM, value), SUZUKI).text
    assert [b.action for b in desk.messenger.shown(card.ref).buttons] == [REPLY, REASSIGN,
                                                                         RESOLVE]
    assert "見つかりません" in desk.press(Button("x", CLAIM, "9999"), SATO).text
    assert "無効" in desk.press(Button("x", CLAIM, "abc"), SATO).text
    actions = [e.action for e in _events(core, int(value))]
    assert actions == ["escalation.created", "escalation.resolved", "escalation.reopened"]


def test_a_reply_that_cannot_be_delivered_is_not_recorded(desk):
    core = desk.bot.core
    card = _escalate(desk)
    form = desk.press(button(card.reply, REPLY), SATO, card.ref)
    desk.messenger.failing = True
    outcome = desk.submit(form, SATO, text="回答です")
    assert outcome.reply is not None and "届けられませんでした" in outcome.reply.text
    stored = _escalation(core, int(card.reply.buttons[0].value))
    assert stored.first_response_at is None and stored.status == "open"
    assert _rows(core, EscalationMessage) == []
    empty = desk.submit(form, SATO, text=" ")
    assert set(empty.errors) == {"text"}


def test_later_replies_continue_the_dm_thread(desk):
    card = _escalate(desk)
    for text in ("一つ目", "二つ目"):
        form = desk.press(button(desk.messenger.shown(card.ref), REPLY), SATO, card.ref)
        desk.submit(form, SATO, text=text)
    first, second = desk.messenger.dms(EMPLOYEE)
    assert first.to.thread is None and second.to.thread == first.ref.id
    stored = _escalation(desk.bot.core, int(card.reply.buttons[0].value))
    assert (stored.dm_channel, stored.dm_thread) == (first.ref.channel, first.ref.id)


def test_sla_breach_is_reposted_to_the_lead_once(desk):
    core, messenger, clock = desk.bot.core, desk.messenger, desk.clock
    card = _escalate(desk, urgency="high")  # Tue 10:00: respond by 12:00, resolve by Wed 10:00
    assert card.to.id == URGENT_CHANNEL
    number = int(card.reply.buttons[0].value)
    assert desk.desk.sweep(jst(2026, 11, 24, 10, 59)).warned == []
    clock.advance(hours=1)  # 11:00: one business hour to the first-response target
    assert desk.desk.sweep().warned == [(number, "first_response")]
    [warning] = messenger.top_level(LEAD_CHANNEL)
    assert warning.reply.title == f"⏰ SLA期限間近: 相談 #{number}"
    assert warning.reply.buttons == []  # the triage message stays the one place to act
    assert "初回回答: ⏰ 11/24 12:00まで（あと1時間0分）" in warning.reply.text
    assert f"test:{URGENT_CHANNEL}" in warning.reply.text
    assert dict(messenger.shown(card.ref).fields)["初回回答"] == "⏰ 11/24 12:00まで"
    clock.advance(hours=2)  # 13:00, breached: already re-posted, so not again
    assert desk.desk.sweep().warned == []
    # The resolution target is warned separately, in business time: at Tuesday's closing
    # (17:00) one business hour is left before Wednesday 10:00.
    assert desk.desk.sweep(jst(2026, 11, 24, 16, 59)).warned == []
    assert desk.desk.sweep(jst(2026, 11, 24, 17, 0)).warned == [(number, "resolution")]
    assert dict(messenger.shown(card.ref).fields)["初回回答"] == "⚠ 期限超過（11/24 12:00）"
    assert len(messenger.top_level(LEAD_CHANNEL)) == 2
    assert desk.desk.sweep(jst(2026, 11, 26, 9, 0)).warned == []
    events = [e for e in _events(core, number) if e.action == "escalation.sla_warned"]
    assert [(e.actor, json.loads(e.details)["targets"]) for e in events] == [
        ("system", ["first_response"]), ("system", ["resolution"])]
    assert json.loads(events[0].before) == {"warned_first_response": False,
                                            "warned_resolution": False}


def test_sla_clocks_skip_nights_weekends_and_holidays(desk):
    desk.clock.now = jst(2026, 11, 20, 16, 0)  # Friday 16:00; Monday 11/23 is a holiday
    card = _escalate(desk)
    number = int(card.reply.buttons[0].value)
    stored = _escalation(desk.bot.core, number)
    # 1 business day = 8 hours: Fri 16-17, then Tue 9-16.
    assert dict(card.reply.fields)["初回回答"] == "11/24 16:00まで"
    assert stored.first_response_due.replace(tzinfo=None) == jst(2026, 11, 24, 16, 0).replace(
        tzinfo=None)
    assert desk.desk.sweep(jst(2026, 11, 23, 12, 0)).warned == []  # Monday: a holiday
    assert desk.desk.sweep(jst(2026, 11, 24, 14, 59)).warned == []
    assert desk.desk.sweep(jst(2026, 11, 24, 15, 0)).warned == [(number, "first_response")]


def test_a_first_response_in_time_means_no_first_response_warning(desk):
    card = _escalate(desk, urgency="high")
    desk.submit(desk.press(button(card.reply, REPLY), SATO), SATO, text="確認します")
    assert desk.desk.sweep(jst(2026, 11, 24, 11, 30)).warned == []
    assert desk.messenger.top_level(LEAD_CHANNEL) == []
    # Resolved escalations are never warned about.
    desk.press(button(desk.messenger.shown(card.ref), RESOLVE), SATO)
    assert desk.desk.sweep(jst(2026, 11, 26, 9, 0)).warned == []


def test_startup_accepts_channels_the_bot_is_in(desk):
    desk.desk.check()


def test_startup_fails_on_a_rule_naming_a_channel_the_bot_cannot_post_to(desk):
    desk.messenger.channels.discard(NETWORK_CHANNEL)
    with pytest.raises(ConfigError) as raised:
        desk.desk.check()
    assert str(raised.value) == ("desk.routes[0].channel: the bot cannot post to test:C-NW "
                                 "(unknown channel, or the bot is not a member)")


def test_startup_fails_on_a_platform_the_bot_does_not_run_on(desk):
    desk.bot.messengers.clear()
    desk.bot.messengers["slack"] = RecordingMessenger("slack")
    with pytest.raises(ConfigError, match=r"^desk\.routes\[0\]\.channel: the bot does not run"):
        desk.desk.check()


def test_the_console_has_no_messenger_and_escalations_wait_for_one(desk):
    desk.bot.messengers.clear()
    desk.desk.check()  # nothing to post with: only the rules are checked
    card_count = len(desk.messenger.posts)
    answer = desk.say(UNANSWERABLE)
    desk.submit(desk.press(button(answer, ESCALATE), EMPLOYEE), EMPLOYEE)
    assert len(desk.messenger.posts) == card_count
    desk.bot.messengers["test"] = desk.messenger
    assert len(desk.desk.sweep().published) == 1
    assert isinstance(desk.messenger.posts[-1].ref, MessageRef)


def test_start_checks_then_sweeps_in_the_background(desk):
    desk.messenger.failing = True
    card_count = len(desk.messenger.posts)
    answer = desk.say(UNANSWERABLE)
    desk.submit(desk.press(button(answer, ESCALATE), EMPLOYEE), EMPLOYEE)
    desk.messenger.failing = False
    desk.bot.check()  # what `run` does once the platforms are connected
    # The feature's own job on the one scheduler, its interval shortened for the test.
    [sweep] = [replace(job, every_s=0.05) for job in desk.bot.registry.jobs
               if job.name == "escalations.sla"]
    scheduler = JobScheduler([sweep]).start()
    try:
        for _ in range(200):
            if len(desk.messenger.posts) > card_count:
                break
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert len(desk.messenger.top_level(DESK_CHANNEL)) == 1
    desk.messenger.channels.discard(LEAD_CHANNEL)
    with pytest.raises(ConfigError, match=r"^desk\.lead_channel: "):
        desk.bot.check()


# -- the same flow on the loopback Slack Web API ----------------------------------------------

SLACK_DESK_CONFIG = """
desk:
  members: ["slack:U0DESK001"]
  names: {"slack:U0DESK001": 佐藤}
  default_channel: slack:C0DESK001
  lead_channel: slack:C0LEAD001
"""


def _slack_buttons(call) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {e["action_id"].split("|")[0]: e for b in call.params["blocks"]
            if b["type"] == "actions" for e in b["elements"]}


def test_end_to_end_on_the_loopback_slack_api(database, make_settings, slack_api):
    from tests.slack import SlackHarness

    core = build_core(make_settings(SLACK_DESK_CONFIG, DATABASE_URL=database.url))
    slack_api.channels.add("C0LEAD001")
    slack = SlackHarness(core, slack_api)
    try:
        slack.bot.feature("escalations").check()  # conversations.info on every configured channel
        # The bot cannot answer a DM; the employee asks the desk from the abstention.
        slack.dm(UNANSWERABLE, user="U0EMPLOYEE", channel="D0EMPLOYEE")
        [answer] = slack_api.wait_for("chat.postMessage")
        ask = _slack_buttons(answer)[ESCALATE]
        slack.press(ask["action_id"], ask["value"], user="U0EMPLOYEE", channel="D0EMPLOYEE",
                    message_ts=answer.params.get("ts") or "1700000001.000100")
        [opened] = slack_api.wait_for("views.open")
        view = opened.params["view"]
        assert view["callback_id"] == "escalate.submit"
        status, _ = slack.submit(view, {"question": UNANSWERABLE, "context": "来客に聞かれた",
                                        "urgency": "normal"}, user="U0EMPLOYEE")
        assert status == 200
        card = next(c for c in slack_api.wait_for("chat.postMessage", 2)
                    if c.params["channel"] == "C0DESK001")
        with core.database.transaction() as session:
            [escalation] = session.execute(sa.select(Escalation)).scalars().all()
        assert escalation.triage_channel == "C0DESK001" and escalation.triage_message
        buttons = _slack_buttons(card)
        # An outsider's Claim is refused privately; the card is not touched.
        slack.press(buttons[CLAIM]["action_id"], buttons[CLAIM]["value"], user="U0OUTSIDER",
                    channel="C0DESK001", message_ts=escalation.triage_message)
        [refusal] = slack_api.wait_for("response_url")
        assert refusal.params["response_type"] == "ephemeral"
        assert slack_api.of("chat.update") == []
        # The desk member claims: the card is updated in place.
        slack.press(buttons[CLAIM]["action_id"], buttons[CLAIM]["value"], user="U0DESK001",
                    channel="C0DESK001", message_ts=escalation.triage_message)
        [update] = slack_api.wait_for("chat.update")
        assert update.params["ts"] == escalation.triage_message
        assert "対応中" in update.blocks_text() and "佐藤" in update.blocks_text()
        # ...replies through the modal; the employee gets a DM with an Answer button.
        reply = _slack_buttons(update)[REPLY]
        slack.press(reply["action_id"], reply["value"], user="U0DESK001", channel="C0DESK001",
                    message_ts=escalation.triage_message)
        reply_view = slack_api.wait_for("views.open", 2)[-1].params["view"]
        slack.submit(reply_view, {"text": "食堂のメニューは総務部のページにあります。"},
                     user="U0DESK001")
        posts = slack_api.wait_for("chat.postMessage", 4)
        dm = next(c for c in posts if c.params["channel"] == "U0EMPLOYEE"
                  and "窓口からの回答" in c.blocks_text())
        assert ANSWER in _slack_buttons(dm)
        # The employee answers in the DM thread; it lands in the triage thread.
        with core.database.transaction() as session:
            dm_thread = session.get(Escalation, escalation.id).dm_thread
        slack.event({"type": "message", "channel_type": "im", "user": "U0EMPLOYEE",
                     "text": "本社ビルです", "ts": "1800000000.000100", "thread_ts": dm_thread,
                     "channel": "D0EMPLOYEE", "event_ts": "1800000000.000100"})
        thread = [c for c in slack_api.wait_for("chat.postMessage", 6)
                  if c.params.get("thread_ts") == escalation.triage_message]
        assert [("相談者" in c.blocks_text(), "本社ビルです" in c.blocks_text())
                for c in thread][-1] == (True, True)
        # The desk resolves; the card shows the final state with only Reopen.
        slack.press(buttons[RESOLVE]["action_id"], buttons[RESOLVE]["value"],
                    user="U0DESK001", channel="C0DESK001", message_ts=escalation.triage_message)
        final = slack_api.wait_for("chat.update", 3)[-1]
        assert "解決済み" in final.blocks_text()
        assert list(_slack_buttons(final)) == [REOPEN]
        actions = [(e.action, e.actor) for e in _events(core, escalation.id)]
        employee, desk = (core.keyring.pseudonym("slack", u) for u in ("U0EMPLOYEE", "U0DESK001"))
        assert actions == [
            ("escalation.created", employee),
            ("escalation.refused", core.keyring.pseudonym("slack", "U0OUTSIDER")),
            ("escalation.claimed", desk), ("escalation.replied", desk),
            ("escalation.requester_answered", employee), ("escalation.resolved", desk)]
    finally:
        slack.close()
        core.database.dispose()
