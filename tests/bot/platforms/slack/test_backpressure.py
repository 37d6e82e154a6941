"""A flood past the work queue's bound: every request is acknowledged in time, what the bot
cannot take gets "busy, please try again", and nothing is half-done."""

from __future__ import annotations

import json
import threading
import time

import sqlalchemy as sa
from prometheus_client import generate_latest

from bot.metrics import REGISTRY
from bot.models import Question
from bot.platforms.shared import WorkQueue
from tests.slack import SlackHarness

QUESTION = "パスワードを他人に教えてもいい？"


def _warm(slack: SlackHarness, slack_api) -> None:  # type: ignore[no-untyped-def]
    """One request first: Bolt authorises once (auth.test) and caches it, as in a running bot."""
    slack.command("help", user="U0WARM")
    slack_api.wait_for("response_url")
    slack_api.clear()
BUSY = "混み合っている"


def test_a_flood_past_the_bound_is_acked_in_time_and_the_excess_told_busy(core, slack_api):
    # Two workers and room for four events in all; Slack's side is held so they stay busy.
    slack = SlackHarness(core, slack_api, work=WorkQueue("slack", workers=2, limit=4))
    try:
        _warm(slack, slack_api)
        slack_api.pause()
        took = []
        for index in range(20):
            started = time.monotonic()
            status, _ = slack.dm(QUESTION, user=f"U0FLOOD{index:03d}",
                                 channel=f"D0FLOOD{index:03d}", ts=f"1700000100.{index:06d}")
            took.append(time.monotonic() - started)
            assert status == 200
        assert max(took) < 3.0  # Slack's limit for an acknowledgement
        status, body = slack.command("help", user="U0FLOODCMD")  # also while full
        assert status == 200 and BUSY in json.loads(body)["text"]
        metrics = generate_latest(REGISTRY).decode()
        assert 'compliance_bot_work_queue_depth{platform="slack"} 4.0' in metrics
        slack_api.resume()
        posts = slack_api.wait_for("chat.postMessage", 20, timeout=30)
        answered = [p for p in posts if BUSY not in json.dumps(p.params, ensure_ascii=False)]
        busy = [p for p in posts if BUSY in json.dumps(p.params, ensure_ascii=False)]
        assert len(answered) == 4 and len(busy) == 16
        assert {p.params["channel"] for p in posts} == {f"D0FLOOD{i:03d}" for i in range(20)}
        # Nothing half-done: a question stored is a question answered, and the busy ones
        # stored nothing.
        with core.database.transaction() as session:
            stored = session.scalars(sa.select(Question)).all()
        assert len(stored) == 4
        metrics = generate_latest(REGISTRY).decode()
        assert 'compliance_bot_work_shed_total{kind="event",platform="slack"}' in metrics
        assert 'compliance_bot_work_shed_total{kind="command",platform="slack"}' in metrics
    finally:
        slack_api.resume()
        slack.close()


def test_a_press_and_a_form_while_full_get_busy_without_losing_anything(core, slack_api):
    slack = SlackHarness(core, slack_api, work=WorkQueue("slack", workers=1, limit=1))
    try:
        _warm(slack, slack_api)
        deadline = time.monotonic() + 5  # the warm-up's listener has finished
        while slack.ctx.work.full and time.monotonic() < deadline:
            time.sleep(0.01)
        slack_api.pause()
        held = threading.Event()
        slack.ctx.work.submit(held.wait, 10)  # an earlier event still being handled
        assert slack.ctx.work.full
        status, _ = slack.press("ask.feedback|0", "1:up", user="U0PRESSER")
        assert status == 200
        view = {"type": "modal", "callback_id": "report.submit", "private_metadata": "{}",
                "blocks": [{"type": "input", "block_id": "what",
                            "element": {"type": "plain_text_input", "action_id": "value"}}]}
        status, body = slack.submit(view, {"what": "報告です"}, user="U0FORM")
        answer = json.loads(body)
        assert status == 200 and answer["response_action"] == "errors"
        assert BUSY in answer["errors"]["what"]  # the form stays open, filled in
        held.set()
        slack_api.resume()
        [told] = slack_api.wait_for("response_url")
        assert BUSY in json.dumps(told.params, ensure_ascii=False)
    finally:
        slack_api.resume()
        slack.close()
