"""Teams end to end: signed activities into the real endpoint, cards read off the loopback
Bot Connector, and what the flows stored read from the database."""

from __future__ import annotations

import time

import sqlalchemy as sa

from bot.models import Feedback, Question
from handlers.ask.ids import FEEDBACK, PICK
from tests.bot.platforms.teams.harness import (
    CHANNEL,
    EMPLOYEE_AAD,
    EMPLOYEE_ID,
    PERSONAL,
    TEAM,
    TeamsHarness,
    actions,
    inputs,
    receipt_values,
    texts,
)
from tests.teams_api import BOT_ID, TENANT_ID


def _questions(core) -> list[Question]:
    with core.database.transaction() as session:
        return list(session.scalars(sa.select(Question).order_by(Question.id)))


def test_question_in_a_personal_chat_is_answered_with_a_card(teams, teams_api):
    status, _ = teams.dm("異動前のIDとパスワードをそのまま使ってもいいですか？")
    assert status == 202
    [call] = teams_api.wait_for()
    assert call.conversation == PERSONAL
    assert call.parts[3:] == ["activities"]  # a new message in the chat, not a reply chain
    card = call.card
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    title, answer, *_ = card["body"]
    assert title["weight"] == "bolder" and "ID" in title["text"]
    assert "ID" in answer["text"] and "#compliance-desk" in answer["text"]
    [source] = [b for b in card["body"] if b.get("isSubtle")]
    assert source["text"].startswith("出典:") and source["size"] == "small"
    submits = actions(card)
    assert all(a["type"] == "Action.Submit" for a in submits)
    picks = [a for a in submits if a["data"]["action"] == PICK]
    assert 1 <= len(picks) <= 3 and all(":" in a["data"]["value"] for a in picks)
    feedback = {a["title"]: a["data"] for a in submits if a["data"]["action"] == FEEDBACK}
    assert set(feedback) == {"👍 役に立った", "👎 役に立たなかった"}
    assert feedback["👍 役に立った"]["value"].endswith(":up")
    assert call.body["summary"].startswith(title["text"][:20])


def test_english_question_gets_an_english_card(teams, teams_api):
    teams.dm("May I keep using my old login after I transfer to the retail company?",
             locale="en-US")
    [call] = teams_api.wait_for()
    assert "Source:" in call.card_text()
    assert not any("\u3040" <= ch <= "\u30ff" for ch in " ".join(texts(call.card)))


def test_channel_mention_is_answered_in_its_reply_chain_with_the_mention_stripped(
        core, teams, teams_api):
    status, _ = teams.mention("パスワードを同僚に教えてもいいですか？", activity_id="1700000000100")
    assert status == 202
    [call] = teams_api.wait_for()
    assert call.conversation == f"{CHANNEL};messageid=1700000000100"
    assert call.parts[3:] == ["activities", "1700000000100"]
    assert call.body["replyToId"] == "1700000000100"
    assert "出典" in call.card_text()
    [question] = _questions(core)
    assert question.text == "パスワードを同僚に教えてもいいですか？"
    assert question.platform == "teams"


def test_mention_inside_a_reply_chain_stays_in_that_chain(teams, teams_api):
    teams.mention("Can I share my password with a colleague?", activity_id="1700000000222",
                  root="1700000000111")
    [call] = teams_api.wait_for()
    assert call.conversation == f"{CHANNEL};messageid=1700000000111"
    assert call.parts[-1] == "1700000000222"


def test_feedback_press_is_recorded(core, teams, teams_api):
    teams.dm("パスワードを他人に教えてもいい？")
    [answer] = teams_api.wait_for()
    up = next(a for a in actions(answer.card) if a["data"]["action"] == FEEDBACK)
    assert teams.press(up["data"], reply_to="1700000000500")[0] == 202
    _, thanks = teams_api.wait_for(2)
    assert thanks.conversation == PERSONAL
    assert "フィードバックを記録しました" in thanks.card_text()
    with core.database.transaction() as session:
        [feedback] = session.execute(sa.select(Feedback)).scalars().all()
        assert feedback.helpful is True
        assert feedback.giver == core.keyring.pseudonym("teams", EMPLOYEE_AAD)


