"""The bot speaking first on Teams: DMs, channel posts and their threads, updates in place,
reminders to stored references exactly once, and the desk's triage cards."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.core import Core, build_core
from bot.escalations.views import CLAIM, ESCALATE, REPLY
from bot.messages import Address, MessageRef, MessengerError, Reply
from bot.reminders.definitions import Audience, load_reminders
from bot.reminders.models import ReminderAck
from bot.reminders.scheduler import ReminderScheduler
from tests.bot.platforms.teams.harness import (
    CHANNEL,
    EMPLOYEE_AAD,
    PERSONAL,
    TeamsHarness,
    actions,
    inputs,
)
from tests.teams_api import BOT_ID, TENANT_ID, FakeTeams

STRANGER_AAD = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
DESK_AAD = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
DESK_ID = "29:1DeskMemberTeamsId_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"


def _creates(teams_api: FakeTeams) -> list:
    return [c for c in teams_api.calls if c.path.endswith("/v3/conversations")]


def test_dm_to_someone_never_seen_opens_the_chat_once_by_aad_object_id(teams, teams_api):
    messenger = teams.bot.messenger
    first = messenger.post(Address("user", STRANGER_AAD), Reply("一回目", "ja"))
    second = messenger.post(Address("user", STRANGER_AAD), Reply("二回目", "ja"))
    [create] = _creates(teams_api)
    assert create.path.startswith("/teams/")  # the configured service URL
    assert create.body == {"bot": {"id": BOT_ID}, "members": [{"id": STRANGER_AAD}],
                           "isGroup": False, "tenantId": TENANT_ID,
                           "channelData": {"tenant": {"id": TENANT_ID}}}
    one, two = teams_api.sent()
    assert one.conversation == two.conversation and one.conversation.startswith("a:1")
    # The refs are short keys that fit the flows' columns, not the long chat id.
    assert first.channel == second.channel == STRANGER_AAD and len(first.id) <= 64


def test_dm_after_install_uses_the_stored_conversation_reference(teams, teams_api):
    teams.installed()
    teams_api.wait_for()
    ref = teams.bot.messenger.post(Address("user", EMPLOYEE_AAD), Reply("お知らせ", "ja"))
    assert _creates(teams_api) == []
    assert teams_api.sent()[-1].conversation == PERSONAL
    teams.bot.messenger.update(ref, Reply("お知らせ（更新）", "ja"))
    [put] = teams_api.of("PUT")
    assert put.conversation == PERSONAL and put.parts[-1] == ref.id
    assert "更新" in put.card_text()


def test_channel_post_its_thread_update_and_delete(teams, teams_api):
    messenger = teams.bot.messenger
    ref = messenger.post(Address("channel", CHANNEL), Reply("triage", "en", title="Case"))
    assert ref == MessageRef("teams", CHANNEL, ref.id)
    post = teams_api.sent()[0]
    assert post.conversation == CHANNEL and post.parts[3:] == ["activities"]
    messenger.post(Address("channel", CHANNEL, thread=ref.id), Reply("note", "en"))
    note = teams_api.sent()[1]
    assert note.conversation == f"{CHANNEL};messageid={ref.id}"
    assert note.parts[3:] == ["activities", ref.id] and note.body["replyToId"] == ref.id
    messenger.update(ref, Reply("triage (claimed)", "en", title="Case"))
    [put] = teams_api.of("PUT")
    assert put.conversation == CHANNEL and put.parts[3:] == ["activities", ref.id]
    assert put.body["id"] == ref.id and "claimed" in put.card_text()
    messenger.delete(ref)
    [delete] = teams_api.of("DELETE")
    assert delete.parts[3:] == ["activities", ref.id]
    assert all(c.token in teams_api.issued_tokens for c in teams_api.connector_calls())


# -- reminders ---------------------------------------------------------------------------------

REMINDERS = f"""
reminders:
  - id: teams-training
    title: {{ja: 研修のお願い, en: Training}}
    message: {{ja: 研修を受講してください。, en: Please take the training.}}
    schedule: {{cron: "0 10 1 * *", timezone: Asia/Tokyo}}
    audience: {{users: ["teams:{EMPLOYEE_AAD}"]}}
    delivery: dm
    acknowledge: {{ja: 受講しました, en: Done}}
