"""The Slack app end to end: signed requests into the real HTTP endpoint and Bolt app, answers
read off the loopback Web API."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from bot.models import Feedback, Question
from handlers.ask.ids import FEEDBACK


def _texts(call) -> str:
    return call.params.get("text", "") + call.blocks_text()


def test_mention_is_answered_in_its_thread_in_japanese(slack, slack_api):
    status, _ = slack.mention("異動前のIDとパスワードをそのまま使ってもいいですか？",
                              ts="1700000000.000100")
    assert status == 200
    [call] = slack_api.wait_for("chat.postMessage")
    assert call.params["channel"] == "C0GENERAL"
    assert call.params["thread_ts"] == "1700000000.000100"
    assert call.token == "xoxb-test-token"
    blocks = call.params["blocks"]
    assert blocks[0]["type"] == "header"
    assert any(b["type"] == "context" and "出典" in b["elements"][0]["text"] for b in blocks)
    labels = [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert "👍 役に立った" in labels


def test_mention_inside_a_thread_stays_in_that_thread(slack, slack_api):
    slack.mention("Can I share my password with a colleague?", ts="1700000009.000100",
                  thread_ts="1700000005.000100")
    [call] = slack_api.wait_for("chat.postMessage")
    assert call.params["thread_ts"] == "1700000005.000100"
    assert "Source:" in call.blocks_text()


def test_direct_message_is_answered_in_the_dm_in_english(slack, slack_api):
    slack.dm("May I keep using my old login after I transfer to the retail company?")
    [call] = slack_api.wait_for("chat.postMessage")
    assert call.params["channel"] == "D0EMPLOYEE"
    assert "thread_ts" not in call.params
    assert "Source:" in call.blocks_text()
    assert not any("\u3040" <= ch <= "\u30ff" for ch in call.params["text"])


def test_bot_messages_and_edits_in_the_dm_are_not_answered(slack, slack_api):
    slack.event({"type": "message", "channel_type": "im", "subtype": "message_changed",
                 "channel": "D0EMPLOYEE", "ts": "1.2"})
    slack.event({"type": "message", "channel_type": "im", "bot_id": "B0BOT0001",
                 "user": "UBOT0001", "text": "answer", "channel": "D0EMPLOYEE", "ts": "1.3"})
    slack.dm("社員食堂の今日のメニューは？")  # a marker that the events before were processed
    [call] = slack_api.wait_for("chat.postMessage")
    assert "お答えできません" in call.params["text"]
    time.sleep(0.2)
    assert len(slack_api.of("chat.postMessage")) == 1


def test_unknown_question_abstains_and_names_the_desk(slack, slack_api):
    slack.mention("社員食堂の今日のメニューは？")
    [call] = slack_api.wait_for("chat.postMessage")
    assert "#compliance-desk" in call.blocks_text()


def test_retried_event_is_answered_once(slack, slack_api):
    assert slack.mention("パスワードを他人に教えてもいい？", event_id="Ev0RETRY01")[0] == 200
    slack_api.wait_for("chat.postMessage")
    assert slack.mention("パスワードを他人に教えてもいい？", event_id="Ev0RETRY01",
                         retry=1)[0] == 200
    assert slack.mention("パスワードを他人に教えてもいい？", event_id="Ev0RETRY01",
                         retry=2)[0] == 200
    time.sleep(0.3)
    assert len(slack_api.of("chat.postMessage")) == 1


def test_two_instances_on_one_database_answer_an_event_once(core, slack, slack_api):
    from tests.slack import SlackHarness

    other = SlackHarness(core, slack_api)
    try:
        assert slack.mention("IDを共有してもいい？", event_id="Ev0SHARED1")[0] == 200
        assert other.mention("IDを共有してもいい？", event_id="Ev0SHARED1", retry=1)[0] == 200
        slack_api.wait_for("chat.postMessage")
        time.sleep(0.3)
        assert len(slack_api.of("chat.postMessage")) == 1
    finally:
        other.close()


def test_slash_command_question_answers_ephemerally_through_response_url(slack, slack_api):
    assert slack.command("共用端末は営業所に置いてもいいですか？")[0] == 200
    [call] = slack_api.wait_for("response_url")
    assert call.params["response_type"] == "ephemeral"
    assert "出典" in call.blocks_text()
    assert slack_api.of("chat.postMessage") == []


def test_slash_command_help_in_both_languages(slack, slack_api):
    slack.command("help")
    slack.command("ヘルプ")
    calls = slack_api.wait_for("response_url", 2)
    texts = sorted(call.params["text"] for call in calls)
    assert any("/comply report" in text and "How to use" in text for text in texts)
    assert any("使い方" in text for text in texts)


def test_empty_slash_command_shows_help(slack, slack_api):
    slack.command("")
    [call] = slack_api.wait_for("response_url")
    assert "/comply case" in call.params["text"]


def test_feedback_button_records_feedback(core, slack, slack_api):
    slack.mention("パスワードを他人に教えてもいい？")
    [call] = slack_api.wait_for("chat.postMessage")
    buttons = [e for b in call.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    up = next(e for e in buttons if e["action_id"].startswith(FEEDBACK))
    assert slack.press(up["action_id"], up["value"])[0] == 200
    [thanks] = slack_api.wait_for("response_url")
    assert thanks.params["response_type"] == "ephemeral"
    assert thanks.params["replace_original"] is False
    with core.database.transaction() as session:
        [feedback] = session.execute(sa.select(Feedback)).scalars().all()
        assert feedback.helpful is True


def test_action_ids_are_unique_within_a_message(slack, slack_api):
    slack.mention("ID")  # a vague question draws suggestions as well as the feedback buttons
    [call] = slack_api.wait_for("chat.postMessage")
    ids = [e["action_id"] for b in call.params["blocks"] if b["type"] == "actions"
           for e in b["elements"]]
    assert len(ids) == len(set(ids))


def test_message_shortcut_asks_about_the_message(slack, slack_api):
    slack.shortcut("小売部門から託送の顧客情報を見せてほしいと頼まれました")
    [call] = slack_api.wait_for("response_url")
    assert call.params["response_type"] == "ephemeral"
    assert "出典" in call.blocks_text() or "お答えできません" in call.blocks_text()


def test_app_home_shows_entry_points(slack, slack_api):
    slack.event({"type": "app_home_opened", "user": "U0EMPLOYEE", "channel": "D0EMPLOYEE",
                 "tab": "home", "event_ts": "1700000000.000300"})
    [call] = slack_api.wait_for("views.publish")
    assert call.params["user_id"] == "U0EMPLOYEE"
    view = call.params["view"]
    assert view["type"] == "home"
    labels = [e["text"]["text"] for b in view["blocks"] if b["type"] == "actions"
              for e in b["elements"]]
    assert labels == ["質問する", "匿名で相談・通報する", "相談の状況を確認する"]


def test_home_ask_opens_a_modal_and_the_answer_arrives_by_dm(slack, slack_api):
    slack.press("ask.open|0", "ja", channel=None)
    [opened] = slack_api.wait_for("views.open")
    view = opened.params["view"]
    assert view["type"] == "modal" and view["callback_id"] == "ask.question"
    status, body = slack.submit(view, {"question": "パスワードを他人に教えてもいい？"})
    assert status == 200 and body in (b"", b"{}")
    [answer] = slack_api.wait_for("chat.postMessage")
    assert answer.params["channel"] == "U0EMPLOYEE"
    assert "出典" in answer.blocks_text()


def test_empty_question_in_the_modal_keeps_it_open_with_an_error(slack, slack_api):
    slack.press("ask.open|0", "en", channel=None)
    [opened] = slack_api.wait_for("views.open")
    status, body = slack.submit(opened.params["view"], {"question": "   "})
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "question" in answer["errors"]


def test_command_words_work_in_a_mention_and_help_is_answered_privately(slack, slack_api, core):
    slack.mention("help")
    [private] = slack_api.wait_for("chat.postEphemeral")
    assert private.params["user"] == "U0EMPLOYEE" and "/comply report" in private.params["text"]
    assert not slack_api.of("chat.postMessage")  # nothing public in the channel
    with core.database.transaction() as session:  # not taken for a question
        assert session.scalars(sa.select(Question)).all() == []


def test_a_command_word_in_a_dm_offers_its_form_in_one_click(slack, slack_api):
    slack.dm("report")
    [offer] = slack_api.wait_for("chat.postMessage")
    [button] = [e for b in offer.params["blocks"] if b["type"] == "actions"
                for e in b["elements"]]
    assert button["action_id"].startswith("command.run")
    slack.press(button["action_id"], button["value"], channel="D0EMPLOYEE")
    [opened] = slack_api.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "report.submit"
