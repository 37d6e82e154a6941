"""A reply's image on every platform: a file upload in Slack (files_upload_v2 against the
loopback Web API), a data URL in a Teams card while the message fits, a saved file in the
console."""

from __future__ import annotations

import base64
import io
import os

import pytest

from bot.config import SlackEnv
from bot.messages import Address, Button, Image, MessengerError, Reply
from bot.platforms.console import ConsoleMessenger
from bot.platforms.slack.messenger import SlackMessenger, web_client
from bot.platforms.teams.cards import MESSAGE_LIMIT, encode, message_activity
from tests.slack_api import BOT_TOKEN, Failure, FakeSlackAPI

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # not a picture, but bytes that must survive
CHART = Image(PNG, "desk-report-2026-12-07.png", "Open escalations per week")


def _reply(**extra) -> Reply:  # type: ignore[no-untyped-def]
    return Reply("未解決 4 件 <!channel>", "ja", title="週次レポート",
                 fields=[("期限超過", "2")], image=CHART, **extra)


@pytest.fixture
def messenger(slack_api: FakeSlackAPI) -> SlackMessenger:
    return SlackMessenger(web_client(SlackEnv(bot_token=BOT_TOKEN, app_token=None,
                                              signing_secret=None, api_url=slack_api.url)))


def test_slack_uploads_the_image_with_the_reply_as_its_comment(messenger, slack_api):
    ref = messenger.post(Address("channel", "C0DESK001"), _reply())
    assert [c.method for c in slack_api.calls] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    [shared] = slack_api.shared_files("C0DESK001")
    assert shared.data == PNG and shared.filename == CHART.filename
    assert shared.alt == CHART.alt and shared.thread_ts is None
    assert shared.comment == "*週次レポート*\n未解決 4 件 &lt;!channel&gt;\n*期限超過*: 2"
    assert (ref.platform, ref.channel, ref.id) == ("slack", "C0DESK001", shared.ts)
    assert slack_api.of("chat.postMessage") == []


def test_slack_posts_buttons_first_and_the_image_in_their_thread(messenger, slack_api):
    ref = messenger.post(Address("channel", "C0DESK001"),
                         _reply(buttons=[Button("開く", "desk.open", "1")]))
    [message] = slack_api.of("chat.postMessage")
    assert ref.id == slack_api.shared_files()[0].thread_ts
    assert "開く" in message.blocks_text()
    assert slack_api.shared_files()[0].comment == CHART.alt


def test_slack_opens_the_dm_to_upload_to_a_user(messenger, slack_api):
    messenger.post(Address("user", "U0DESK001"), _reply())
    assert slack_api.of("conversations.open")[0].params["users"] == "U0DESK001"
    assert [f.channel for f in slack_api.shared_files()] == ["DU0DESK001"]


@pytest.mark.parametrize("method,failure", [
    ("upload", Failure(status=500)),
    ("files.completeUploadExternal", Failure(error="not_in_channel")),
    ("files.getUploadURLExternal", Failure(error="missing_scope")),
])
def test_a_failed_upload_is_a_messenger_error(messenger, slack_api, method, failure):
    slack_api.fail(method, failure)
    with pytest.raises(MessengerError):
        messenger.post(Address("channel", "C0DESK001"), _reply())
    assert slack_api.shared_files() == []


def test_a_channel_the_bot_is_not_in_is_a_messenger_error(messenger, slack_api):
    with pytest.raises(MessengerError, match="channel_not_found"):
        messenger.post(Address("channel", "C0NOWHERE"), _reply())


def test_teams_puts_the_image_in_the_card_as_a_data_url():
    activity = message_activity(_reply())
    body = activity["attachments"][0]["content"]["body"]
    [image] = [b for b in body if b["type"] == "Image"]
    assert image["url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert image["altText"] == CHART.alt
    assert len(encode(activity)) <= MESSAGE_LIMIT


def test_teams_leaves_out_an_image_that_would_make_the_message_too_large():
    big = Image(os.urandom(24_000), "big.png", "Open escalations per week")
    activity = message_activity(Reply("text", "en", title="Weekly", image=big))
    body = activity["attachments"][0]["content"]["body"]
    assert not [b for b in body if b["type"] == "Image"]
    assert any("too large for a Teams message" in b.get("text", "")
               and "Open escalations per week" in b["text"] for b in body)
    assert len(encode(activity)) < MESSAGE_LIMIT


def test_the_console_saves_the_image_and_says_where(tmp_path):
    out = io.StringIO()
    ConsoleMessenger(out, image_dir=tmp_path).post(Address("channel", "desk"), _reply())
    saved = tmp_path / CHART.filename
    assert saved.read_bytes() == PNG
    assert out.getvalue().rstrip().endswith(f"画像を保存しました: {saved}")
    assert "未解決 4 件" in out.getvalue()