"""


@pytest.fixture
def reminder_core(database, make_settings, tmp_path) -> Iterator[Core]:
    path = tmp_path / "reminders.yaml"
    path.write_text(REMINDERS, encoding="utf-8")
    core = build_core(make_settings(f"reminders:\n  path: {path}\n",
                                    DATABASE_URL=database.url))
    try:
        yield core
    finally:
        core.database.dispose()


def test_reminder_reaches_a_stored_reference_exactly_once_and_is_acknowledged(
        reminder_core, teams_api):
    teams = TeamsHarness(reminder_core, teams_api)
    try:
        teams.installed()  # Teams tells the bot where the employee's chat is
        teams_api.wait_for()
        teams_api.clear()
        now = [datetime(2026, 12, 1, 0, 55, tzinfo=UTC)]  # 09:55 in Tokyo on the 1st
        reminders = load_reminders(reminder_core.settings.file.reminders.path)

        def scheduler(holder: str) -> ReminderScheduler:
            return ReminderScheduler(reminder_core, reminders, teams.app.messengers,
                                     clock=lambda: now[0], holder=holder)

        first = scheduler("instance-1")
        first.sweep()  # the definition is first seen: it starts now
        now[0] = datetime(2026, 12, 1, 1, 5, tzinfo=UTC)  # 10:05: the reminder is due
        for _ in range(3):
            first.sweep()
        scheduler("instance-2").sweep()  # another instance finds nothing left to send
        [dm] = teams_api.sent()
        assert dm.conversation == PERSONAL and _creates(teams_api) == []
        assert "研修を受講してください" in dm.card_text()
        [ack] = [a for a in actions(dm.card) if a["data"]["action"] == "reminder.ack"]
        assert ack["title"] == "受講しました / Done"
        assert teams.press(ack["data"], reply_to="1700000000600")[0] == 202
        teams_api.wait_for(2)
        with reminder_core.database.transaction() as session:
            [row] = session.scalars(sa.select(ReminderAck)).all()
            assert row.recipient == f"teams:{EMPLOYEE_AAD}"
        first.sweep()
        time.sleep(0.2)
        assert len(teams_api.sent()) == 2  # the reminder and the thanks for acknowledging
    finally:
        teams.close()


def test_a_team_channel_audience_gets_one_dm_each_through_the_teams_directory(
        database, make_settings, tmp_path, teams_api):
    path = tmp_path / "reminders.yaml"
    path.write_text(REMINDERS.replace(f'users: ["teams:{EMPLOYEE_AAD}"]',
                                      f'channel: "teams:{CHANNEL}"'), encoding="utf-8")
    core = build_core(make_settings(f"reminders:\n  path: {path}\n",
                                    DATABASE_URL=database.url))
    teams = TeamsHarness(core, teams_api)
    try:
        now = [datetime(2026, 12, 1, 0, 55, tzinfo=UTC)]
        scheduler = ReminderScheduler(
            core, load_reminders(path), teams.app.messengers,
            directories={"teams": teams.app.core.ports["teams"].directory}, clock=lambda: now[0])
        scheduler.sweep()
        now[0] = datetime(2026, 12, 1, 1, 5, tzinfo=UTC)
        scheduler.sweep()
        scheduler.sweep()
        members = [c.body["members"][0]["id"] for c in _creates(teams_api)]
        assert sorted(members) == [f"00000000-0000-0000-0000-00000000000{n}" for n in (1, 2, 3)]
        assert len(teams_api.sent()) == 3
        pages = [c for c in teams_api.calls if c.path.endswith("/pagedmembers")]
        assert len(pages) == 2 and pages[0].conversation == CHANNEL
    finally:
        teams.close()
        core.database.dispose()


# -- the desk's triage cards -----------------------------------------------------------------


@pytest.fixture
def desk_core(database, make_settings) -> Iterator[Core]:
    core = build_core(make_settings(
        f"desk:\n  members: ['teams:{DESK_AAD}']\n  default_channel: 'teams:{CHANNEL}'\n",
        DATABASE_URL=database.url))
    try:
        yield core
    finally:
        core.database.dispose()


def test_escalation_triage_card_is_updated_in_place_and_the_reply_reaches_the_employee(
        desk_core, teams_api):
    teams = TeamsHarness(desk_core, teams_api)
    try:
        teams.dm("社員食堂の今日のメニューは？")
        [abstain] = teams_api.wait_for()
        [escalate] = [a for a in actions(abstain.card) if a["data"]["action"] == ESCALATE]
        teams.press(escalate["data"], reply_to="1700000000700")
        [_, launcher] = teams_api.wait_for(2)
        [open_form] = actions(launcher.card)
        _, answer = teams.invoke("task/fetch", open_form["data"])
        form = answer["task"]["value"]["card"]["content"]
        assert inputs(form)["question"]["value"] == "社員食堂の今日のメニューは？"
        _, answer = teams.invoke("task/submit", {**form["actions"][0]["data"],
                                                 "question": "社員食堂の今日のメニューは？",
                                                 "context": "", "urgency": "normal"})
        assert answer["task"]["type"] == "continue"
        triage = teams_api.wait_for(3)[2]
        assert triage.conversation == CHANNEL and triage.parts[3:] == ["activities"]
        triage_id = triage.answer["id"]
        [claim] = [a for a in actions(triage.card) if a["data"]["action"] == CLAIM]

        desk = {"aad": DESK_AAD, "user": DESK_ID, "user_name": "Desk Member"}
        teams.press(claim["data"], reply_to=triage_id, scope="channel", **desk)
        [put] = teams_api.wait_for(method="PUT", what="/activities/")
        assert put.conversation == CHANNEL and put.parts[-1] == triage_id
        assert not [a for a in actions(put.card) if a["data"]["action"] == CLAIM]

        [reply] = [a for a in actions(put.card) if a["data"]["action"] == REPLY]
        teams.press(reply["data"], reply_to=triage_id, scope="channel", **desk)
        desk_launcher = teams_api.wait_for(4)[3]
        [create] = _creates(teams_api)
        assert create.body["members"] == [{"id": DESK_ID}]  # the desk member's own chat
        _, answer = teams.invoke("task/fetch", actions(desk_launcher.card)[0]["data"], **desk)
        reply_form = answer["task"]["value"]["card"]["content"]
        status, answer = teams.invoke("task/submit", {**reply_form["actions"][0]["data"],
                                                      "text": "メニューは社内ポータルにあります。"},
                                      **desk)
        assert status == 200 and answer is None
        sent = teams_api.sent()
        to_employee = [c for c in sent if c.conversation == PERSONAL]
        assert "メニューは社内ポータルにあります" in to_employee[-1].card_text()
        in_thread = [c for c in sent if c.conversation == f"{CHANNEL};messageid={triage_id}"]
        assert in_thread and "メニューは社内ポータル" in in_thread[-1].card_text()
    finally:
        teams.close()


def test_audiences_teams_cannot_list_are_refused_with_a_reason(teams):
    for audience in (Audience(usergroup="teams:everyone"), Audience(all_members="teams")):
        with pytest.raises(MessengerError) as info:
            teams.app.core.ports["teams"].directory.members(audience)
        assert "use a team channel or a user list" in str(info.value)
