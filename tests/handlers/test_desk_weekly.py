"""The desk report posted weekly with its chart: at its moment, once a week across instances,
retried when the post fails, on the loopback Slack Web API as a file upload. The clock is
injected and moved by hand; nothing is patched."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.config import SlackEnv
from bot.core import Core, build_core
from bot.escalations.models import WeeklyReportPost
from bot.escalations.views import ESCALATE
from bot.platforms.slack.ports import ports_for
from bot.platforms.teams.cards import message_activity
from bot.registry import Job
from bot.wiring import Bot, assemble
from tests.handlers.messenger import (
    DESK_CHANNEL,
    DESK_CONFIG,
    EMPLOYEE,
    Clock,
    DeskHarness,
    Posted,
    RecordingMessenger,
    button,
    jst,
)
from tests.slack_api import BOT_TOKEN, FakeSlackAPI

PNG = b"\x89PNG\r\n\x1a\n"
JOB = "escalations.weekly_report"
WEEKLY = "  weekly_report: {enabled: true, weekday: mon, time: '09:00', weeks: 6}\n"
MONDAY = jst(2026, 11, 30, 9, 0)  # in ISO week 2026-W49


def _job(bot: Bot) -> Job:
    return next(job for job in bot.registry.jobs if job.name == JOB)


def _reports(messenger: RecordingMessenger) -> list[Posted]:
    return [p for p in messenger.top_level(DESK_CHANNEL) if p.reply.image is not None]


def _rows(core: Core) -> list[WeeklyReportPost]:
    with core.database.transaction() as session:
        return list(session.execute(
            sa.select(WeeklyReportPost).order_by(WeeklyReportPost.week)).scalars())


def _escalate(desk: DeskHarness, text: str) -> None:
    answer = desk.say(text)
    outcome = desk.submit(desk.press(button(answer, ESCALATE), EMPLOYEE), EMPLOYEE)
    assert not outcome.errors


@pytest.fixture
def weekly_core(database, make_settings) -> Iterator[Core]:  # type: ignore[no-untyped-def]
    core = build_core(make_settings(DESK_CONFIG + WEEKLY, DATABASE_URL=database.url))
    try:
        yield core
    finally:
        core.database.dispose()


@pytest.fixture
def weekly(weekly_core: Core) -> DeskHarness:
    return DeskHarness(weekly_core, RecordingMessenger(), Clock(jst(2026, 11, 24, 10, 0)))


def test_the_job_is_there_only_when_the_weekly_report_is_enabled(desk, weekly):
    assert JOB not in [job.name for job in desk.bot.registry.jobs]  # off by default
    job = _job(weekly.bot)
    assert job.every_s == 300


def test_posted_at_its_moment_with_the_chart_and_once_a_week(weekly):
    _escalate(weekly, "社員食堂の今日のメニューは？")  # Tuesday 11/24, still open a week on
    clock, job = weekly.clock, _job(weekly.bot)
    clock.now = MONDAY - timedelta(minutes=5)
    assert job.run() is False and _reports(weekly.messenger) == []
    clock.now = MONDAY
    assert job.run() is True
    [post] = _reports(weekly.messenger)
    reply = post.reply
    assert reply.title == "窓口の週次レポート（2026-11-30）" and reply.lang == "ja"
    assert reply.text.startswith("2026-11-30 09:00（Asia/Tokyo）時点。")
    assert "全体: 未解決 1 件（うち期限超過 1 件）" in reply.text
    assert "・test:C-DESK: 未解決 1 件" in reply.text
    assert reply.image is not None and reply.image.data.startswith(PNG)
    assert reply.image.filename == "desk-report-2026-W49.png"
    assert "直近の週末 2026-11-29: 未解決 1 件、うち期限超過 1 件" in reply.image.alt
    # Small enough that Teams shows the chart inside the card, under its message limit.
    card = message_activity(reply)["attachments"][0]["content"]
    assert [b["type"] for b in card["body"]].count("Image") == 1
    # Later checks that week post nothing: minutes later, the next day, on Sunday night.
    for later in (timedelta(minutes=5), timedelta(days=1), timedelta(days=6, hours=14)):
        clock.now = MONDAY + later
        assert job.run() is False
    assert len(_reports(weekly.messenger)) == 1
    clock.now = MONDAY + timedelta(weeks=1)
    assert job.run() is True
    assert len(_reports(weekly.messenger)) == 2
    [first, second] = _rows(weekly.bot.core)
    assert (first.week, second.week) == ("2026-W49", "2026-W50")
    assert first.posted_at is not None and first.channel == f"test:{DESK_CHANNEL}"
    assert first.message == _reports(weekly.messenger)[0].ref.id


def test_two_instances_on_one_database_post_once_a_week(weekly_core, make_settings,
                                                        database):
    other_core = build_core(make_settings(DESK_CONFIG + WEEKLY, DATABASE_URL=database.url))
    clock = Clock(MONDAY)
    instances = [DeskHarness(core, RecordingMessenger(), clock)
                 for core in (weekly_core, other_core)]
    try:
        for week in range(3):
            clock.now = MONDAY + timedelta(weeks=week, seconds=week * 90)
            results = _together([_job(instance.bot) for instance in instances])
            assert sorted(results) == [False, True], week
            assert [_job(i.bot).run() for i in instances] == [False, False]
            assert sum(len(_reports(i.messenger)) for i in instances) == week + 1
        assert [row.week for row in _rows(weekly_core)] == ["2026-W49", "2026-W50", "2026-W51"]
    finally:
        other_core.database.dispose()


def _together(jobs: list[Job]) -> list[bool]:
    """Run the jobs at the same moment, each in a thread of its own, as two schedulers do."""
    barrier = threading.Barrier(len(jobs))
    results: list[bool] = []

    def run(job: Job) -> None:
        barrier.wait()
        results.append(bool(job.run()))

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == len(jobs)
    return results


def test_a_failed_post_gives_the_week_back_and_the_next_check_posts(weekly):
    job = _job(weekly.bot)
    weekly.clock.now = MONDAY
    weekly.messenger.failing = True
    assert job.run() is False
    assert _rows(weekly.bot.core) == []  # released: nothing claims the week
    weekly.messenger.failing = False
    weekly.clock.advance(minutes=5)
    assert job.run() is True
    assert len(_reports(weekly.messenger)) == 1
    assert [row.week for row in _rows(weekly.bot.core)] == ["2026-W49"]


def test_a_claim_left_by_an_instance_that_died_is_taken_over(weekly):
    job, core = _job(weekly.bot), weekly.bot.core
    with core.database.transaction() as session:
        session.add(WeeklyReportPost(week="2026-W49", claimed_at=MONDAY, claimed_by="gone:1"))
    weekly.clock.now = MONDAY + timedelta(minutes=10)
    assert job.run() is False  # it may still be posting
    weekly.clock.now = MONDAY + timedelta(minutes=35)
    assert job.run() is True
    [row] = _rows(core)
    assert row.claimed_by != "gone:1" and row.posted_at is not None
    assert len(_reports(weekly.messenger)) == 1


def test_a_late_post_comes_within_a_day_and_an_older_week_is_skipped(weekly):
    job = _job(weekly.bot)
    weekly.clock.now = MONDAY + timedelta(days=1, minutes=1)  # down from Monday to Tuesday
    assert job.run() is False
    weekly.clock.now = MONDAY + timedelta(weeks=1, hours=6)  # down on Monday morning only
    assert job.run() is True
    assert [row.week for row in _rows(weekly.bot.core)] == ["2026-W50"]


# -- two instances on the loopback Slack Web API ----------------------------------------------

SLACK_WEEKLY_CONFIG = """
default_language: en
desk:
  members: ["slack:U0DESK001"]
  default_channel: slack:C0DESK001
  weekly_report: {enabled: true, weekday: mon, time: "09:00"}
