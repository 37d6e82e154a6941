"""A transfer checklist end to end in the console chat: HR's CSV starts it, the person answers
the prompts (one "no" with a note, which reaches the desk), the manager sends it back, the
person answers again, the manager confirms; status and the auditor's export show each step."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from bot.core import build_core
from bot.messages import User
from bot.platforms.console import ConsoleChat, read_mentions
from bot.platforms.console import ports as console_ports
from bot.wiring import Bot, assemble
from tests.bot.checklists.conftest import checklist_config, platform_desk
from tests.bot.checklists.story import COMMENT, NOTE, check_status_and_export, start_from_csv


@pytest.fixture
def console(database, make_settings) -> Iterator[tuple[Bot, io.StringIO]]:  # type: ignore[no-untyped-def]
    config = checklist_config(desk=platform_desk("console", "deskuser", "desk"),
                              starters="[console:jinji]")
    core = build_core(make_settings(config, DATABASE_URL=database.url))
    screen = io.StringIO()  # what the console shows when the bot speaks first
    try:
        yield assemble(core, {"console": console_ports(screen)}), screen
    finally:
        core.database.dispose()


def _chat(bot: Bot, user: str, *lines: str) -> str:
    out = io.StringIO()
    ConsoleChat(bot.dispatcher, io.StringIO("\n".join([*lines, "/quit"]) + "\n"), out,
                entries=0, lang="ja", user=User("console", user)).run()
    return out.getvalue()


def _send(bot: Bot, screen: io.StringIO) -> str:
    start = len(screen.getvalue())
    [job] = [j for j in bot.registry.jobs if j.name == "checklists.send"]
    job.run()
    return screen.getvalue()[start:]


def test_a_transfer_from_hrs_csv_to_the_managers_confirmation(console, tmp_path):
    bot, screen = console
    settings = bot.core.settings
    start_from_csv(settings, tmp_path, "console:taro", "console:sato")
    assert "異動時のチェックリスト" in _send(bot, screen)

    # The person answers each prompt; the "no" without a note is asked again.
    answered = _chat(bot, "taro", "/チェックリスト", "/press 1",
                     "1", "", "2", "", "1", "", "1", "",  # yes, no (no note), yes, yes
                     NOTE)                                # the note, asked for again
    assert "⚠ 状況・補足: 「いいえ」の場合は、状況を書いてください。" in answered
    assert "回答を送信しました" in answered and "#compliance-desk" in answered
    assert NOTE in _send(bot, screen)  # the triage card, then the review

    # The manager reviews from the list and sends it back with a comment.
    returned = _chat(bot, "sato", "/チェックリスト", "/press 1", "/press 2", COMMENT)
    assert NOTE in returned and "差し戻しました" in returned
    assert COMMENT in _send(bot, screen)

    # The person answers again: Enter keeps each earlier answer, one is changed to yes.
    again = _chat(bot, "taro", "/チェックリスト", "/press 1",
                  "", "", "1", "削除しました", "", "", "", "")
    assert COMMENT in again and "回答を送信しました" in again

    # The manager confirms; pressing again changes nothing.
    _send(bot, screen)
    confirmed = _chat(bot, "sato", "/チェックリスト", "/press 1", "/press 1", "/press 1")
    assert "確認済みとして記録しました" in confirmed and "確認済みです" in confirmed
    assert "佐藤 課長" in _send(bot, screen)
    assert "回答・確認待ちのチェックリストはありません" in _chat(bot, "taro", "/チェックリスト")

    check_status_and_export(settings, "console:taro", "console:sato")


def test_a_starter_starts_one_with_at_names(console):
    bot, _ = console
    out = _chat(bot, "jinji", "/チェックリスト開始 transfer @taro @sato")
    # The reply is in the language of what follows the command word: here the id, English.
    assert 'Started "Transfer checklist" for taro (confirmer: sato, due ' in out
    refused = _chat(bot, "taro", "/checklist transfer @hanako")
    assert "Only the people configured to start checklists" in refused
    assert read_mentions("a@b.jp and @taro") == ("a@b.jp and", (User("console", "taro"),))
