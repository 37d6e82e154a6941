"""`compliance-bot desk report` and `desk draft` on a seeded database, checked by hand."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import PROJECT_ROOT
from bot.escalations.models import RESOLVED, Escalation, EscalationMessage
from bot.escalations.sla import BusinessCalendar
from bot.kb.loader import load_knowledge

# 09:00-17:00 on weekdays; Monday 2026-11-23 is a holiday.
CONFIG = """
desk:
  default_channel: test:C-DESK
  sla:
    opens: "09:00"
    closes: "17:00"
    holidays: [2026-11-23]
    high: {first_response: 2h, resolution: 1d}
    normal: {first_response: 1d, resolution: 3d}
"""


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=9)


@pytest.fixture
def seeded(database, make_settings):  # type: ignore[no-untyped-def]
    """Six escalations whose figures are worked out by hand in the test below."""
    settings = make_settings(CONFIG, DATABASE_URL=database.url)
    calendar = BusinessCalendar.from_settings(settings.file.desk.sla)
    sla = settings.file.desk.sla

    def escalation(number: int, created: datetime, channel: str, topics: list[str],
                   urgency: str = "normal", first: datetime | None = None,
                   resolved: datetime | None = None) -> Escalation:
        target = sla.target(urgency)
        return Escalation(
            id=number, created_at=created, requester=f"u_{number}", platform="test",
            dm_user=f"U{number}", lang="ja", question=f"質問{number}", context="",
            urgency=urgency, bot_score=0.1, topics=json.dumps(topics), channel=channel,
            route="default", status=RESOLVED if resolved else ("claimed" if first else "open"),
            status_since=resolved or first or created,
            first_response_due=calendar.add(created, calendar.minutes(target.first_response)),
            resolution_due=calendar.add(created, calendar.minutes(target.resolution)),
            first_response_at=first, resolved_at=resolved,
            warned_first_response=False, warned_resolution=False)

    rows = [
        # 1: answered in 1.5 h, resolved in 5 h, both on Tuesday.
        escalation(1, jst(24, 10), "test:C-DESK", ["id-password-sharing"],
                   first=jst(24, 11, 30), resolved=jst(24, 15)),
        # 2: Tue 16:00 -> Wed 10:00 is 2 business hours; open, resolution due Fri 16:00.
        escalation(2, jst(24, 16), "test:C-DESK", ["id-password-sharing", "nonpublic-info"],
                   first=jst(25, 10)),
        # 3: Fri 16:00 over the weekend and Monday's holiday: answered Tue 09:30 (1.5 h),
        #    resolved Wed 13:00 (1 + 8 + 4 = 13 h).
        escalation(3, jst(20, 16), "test:C-NW", ["nonpublic-info"],
                   first=jst(24, 9, 30), resolved=jst(25, 13)),
        # 4: urgent, Thu 09:00, never answered: first response was due Thu 11:00.
        escalation(4, jst(26, 9), "test:C-NW", [], urgency="high"),
        # 5: Fri 11:00, nothing due yet.
        escalation(5, jst(27, 11), "test:C-URGENT", []),
        # 6: after the report's moment: not counted.
        escalation(6, jst(27, 13), "test:C-DESK", ["nonpublic-info"]),
    ]
    with database.transaction() as session:
        session.add_all(rows)
        session.flush()
        session.add(EscalationMessage(escalation_id=3, at=jst(25, 12), role="desk",
                                      author="u_desk", text="1回目"))
        session.add(EscalationMessage(escalation_id=3, at=jst(25, 13), role="desk",
                                      author="u_desk", text="いいえ、閲覧できません。\n"
                                      "必要なら {inquiry_route} を使ってください"))
    return settings


def _cli(settings, *args: str):  # type: ignore[no-untyped-def]
    # PYTHONPATH: the checkout under test, whichever copy of the package is installed.
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(PROJECT_ROOT),
           "DATABASE_URL": settings.database_url or "",
           "COMPLIANCE_BOT_SECRET_KEY": settings.secret_key or "",
           "COMPLIANCE_BOT_CONFIG": str(settings.config_path)}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env,
                          capture_output=True, text=True, check=False,
                          cwd=settings.config_path.parent)


def _groups(proc) -> dict[str, list]:  # type: ignore[no-untyped-def]
    assert proc.returncode == 0, proc.stderr
    return {f"{g['kind']} {g['name']}": [g["total"], g["open"], g["overdue"],
                                         g["first_response_hours"], g["resolution_hours"]]
            for g in json.loads(proc.stdout)["groups"]}


def test_report_figures_match_the_hand_computed_ones(seeded):
    groups = _groups(_cli(seeded, "desk", "report", "--json", "--at", "2026-11-27T12:00"))
    # total, open, overdue, median business hours to first response, to resolution
    assert groups == {
        "all all": [5, 3, 1, 1.5, 9.0],
        "channel test:C-DESK": [2, 1, 0, 1.75, 5.0],
        "channel test:C-NW": [2, 1, 1, 1.5, 13.0],
        "channel test:C-URGENT": [1, 1, 0, None, None],
        "topic (none)": [2, 2, 1, None, None],
        "topic id-password-sharing": [2, 1, 0, 1.75, 5.0],
        "topic nonpublic-info": [2, 1, 0, 1.75, 13.0],
    }


def test_report_as_of_an_earlier_moment_and_since_a_day(seeded):
    earlier = _groups(_cli(seeded, "desk", "report", "--json", "--at", "2026-11-24T12:00"))
    # Only 1 and 3 exist by then, both answered, neither resolved.
    assert earlier["all all"] == [2, 2, 0, 1.5, None]
    since = _groups(_cli(seeded, "desk", "report", "--json", "--at", "2026-11-27T12:00",
                         "--since", "2026-11-24"))
    assert since["all all"] == [4, 3, 1, 1.75, 5.0]
    assert "channel test:C-NW" in since and "topic nonpublic-info" in since


def test_report_as_text_and_chart(seeded, tmp_path):
    chart = tmp_path / "weekly.png"
    proc = _cli(seeded, "desk", "report", "--at", "2026-11-27T12:00", "--chart", str(chart),
                "--weeks", "4")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == ("desk report at 2026-11-27 12:00 Asia/Tokyo "
                        "(median times in business hours)")
    assert lines[2].split() == ["all", "5", "3", "1", "1.5", "9.0"]
    assert "channel test:C-URGENT" in proc.stdout and " - " in proc.stdout
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    english = tmp_path / "weekly-en.png"
    assert _cli(seeded, "desk", "report", "--chart", str(english), "--lang", "en"
                ).returncode == 0
    assert english.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_weekly_counts_behind_the_chart(seeded, database):
    from bot.escalations.report import load, week_sunday, weekly_counts

    calendar = BusinessCalendar.from_settings(seeded.file.desk.sla)
    at = jst(30, 12)  # Monday 11/30 noon: the last whole week ended on Sunday 11/29 at 24:00
    with database.transaction() as session:
        escalations = load(session, at)
    counts = weekly_counts(escalations, calendar, at, 3)
    assert [calendar.local(c.end) for c in counts] == [
        datetime(2026, 11, day, 0, 0, tzinfo=calendar.zone) for day in (16, 23, 30)]
    assert [week_sunday(calendar, c.end).isoformat() for c in counts] == [
        "2026-11-15", "2026-11-22", "2026-11-29"]
    # per urgency (low, normal, high): open, and of them overdue
    assert [([c.open[u] for u in ("low", "normal", "high")],
             [c.overdue[u] for u in ("low", "normal", "high")]) for c in counts] == [
        ([0, 0, 0], [0, 0, 0]),  # nothing had arrived by Sunday 11/15
        ([0, 1, 0], [0, 0, 0]),  # 3 (Fri 11/20), first response due Tue 11/24
        # 2 (resolution was due Fri 16:00), 4 (urgent, never answered), 5 and 6 (not due)
        ([0, 3, 1], [0, 1, 1]),
    ]
    assert (counts[-1].total_open, counts[-1].total_overdue) == (4, 2)


def test_week_ends_are_sundays_at_24_00_whatever_the_weekday_of_the_moment():
    from bot.escalations.report import week_ends
    from bot.escalations.settings import SlaSettings

    calendar = BusinessCalendar.from_settings(SlaSettings())  # Asia/Tokyo
    monday_midnight = datetime(2026, 11, 30, tzinfo=calendar.zone)
    for moment in (monday_midnight, monday_midnight + timedelta(days=6, hours=23, minutes=59)):
        assert [calendar.local(end) for end in week_ends(calendar, moment, 2)] == [
            monday_midnight - timedelta(weeks=1), monday_midnight]
    assert week_ends(calendar, monday_midnight - timedelta(seconds=1), 1) == [
        monday_midnight - timedelta(weeks=1)]
    # In a zone with daylight saving time, a week still ends at local midnight.
    from zoneinfo import ZoneInfo

    berlin = BusinessCalendar(ZoneInfo("Europe/Berlin"), calendar.opens, calendar.closes)
    ends = week_ends(berlin, datetime(2026, 10, 28, 12, tzinfo=UTC), 2)  # DST ended on 10/25
    assert [berlin.local(end).strftime("%a %H:%M %Z") for end in ends] == [
        "Mon 00:00 CEST", "Mon 00:00 CET"]
    assert ends[1] - ends[0] == timedelta(weeks=1, hours=1)


def test_the_text_table_keeps_channel_names_whole():
    from bot.escalations.report import DeskReport, Figures, format_report
    from bot.escalations.settings import SlaSettings

    calendar = BusinessCalendar.from_settings(SlaSettings())
    teams = "teams:19:a1b2c3d4e5f60718293a4b5c6d7e8f90@thread.tacv2"
    report = DeskReport(jst(27, 12), None, [
        Figures("all", "all", 3, 2, 1, 1.5, None),
        Figures("channel", teams, 2, 1, 1, 1.5, None),
        Figures("channel", "slack:C0DESK001", 1, 1, 0, None, None)])
    lines = format_report(report, calendar).splitlines()
    assert lines[3].split() == ["channel", teams, "2", "1", "1", "1.5", "-"]
    assert lines[4].split() == ["channel", "slack:C0DESK001", "1", "1", "0", "-", "-"]
    # The columns line up under their headings whatever the longest name.
    assert len({len(line) for line in lines[1:]}) == 1


def test_draft_from_a_resolved_escalation_passes_kb_lint_but_for_review_fields(seeded,
                                                                               tmp_path):
    proc = _cli(seeded, "desk", "draft", "3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# Drafted from escalation #3.")
    assert "いいえ、閲覧できません。" in proc.stdout and "1回目" not in proc.stdout
    assert "（相談 #3、2026-11-20）" in proc.stdout  # the day it came in, in Tokyo
    knowledge = tmp_path / "knowledge"
    shutil.copytree(PROJECT_ROOT / "knowledge", knowledge)
    (knowledge / "escalation-3.yaml").write_text(proc.stdout, encoding="utf-8")
    base = load_knowledge(knowledge)
    problems = [i.message for i in base.errors if "escalation-3" in i.path]
    assert problems == ["entry 'draft-escalation-3': owner: Field required",
                        "entry 'draft-escalation-3': reviewed_on: Field required"]
    written = tmp_path / "drafts" / "e3.yaml"
    assert _cli(seeded, "desk", "draft", "3", "-o", str(written)).returncode == 0
    assert written.read_text(encoding="utf-8") == proc.stdout


def test_draft_needs_a_resolved_escalation_with_a_desk_reply(seeded):
    for number, reason in [(2, "is not resolved"), (1, "has no reply from the desk"),
                           (99, "does not exist")]:
        proc = _cli(seeded, "desk", "draft", str(number))
        assert proc.returncode == 1 and reason in proc.stderr, proc.stderr
