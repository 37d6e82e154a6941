"""Checklists as people meet them, at the neutral level every platform shares: a start from
chat by a starter, the person's form (a "no" needs a note and reaches the desk), the
confirmer's send back and confirm, the listing and the home section."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.checklists.views import ANSWER_FORM, COMMENT_FORM, CONFIRM, OPEN, RETURN, REVIEW_ACTION
from bot.core import Core, build_core
from bot.messages import (
    ActionEvent,
    Button,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    Reply,
    User,
)
from bot.ports import PlatformPorts
from bot.wiring import Bot, assemble
from tests.bot.checklists.conftest import checklist_config
from tests.bot.reminders.fakes import FakeClock, StaticDirectory
from tests.handlers.messenger import DESK_CHANNEL, PLATFORM, RecordingMessenger

HR = User(PLATFORM, "HR1", "人事 花子")
TARO = User(PLATFORM, "U0TARO", "山田 太郎")
SATO = User(PLATFORM, "U0SATO", "佐藤 課長")
OUTSIDER = User(PLATFORM, "U0OTHER", "Jiro")


class ChecklistHarness:
    def __init__(self, core: Core, clock: FakeClock) -> None:
        self.messenger = RecordingMessenger()
        core.ports[PLATFORM] = PlatformPorts(PLATFORM, self.messenger, self.messenger,
                                             StaticDirectory([]))
        self.bot: Bot = assemble(core, {PLATFORM: core.ports[PLATFORM]},
                                 options={"checklists": {"clock": clock},
                                          "escalations": {"clock": clock}})
        self.clock = clock

    def command(self, text: str, user: User, *mentions: User) -> Reply:
        return self.bot.dispatcher.command(IncomingMessage(user, text, mentions=mentions))

    def press(self, button: Button, user: User) -> Reply:
        reply = self.bot.dispatcher.action(ActionEvent(user, button.action, button.value))
        assert reply is not None
        return reply

    def submit(self, reply: Reply, user: User, **values: str) -> FormOutcome:
        assert reply.form is not None, reply.text
        filled = {f.name: f.initial or "" for f in reply.form.fields}
        filled.update(values)
        return self.bot.dispatcher.submit(FormSubmission(user, reply.form.id, filled,
                                                         reply.form.state))

    def send(self) -> list[Reply]:
        """Run the send sweep; what it posted."""
        before = len(self.messenger.posts)
        [job] = [j for j in self.bot.registry.jobs if j.name == "checklists.send"]
        job.run()
        return [p.reply for p in self.messenger.posts[before:]]

    def dm(self, user: User) -> Reply:
        return self.messenger.dms(user)[-1].reply


def button(reply: Reply, action: str, lang: str | None = None) -> Button:
    return next(b for b in reply.buttons if b.action == action
                and (lang is None or b.value.endswith(f".{lang}")))


@pytest.fixture
def chat(database, make_settings) -> Iterator[ChecklistHarness]:  # type: ignore[no-untyped-def]
    core = build_core(make_settings(checklist_config(), DATABASE_URL=database.url))
    try:
        yield ChecklistHarness(core, FakeClock(datetime(2027, 4, 1, 1, 0, tzinfo=UTC)))
    finally:
        core.database.dispose()


YES_ALL = {"systems-no-longer-used": "yes", "stored-ids-deleted": "yes",
           "no-login-with-previous-ids": "yes", "no-confidential-information-taken": "yes"}


def test_a_transfer_started_in_chat_answered_sent_back_and_confirmed(chat):
    # Only a configured starter may start one; the person is mentioned, the starter confirms
    # unless a second person is mentioned.
    refused = chat.command("checklist transfer", OUTSIDER, TARO)
    assert "担当者だけ" in refused.text or "Only the people" in refused.text
    assert chat.send() == []
    usage = chat.command("checklist transfer", HR)
    assert "transfer" in usage.text and "/comply checklist" not in usage.text
    started = chat.command("checklist transfer", HR, TARO, SATO)
    assert "山田 太郎" in started.text and "佐藤 課長" in started.text, started.text
    [ask] = chat.send()
    assert chat.messenger.posts[-1].to.id == TARO.id
    assert "異動時のチェックリスト" in (ask.title or "") and "参照番号 C" in (ask.footnote or "")

    # The person's form: a "no" needs a note.
    form = chat.press(button(ask, OPEN, "ja"), TARO)
    assert form.form is not None and form.form.id == ANSWER_FORM
    assert chat.press(button(ask, OPEN, "ja"), OUTSIDER).form is None  # not theirs
    values = {**YES_ALL, "stored-ids-deleted": "no"}
    outcome = chat.submit(form, TARO, **values)
    assert set(outcome.errors) == {"note.stored-ids-deleted"}
    outcome = chat.submit(form, TARO, **values,
                          **{"note.stored-ids-deleted": "ブラウザの保存パスワードが消せない"})
    assert outcome.reply is not None and "送信しました" in outcome.reply.text
    assert "#compliance-desk" in outcome.reply.text  # the "no" went to the desk
    triage = chat.messenger.top_level(DESK_CHANNEL)
    assert len(triage) == 1 and "ブラウザの保存パスワードが消せない" in str(triage[0].reply)
    again = chat.submit(form, TARO, **values, **{"note.stored-ids-deleted": "二回目"})
    assert again.reply is not None and "すでに送信" in again.reply.text

    # The confirmer reads the answers and sends them back with a comment.
    [review] = chat.send()
    assert chat.messenger.posts[-1].to.id == SATO.id
    assert any("ブラウザの保存パスワードが消せない" in value for _, value in review.fields)
    assert chat.press(button(review, CONFIRM), TARO).text.startswith("ご自身")
    comment_form = chat.press(button(review, RETURN), SATO)
    assert comment_form.form is not None and comment_form.form.id == COMMENT_FORM
    assert chat.submit(comment_form, SATO, comment="").errors
    sent_back = chat.submit(comment_form, SATO, comment="削除の手順を情報システム部に確認して")
    assert sent_back.reply is not None and "差し戻しました" in sent_back.reply.text
    assert "差し戻し済み" in chat.press(button(review, RETURN), SATO).text

    # The person gets it back, with the comment and their answers, and answers again.
    [returned] = chat.send()
    assert "削除の手順を情報システム部に確認して" in returned.text
    listing = chat.command("チェックリスト", TARO)
    assert any("差し戻し" in value for _, value in listing.fields)
    form = chat.press(button(returned, OPEN, "ja"), TARO)
    assert form.form is not None
    assert "削除の手順を情報システム部に確認して" in (form.form.intro or "")
    assert {f.name: f.initial for f in form.form.fields}["stored-ids-deleted"] == "no"
    outcome = chat.submit(form, TARO, **{"stored-ids-deleted": "yes",
                                         "note.stored-ids-deleted": "削除しました"})
    assert outcome.reply is not None and not outcome.errors
    assert len(chat.messenger.top_level(DESK_CHANNEL)) == 1  # nothing new for the desk

    # The confirmer confirms the new answers (the old review's buttons are stale).
    [review2] = chat.send()
    assert "この回答は差し戻された" in chat.press(button(review, CONFIRM), SATO).text
    from_listing = chat.press(button(chat.command("checklists", SATO), REVIEW_ACTION), SATO)
    assert [b.action for b in from_listing.buttons] == [CONFIRM, RETURN]
    confirmed = chat.press(button(review2, CONFIRM), SATO)
    assert "確認済みとして記録しました" in confirmed.text
    assert "確認済みです" in chat.press(button(review2, CONFIRM), SATO).text
    [done] = chat.send()
    assert "佐藤 課長" in done.text and chat.messenger.posts[-1].to.id == TARO.id
    assert "ありません" in chat.command("チェックリスト", TARO).text
    assert all((r.title or "") != "チェックリスト" for r in chat.bot.dispatcher.home(TARO, "ja"))


def test_the_listing_and_home_show_what_waits(chat):
    chat.command("checklist transfer", HR, TARO, SATO)
    [home, *sections] = chat.bot.dispatcher.home(TARO, "en")
    assert any(r.title == "Checklists" for r in sections)
    listing = chat.command("checklists", TARO)
    [open_button] = listing.buttons
    assert open_button.action == OPEN and open_button.opens_form
    assert "none" not in listing.text
    english = chat.press(open_button, TARO)
    assert english.form is not None
    assert chat.command("checklists", SATO).text == "No checklists are waiting for you."
    del home


def test_start_up_refuses_a_schedule_of_an_unknown_checklist(database, make_settings):
    from bot.config import ConfigError

    schedule = ("[{checklist: lunch, yearly: '06-01', audience: {all_members: test}, "
                "confirmer: desk}]")
    core = build_core(make_settings(checklist_config(schedules=schedule),
                                    DATABASE_URL=database.url))
    try:
        bot = assemble(core)
        with pytest.raises(ConfigError, match=r"checklists.schedules\[0\].checklist: no "
                                              r"enabled checklist 'lunch'"):
            bot.check()
    finally:
        core.database.dispose()


def test_a_feature_route_is_under_api_and_never_a_platforms():
    from bot.registry import Registry

    registry = Registry()
    for path in ("/slack/events", "/api/messages", "/healthz", "/hooks/x"):
        with pytest.raises(ValueError, match="under /api/"):
            registry.route(path, lambda request: None)  # type: ignore[arg-type,return-value]
