"""The ask flow as a user meets it: push a question, read the reply, press its buttons."""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa

from bot.audit import verify
from bot.messages import User
from bot.models import AuditEvent, Feedback, Question
from handlers.ask.ids import FEEDBACK, PICK
from tests.chat import TestChat


def _rows(core, model):
    with core.database.transaction() as session:
        return list(session.execute(sa.select(model)).scalars())


def test_japanese_question_gets_japanese_answer_with_source(core):
    chat = TestChat(core)
    reply = chat.push("異動してきたけど、前の部署のシステムにまだログインできる。使っていい？")
    assert reply.lang == "ja"
    assert reply.footnote.startswith("出典: ")
    assert "所属長" in reply.text or "ログイン" in reply.text
    assert [b.action for b in reply.buttons][-2:] == [FEEDBACK, FEEDBACK]


def test_english_question_gets_english_answer(core):
    reply = TestChat(core).push("Can I tell my password to someone at the retail company?")
    assert reply.lang == "en"
    assert reply.footnote.startswith("Source: ")
    assert not any("\u3040" <= ch <= "\u30ff" for ch in reply.text)


def test_unknown_question_abstains_and_offers_the_configured_desk(core):
    reply = TestChat(core).push("社員食堂の今日のメニューは？")
    assert reply.title == "お答えできません"
    assert "#compliance-desk（行為規制相談窓口）" in reply.text
    assert reply.buttons == []
    [question] = _rows(core, Question)
    assert question.answered is False and question.entry_id is None


def test_company_placeholders_are_filled_into_answers(core):
    reply = TestChat(core).push("行為規制について相談したいときはどこに連絡すればいい？")
    assert "{desk}" not in reply.text
    assert "#compliance-desk" in reply.text


def test_question_is_stored_pseudonymised_and_audited(core, caplog):
    user = User("slack", "U0SECRETID", "Taro Yamada")
    with caplog.at_level(logging.DEBUG):
        TestChat(core, user).push("IDを同僚に貸してもいい？")
    [question] = _rows(core, Question)
    assert question.asker == core.keyring.pseudonym("slack", "U0SECRETID")
    assert question.entry_id and question.score > 0 and question.kb_version
    [event] = _rows(core, AuditEvent)
    assert (event.action, event.actor, event.subject) == (
        "question.asked", question.asker, f"question:{question.id}")
    assert json.loads(event.details)["entry_id"] == question.entry_id
    everything = caplog.text + repr([(e.actor, e.details) for e in _rows(core, AuditEvent)])
    for secret in ("U0SECRETID", "Taro Yamada"):
        assert secret not in everything
    # The question text is the asker's own words: kept with the question, not in logs or audit.
    assert "同僚に貸して" not in everything


def test_feedback_is_recorded_and_audited(core):
    chat = TestChat(core)
    reply = chat.push("パスワードはどのくらいの頻度で変えればいいですか？")
    down = next(b for b in reply.buttons if b.action == FEEDBACK and b.value.endswith(":down"))
    thanks = chat.press(down)
    assert thanks.ephemeral and "見直します" in thanks.text
    [feedback] = _rows(core, Feedback)
    assert feedback.helpful is False
    assert feedback.giver == core.keyring.pseudonym("test", "U0001")
    assert [e.action for e in _rows(core, AuditEvent)] == ["question.asked", "feedback.recorded"]
    with core.database.transaction() as session:
        assert verify(session, core.keyring).ok


def test_picking_a_suggestion_answers_it_and_records_the_pick(core):
    chat = TestChat(core)
    reply = chat.push("パスワード")
    picks = [b for b in reply.buttons if b.action == PICK]
    assert picks, "a one-word question should leave close runners-up"
    picked = chat.press(picks[0])
    entry_id = picks[0].value.split(":", 1)[1]
    base, _ = core.knowledge.current()
    assert picked.title == base.get(entry_id).question.ja[0]
    [question] = _rows(core, Question)
    assert question.picked_entry_id == entry_id
    event = _rows(core, AuditEvent)[-1]
    assert event.action == "question.suggestion_picked"
    assert json.loads(event.before) == {"picked_entry_id": None}
    assert json.loads(event.after) == {"picked_entry_id": entry_id}


def test_tampered_or_stale_buttons_get_a_clear_answer(core):
    chat = TestChat(core)
    reply = chat.push("IDを同僚に貸してもいい？")
    question_id = reply.buttons[-1].value.split(":")[0]
    from bot.messages import Button

    assert "無効" in chat.press(Button("x", FEEDBACK, "nonsense")).text
    assert "見つかりません" in chat.press(Button("x", FEEDBACK, "99999:up")).text
    assert "ナレッジベースにありません" in chat.press(
        Button("x", PICK, f"{question_id}:not-a-suggestion")).text
    assert "無効" in chat.press(Button("x", FEEDBACK, f"{question_id}:sideways")).text
    assert len(_rows(core, Feedback)) == 0


def test_empty_and_overlong_questions_are_refused_and_not_stored(core):
    chat = TestChat(core)
    assert "質問を入力してください" in chat.push("   ").text
    long_reply = chat.push("a" * (core.max_question_chars + 1))
    assert "too long" in long_reply.text and long_reply.ephemeral
    assert _rows(core, Question) == []


def test_an_abstention_with_entries_near_offers_them_and_kb_gaps_learns_the_pick(
        database, make_settings):
    from bot.core import build_core
    from bot.gaps import find_gaps

    settings = make_settings("search:\n  min_score: 0.999\n  suggest_floor: 0.01\n",
                             DATABASE_URL=database.url)
    core = build_core(settings)
    try:
        chat = TestChat(core)
        reply = chat.push("前の部署のIDまだ使えるんだけど")
        assert reply.title == "もしかして、こちらのご質問ですか？"
        picks = [b for b in reply.buttons if b.action == PICK]
        assert 1 <= len(picks) <= 3
        assert not [b for b in reply.buttons if b.action == FEEDBACK]  # nothing to rate yet
        picked = chat.press(picks[1 if len(picks) > 1 else 0])
        assert picked.footnote.startswith("出典: ")
        with core.database.transaction() as session:
            [gap] = find_gaps(session)
        assert (gap.reason, gap.question) == ("picked", "前の部署のIDまだ使えるんだけど")
        assert gap.entry_id == (picks[1 if len(picks) > 1 else 0]).value.split(":", 1)[1]
    finally:
        core.database.dispose()


def test_an_abstention_with_nothing_near_is_the_plain_desk_answer(core):
    reply = TestChat(core).push("明日の天気は晴れるかな")
    assert reply.title == "お答えできません"
    assert not [b for b in reply.buttons if b.action == PICK]
