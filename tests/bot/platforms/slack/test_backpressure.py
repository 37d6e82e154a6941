"""A flood past the work queue's bound: every request is acknowledged in time, what the bot
cannot take gets "busy, please try again", and nothing is half-done."""

from __future__ import annotations

import http.client
import json
import threading
import time

import sqlalchemy as sa
from prometheus_client import generate_latest

from bot.metrics import REGISTRY
from bot.models import Feedback, Question
from bot.platforms.shared import WorkQueue
from bot.server import Request, Response
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
    # The count bound alone (the wait bound is tested below).
    slack = SlackHarness(core, slack_api, work=WorkQueue("slack", workers=2, limit=4,
                                                         max_wait=60))
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
    slack = SlackHarness(core, slack_api, work=WorkQueue("slack", workers=1, limit=1,
                                                         max_wait=60))
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


def test_the_queue_is_full_once_its_oldest_event_has_waited_too_long() -> None:
    """A few slow events can make an answer late as surely as many quick ones: the wait bound
    refuses new events while the oldest one waiting has waited `max_wait`."""
    work = WorkQueue("slack-wait-test", workers=1, limit=100, max_wait=0.2)
    held = threading.Event()
    try:
        work.submit(held.wait, 10)  # the only worker is busy
        waiting = work.submit(lambda: "answered")
        assert not work.full  # one event, just queued
        time.sleep(0.3)
        assert work.waited() >= 0.2 and work.full
        held.set()
        assert waiting.result(timeout=5) == "answered"
        assert work.waited() == 0 and not work.full
    finally:
        held.set()
        work.shutdown(wait=True)


def _feedback_button(slack: SlackHarness, slack_api) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    slack.dm(QUESTION, user="U0ASKER", channel="D0ASKER")
    [answer] = slack_api.wait_for("chat.postMessage")
    slack_api.clear()
    for block in answer.params["blocks"]:
        for element in block.get("elements") or []:
            if str(element.get("action_id", "")).startswith("ask.feedback") \
                    and str(element.get("value", "")).endswith(":up"):
                return element["action_id"], element["value"]
    raise AssertionError("the answer carries no feedback button")


def test_requests_queued_for_a_server_thread_past_the_bound_are_told_busy(core, slack_api):
    """The work queue is not the only queue: requests the HTTP server has read and not yet
    given a thread wait too. Past the door's bound they are answered busy, stored nowhere."""
    slack = SlackHarness(core, slack_api, threads=1, backlog_limit=2)
    gate, entered = threading.Event(), threading.Event()

    def hold(_request: Request) -> Response:
        entered.set()
        gate.wait(10)
        return Response.text(200, "held")

    slack.routes.add("/hold", hold)
    try:
        _warm(slack, slack_api)
        action, value = _feedback_button(slack, slack_api)
        holder = threading.Thread(target=_get, args=(slack.port, "/hold"))
        holder.start()
        assert entered.wait(5)  # the server's only thread is taken
        statuses: list[int] = []
        pressers = [threading.Thread(target=lambda n=n: statuses.append(
            slack.press(action, value, user=f"U0QUEUED{n}")[0])) for n in range(6)]
        for presser in pressers:
            presser.start()
        deadline = time.monotonic() + 10
        while slack.routes.backlog() < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert slack.routes.backlog() == 6
        gate.set()
        for presser in pressers:
            presser.join(10)
        holder.join(10)
        assert statuses == [200] * 6
        # Taken in arrival order: the first three saw 5, 4 and 3 still waiting behind them.
        posts = slack_api.wait_for("response_url", 6, timeout=30)
        busy = [p for p in posts if BUSY in json.dumps(p.params, ensure_ascii=False)]
        assert len(busy) == 3
        with core.database.transaction() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 3
        metrics = generate_latest(REGISTRY).decode()
        assert 'compliance_bot_work_shed_total{kind="action",platform="slack"}' in metrics
    finally:
        gate.set()
        slack.close()


def _get(port: int, path: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", path)
        connection.getresponse().read()
    finally:
        connection.close()


def test_a_press_is_acknowledged_at_once_while_every_worker_is_busy(core, slack_api):
    # Bolt would hold the request until a worker started the listener and acked from
    # there; with the one worker busy, the press must still be acknowledged at once, and
    # the rating recorded (and thanked) once the worker is free.
    slack = SlackHarness(core, slack_api, work=WorkQueue("slack", workers=1, limit=10,
                                                         max_wait=60))
    try:
        _warm(slack, slack_api)
        action_id, value = _feedback_button(slack, slack_api)
        held = threading.Event()
        slack.ctx.work.submit(held.wait, 10)  # the one worker is busy with an earlier event
        started = time.monotonic()
        status, _ = slack.press(action_id, value, user="U0PRESSER")
        took = time.monotonic() - started
        assert status == 200
        assert took < 2.0  # acknowledged without waiting for the worker (Bolt waits 3 s)
        assert slack_api.of("response_url") == []  # nothing is claimed before it is done
        with core.database.transaction() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 0
        held.set()
        [thanks] = slack_api.wait_for("response_url")
        assert BUSY not in json.dumps(thanks.params, ensure_ascii=False)
        with core.database.transaction() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 1
    finally:
        held.set()
        slack.close()