"""


def test_two_slack_instances_upload_the_chart_to_the_desk_channel_once(
        database, make_settings, slack_api: FakeSlackAPI):
    slack = SlackEnv(bot_token=BOT_TOKEN, app_token=None, signing_secret=None,
                     api_url=slack_api.url)
    clock = Clock(MONDAY + timedelta(minutes=3))
    cores = [build_core(make_settings(SLACK_WEEKLY_CONFIG, DATABASE_URL=database.url))
             for _ in range(2)]
    try:
        bots = [assemble(core, {"slack": ports_for(slack)},
                         options={"escalations": {"clock": clock}}) for core in cores]
        assert sorted(_together([_job(bot) for bot in bots])) == [False, True]
        [shared] = slack_api.shared_files("C0DESK001")
        assert shared.data.startswith(PNG)
        assert shared.filename == "desk-report-2026-W49.png"
        assert shared.comment is not None
        assert shared.comment.startswith("*Desk weekly report (2026-11-30)*\nAs of 2026-11-30")
        assert "All: 0 open (0 overdue)" in shared.comment
        assert shared.alt is not None and "Week ending 2026-11-29: 0 open" in shared.alt
        assert [c.method for c in slack_api.calls] == [
            "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
        assert slack_api.of("upload")[0].params["length"] == len(shared.data)
    finally:
        for core in cores:
            core.database.dispose()
