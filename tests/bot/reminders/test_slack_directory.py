"""Reminders over the real Slack client, against the loopback Web API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient

from bot.messages import Address
from bot.platforms.slack.directory import SlackDirectory
from bot.platforms.slack.messenger import SlackMessenger
from bot.reminders.definitions import Audience, load_reminders
from bot.reminders.scheduler import ReminderScheduler
from tests.bot.reminders.fakes import SHIPPED, FakeClock, FakeTime
from tests.slack_api import BOT_TOKEN, Failure, FakeSlackAPI


def _client(api: FakeSlackAPI) -> WebClient:
    client = WebClient(token=BOT_TOKEN, base_url=api.url, timeout=5)
    client.retry_handlers = []  # the reminder sender honours Retry-After itself, for everyone
    return client


def _paged(key: str, pages: list[list[Any]]):  # type: ignore[no-untyped-def]
    def handler(params: dict[str, Any]) -> dict[str, Any]:
        index = int(params.get("cursor") or 0)
        more = {"next_cursor": str(index + 1)} if index + 1 < len(pages) else {"next_cursor": ""}
        return {"ok": True, key: pages[index], "response_metadata": more}
    return handler


def _workspace(api: FakeSlackAPI) -> None:
    api.handlers["users.list"] = _paged("members", [
        [{"id": "U1"}, {"id": "UBOT", "is_bot": True}, {"id": "USLACKBOT"}],
        [{"id": "U2"}, {"id": "UGONE", "deleted": True}, {"id": "U3"}],
    ])
    api.handlers["conversations.members"] = _paged("members", [["U1", "UBOT"], ["U3"]])
    api.handlers["usergroups.users.list"] = lambda params: {
        "ok": True, "users": ["U2", "UGONE"] if params["usergroup"] == "S1" else []}


def test_members_of_each_audience_are_people_only():
    with FakeSlackAPI() as api:
        _workspace(api)
        directory = SlackDirectory(_client(api))
        assert directory.members(Audience(all_members="slack")) == ["U1", "U2", "U3"]
        assert directory.members(Audience(channel="slack:C1")) == ["U1", "U3"]
        assert directory.members(Audience(usergroup="slack:S1")) == ["U2"]
        assert [c.params.get("cursor") for c in api.of("users.list")][:2] == [None, "1"]


def test_find_posted_searches_the_dm_history_for_the_marker():
    with FakeSlackAPI() as api:
        api.handlers["conversations.open"] = lambda params: {
            "ok": True, "channel": {"id": "D" + params["users"]}}
        api.handlers["conversations.history"] = lambda params: {"ok": True, "messages": [
            {"ts": "10.1", "blocks": [{"type": "context", "elements": [
                {"type": "mrkdwn", "text": "参照番号 R7-0-abcd1234"}]}]},
            {"ts": "9.1", "text": "something else"},
        ]}
        directory = SlackDirectory(_client(api))
        since = datetime(2027, 2, 1, tzinfo=UTC)
        found = directory.find_posted(Address("user", "U1"), "R7-0-abcd1234", since)
        assert found is not None and (found.channel, found.id) == ("DU1", "10.1")
        assert directory.find_posted(Address("user", "U1"), "R8-0-ffff0000", since) is None
        [history, _] = api.of("conversations.history")
        assert history.params["channel"] == "DU1"
        assert float(history.params["oldest"]) == since.timestamp()


def test_a_fan_out_over_slack_honours_retry_after_and_sends_each_dm_once(rcore):
    with FakeSlackAPI() as api:
        _workspace(api)
        api.fail("chat.postMessage", Failure(status=429, retry_after=3))
        clock = FakeClock(datetime(2027, 1, 20, tzinfo=UTC))
        time = FakeTime()
        client = _client(api)
        scheduler = ReminderScheduler(
            rcore, [r for r in load_reminders(SHIPPED) if r.id == "conduct-rule-training"],
            {"slack": SlackMessenger(client)}, directories={"slack": SlackDirectory(client)},
            lookups={"slack": SlackDirectory(client)}, clock=clock,
            monotonic=time.monotonic, sleep=time.sleep)
        scheduler.sweep()
        clock.set(datetime(2027, 2, 1, 2, tzinfo=UTC))
        scheduler.sweep()
        posts = api.of("chat.postMessage")
        assert len(posts) == 4  # one refused with 429, then one each
        assert sorted(call.params["channel"] for call in posts[1:]) == ["U1", "U2", "U3"]
        assert 3.0 in time.slept
        blocks = json.dumps(posts[1].params["blocks"], ensure_ascii=False)
        assert "受講しました" in blocks and "参照番号 R" in blocks


def test_reminder_ports_share_one_client_without_retries():
    from bot.config import SlackEnv
    from bot.platforms.slack.directory import reminder_ports

    slack = SlackEnv(bot_token=BOT_TOKEN, app_token="xapp-1", signing_secret=None,
                     api_url="http://127.0.0.1:9/api/")
    messenger, directory = reminder_ports(slack)
    assert messenger.client is directory.client
    assert messenger.client.retry_handlers == []
    assert messenger.client.base_url == "http://127.0.0.1:9/api/"