def test_feedback_in_a_channel_is_thanked_privately(core, teams, teams_api):
    teams.mention("パスワードを他人に教えてもいい？", activity_id="1700000000300")
    [answer] = teams_api.wait_for()
    down = [a for a in actions(answer.card) if a["data"]["action"] == FEEDBACK][1]
    teams.press(down["data"], reply_to="1700000000301", scope="channel")
    teams_api.wait_for(2)
    [created] = [c for c in teams_api.calls if c.path.endswith("/v3/conversations")]
    assert created.body["members"] == [{"id": EMPLOYEE_ID}]
    assert created.body["tenantId"] == TENANT_ID and created.body["bot"] == {"id": BOT_ID}
    thanks = teams_api.sent()[-1]
    assert thanks.conversation.startswith("a:1") and "見直します" in thanks.card_text()
    assert [c.conversation for c in teams_api.sent()].count(
        f"{CHANNEL};messageid=1700000000300") == 1  # only the answer went to the channel


def test_suggestion_picked_in_a_channel_answers_in_the_reply_chain(teams, teams_api):
    teams.mention("ID", activity_id="1700000000400")  # vague: suggestions come with it
    [answer] = teams_api.wait_for()
    pick = next(a for a in actions(answer.card) if a["data"]["action"] == PICK)
    teams.press(pick["data"], reply_to="1700000000401", scope="channel")
    _, picked = teams_api.wait_for(2)
    assert picked.conversation == f"{CHANNEL};messageid=1700000000401"
    assert picked.body["replyToId"] == "1700000000401"
    assert texts(picked.card)[0].startswith(pick["title"].rstrip("…"))


def test_help_in_a_personal_chat_and_privately_from_a_channel(teams, teams_api):
    teams.dm("help", locale="en-US")
    [help_card] = teams_api.wait_for()
    assert "How to use" in texts(help_card.card)[0]
    teams.mention("ヘルプ")
    _, private = teams_api.wait_for(2)
    assert private.conversation == PERSONAL  # the chat learned from the first message
    assert texts(private.card)[0] == "使い方"


def test_bare_mention_shows_help(teams, teams_api):
    teams.mention("")
    [call] = teams_api.wait_for()
    assert "使い方" in call.card_text()


def test_unknown_question_abstains_and_names_the_desk(teams, teams_api):
    teams.dm("社員食堂の今日のメニューは？")
    [call] = teams_api.wait_for()
    assert "お答えできません" in call.card_text() and "#compliance-desk" in call.card_text()


def test_redelivered_activity_is_answered_once(teams, teams_api):
    for _ in range(3):
        assert teams.dm("パスワードを他人に教えてもいい？", activity_id="1700000000777")[0] in (
            200, 202)
    teams_api.wait_for()
    time.sleep(0.3)
    assert len(teams_api.sent()) == 1


def test_same_activity_id_in_another_conversation_is_a_new_activity(teams, teams_api):
    teams.dm("パスワードを他人に教えてもいい？", activity_id="1700000000888")
    teams.mention("パスワードを他人に教えてもいい？", activity_id="1700000000888")
    teams_api.wait_for(2)


def test_two_instances_on_one_database_answer_an_activity_once(core, teams, teams_api):
    other = TeamsHarness(core, teams_api)
    try:
        teams.dm("IDを共有してもいい？", activity_id="1700000000999")
        other.dm("IDを共有してもいい？", activity_id="1700000000999")
        teams_api.wait_for()
        time.sleep(0.3)
        assert len(teams_api.sent()) == 1
    finally:
        other.close()


def test_messages_from_bots_are_not_answered(teams, teams_api):
    teams.dm("an echo of our own", user=BOT_ID)
    teams.dm("社員食堂の今日のメニューは？")  # a marker that the one before was processed
    teams_api.wait_for()
    time.sleep(0.2)
    assert len(teams_api.sent()) == 1


def test_install_in_a_personal_chat_shows_the_home_card(teams, teams_api):
    assert teams.installed()[0] == 202
    [call] = teams_api.wait_for()
    assert call.conversation == PERSONAL
    buttons = actions(call.card)
    assert [b["title"] for b in buttons] == ["質問する", "匿名で相談・通報する",
                                             "相談の状況を確認する"]
    assert all(b["data"]["msteams"] == {"type": "task/fetch"} for b in buttons)


def test_install_in_a_team_welcomes_the_channel_in_its_language(teams, teams_api):
    teams.installed(scope="team", locale="en-US")
    [call] = teams_api.wait_for()
    assert call.conversation == TEAM and call.parts[3:] == ["activities"]
    assert [b["title"] for b in actions(call.card)] == [
        "Ask", "Report anonymously", "Check my case"]


def test_other_members_joining_are_not_greeted(teams, teams_api):
    activity = teams.activity(type="conversationUpdate", text=None,
                              membersAdded=[{"id": "29:1someoneelse"}])
    assert teams.send(activity)[0] == 202
    time.sleep(0.3)
    assert teams_api.sent() == []


# -- dialogs -------------------------------------------------------------------------------------


