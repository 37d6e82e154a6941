"""When Slack's Web API misbehaves: retries on 429, an apology on failure, no crash, no leak."""

from __future__ import annotations

import logging
import time

from tests.slack_api import Failure


def test_rate_limited_post_is_retried_after_retry_after(slack, slack_api):
    slack_api.fail("chat.postMessage", Failure(status=429, retry_after=1))
    slack.mention("パスワードを他人に教えてもいい？")
    first, second = slack_api.wait_for("chat.postMessage", 2)
    assert second.at - first.at >= 0.9  # slack_sdk waited as Slack asked
    assert second.params["blocks"] == first.params["blocks"]


def test_web_api_failure_leaves_an_apology_and_the_listener_keeps_working(slack, slack_api,
                                                                          caplog):
    caplog.set_level(logging.DEBUG)
    slack_api.fail("chat.postMessage", Failure(error="internal_error"))
    slack.dm("パスワードを他人に教えてもいい？", channel="D0EMPLOYEE")
    _, apology = slack_api.wait_for("chat.postMessage", 2)
    assert "申し訳ありません" in apology.params["text"]
    assert apology.params["channel"] == "D0EMPLOYEE"
    assert "message.im: Slack Web API call failed: 200 internal_error" in caplog.text
    slack.dm("IDを共有してもいい？", channel="D0EMPLOYEE", ts="1700000000.000900")
    third = slack_api.wait_for("chat.postMessage", 3)[2]
    assert "出典" in third.blocks_text()


def test_failed_apology_is_logged_not_raised(slack, slack_api, caplog):
    slack_api.fail("chat.postEphemeral", Failure(error="internal_error"))
    slack_api.fail("chat.postMessage", Failure(error="channel_not_found"))
    slack.mention("パスワードを他人に教えてもいい？")
    slack_api.wait_for("chat.postEphemeral")
    deadline = time.monotonic() + 5
    while "apology not delivered" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "apology not delivered either: 200 internal_error" in caplog.text


def test_no_user_id_question_or_payload_reaches_the_logs(slack, slack_api, caplog):
    caplog.set_level(logging.DEBUG)
    question = "退職した同僚のIDでログインしてもいいですか？"
    slack.mention(question, user="U0SECRET42")
    slack.dm(question, user="U0SECRET42", channel="D0SECRET42")
    slack.command(question, user="U0SECRET42", user_name="secret.person")
    slack_api.wait_for("chat.postMessage", 2)
    slack_api.wait_for("response_url")
    slack.press("nothing.known|0", "x", user="U0SECRET42")  # the unknown-action path logs too
    time.sleep(0.3)
    logged = caplog.text
    for secret in ("U0SECRET42", "D0SECRET42", "secret.person", question, "退職した同僚"):
        assert secret not in logged
    assert "question" in logged  # the log is not simply empty