def test_home_ask_opens_a_dialog_and_the_answer_arrives_in_the_chat(teams, teams_api):
    status, answer = teams.invoke("task/fetch", {"action": "ask.open", "value": "ja",
                                                 "msteams": {"type": "task/fetch"}})
    assert status == 200
    dialog = answer["task"]["value"]
    assert answer["task"]["type"] == "continue" and dialog["title"] == "質問する"
    card = dialog["card"]["content"]
    field = inputs(card)["question"]
    assert field["type"] == "Input.Text" and field["isMultiline"] and field["isRequired"]
    [submit] = card["actions"]
    data = {**submit["data"], "question": "パスワードを他人に教えてもいい？"}
    status, answer = teams.invoke("task/submit", data)
    assert status == 200 and answer is None  # the dialog closes
    [posted] = teams_api.wait_for()
    assert posted.conversation == PERSONAL and "出典" in posted.card_text()


def test_empty_question_keeps_the_dialog_open_with_the_error_on_it(teams, teams_api):
    _, answer = teams.invoke("task/fetch", {"action": "ask.open", "value": "en"})
    [submit] = answer["task"]["value"]["card"]["content"]["actions"]
    status, answer = teams.invoke("task/submit", {**submit["data"], "question": "   "})
    assert status == 200 and answer["task"]["type"] == "continue"
    card = answer["task"]["value"]["card"]["content"]
    errors = [b for b in card["body"] if b.get("color") == "attention"]
    assert errors and "質問を入力してください" in errors[0]["text"]
    assert card["actions"][0]["data"] == submit["data"]  # the same form, submittable again
    time.sleep(0.2)
    assert teams_api.sent() == []


def test_report_typed_in_chat_offers_the_form_and_the_receipt_stays_in_the_dialog(
        teams, teams_api):
    teams.dm("report", locale="en-US")
    [launcher] = teams_api.wait_for()
    [button] = actions(launcher.card)
    assert button["data"] == {"command": "report", "msteams": {"type": "task/fetch"}}
    assert inputs(launcher.card) == {}  # the form itself is never posted
    _, answer = teams.invoke("task/fetch", button["data"], locale="en-US")
    card = answer["task"]["value"]["card"]["content"]
    fields = inputs(card)
    # no exclusion picker: this core's desk has no members to pick from
    assert list(fields) == ["category", "what", "when", "where", "who", "anonymity"]
    assert fields["category"]["type"] == "Input.ChoiceSet"
    assert fields["anonymity"]["value"] == "anonymous"
    assert fields["what"]["isMultiline"] and fields["what"]["maxLength"] == 4000
    [submit] = card["actions"]
    _, answer = teams.invoke("task/submit", {**submit["data"], "category": "id_misuse",
                                             "what": "ID貸与の疑いがあります"})
    receipt = answer["task"]["value"]["card"]["content"]
    values = receipt_values(receipt)  # the key hidden until "Show" is pressed
    case_number, key = values["Case number"], values["Secret key"]
    assert case_number.startswith("R-") and len(key) == 24
    time.sleep(0.2)
    everything = " ".join(c.card_text() for c in teams_api.connector_calls())
    assert case_number not in everything and key not in everything
    assert "ID貸与" not in everything


def test_case_check_form_with_a_wrong_key_shows_the_error_on_the_form(teams, teams_api):
    _, answer = teams.invoke("task/fetch", {"command": "case R-2345ABCD"})
    card = answer["task"]["value"]["card"]["content"]
    assert inputs(card)["case_number"]["value"] == "R-2345ABCD"
    [submit] = card["actions"]
    _, answer = teams.invoke("task/submit", {**submit["data"], "case_number": "R-2345ABCD",
                                             "key": "WRONG-KEY0-0000-0000-0000"})
    card = answer["task"]["value"]["card"]["content"]
    assert inputs(card)["key"]["value"] == "WRONG-KEY0-0000-0000-0000"
    assert [b for b in card["body"] if b.get("color") == "attention"]


def test_forged_or_stale_form_submission_gets_a_polite_dialog(teams, teams_api):
    status, answer = teams.invoke("task/submit", {"__form": "not a form"})
    assert status == 200 and answer["task"]["type"] == "continue"
    assert "フォーム" in str(answer)
    status, answer = teams.invoke("task/submit", {"__form": {
        "id": "nothing.known", "fields": [], "state": ""}})
    assert status == 200 and answer["task"]["type"] == "continue"


def test_unused_invokes_are_acknowledged(teams, teams_api):
    status, answer = teams.invoke("adaptiveCard/action", {"verb": "x"})
    assert status == 200 and answer == {}
