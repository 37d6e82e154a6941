"""`compliance-bot reminders list | status | send` as the desk runs them."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

from bot.core import build_core
from bot.messages import User
from bot.reminders.cli import follow
from bot.reminders.definitions import load_reminders
from bot.reminders.service import ReminderService
from tests.bot.reminders.fakes import (
    SHIPPED,
    FakeClock,
    RecordingMessenger,
    StaticDirectory,
    make_scheduler,
)


def _cli(settings, *args: str, **extra: str):  # type: ignore[no-untyped-def]
    env = {"PATH": os.environ["PATH"], "COMPLIANCE_BOT_CONFIG": str(settings.config_path),
           "COMPLIANCE_BOT_SECRET_KEY": settings.secret_key or "",
           "DATABASE_URL": settings.database_url or "", **extra}
    return subprocess.run([sys.executable, "-m", "bot.cli", "reminders", *args], env=env,
                          capture_output=True, text=True, check=False)


def test_list_checks_the_definitions(make_settings, tmp_path):
    settings = make_settings(f"reminders:\n  path: {SHIPPED}\n")
    listed = _cli(settings, "list")
    assert listed.returncode == 0, listed.stderr
    assert "conduct-rule-training\n  next: " in listed.stdout and "5 reminders" in listed.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(SHIPPED.read_text(encoding="utf-8").replace("0 10 1 4,10 *",
                                                                  "0 10 1 4,10 1"))
    settings = make_settings(f"reminders:\n  path: {broken}\n")
    failed = _cli(settings, "list")
    assert failed.returncode == 2
    [line] = failed.stderr.splitlines()
    assert line.startswith(f"compliance-bot: error: {broken}:")
    assert ": access-log-review: schedule: cron '0 10 1 4,10 1': write the day of week" in line


def test_status_counts_each_occurrence_and_names_the_overdue(make_settings, database):
    settings = make_settings(f"reminders:\n  path: {SHIPPED}\n", DATABASE_URL=database.url)
    core = build_core(settings)
    clock = FakeClock(datetime(2025, 1, 20, tzinfo=UTC))  # in the past: the CLI's now is later
    messenger = RecordingMessenger()
    scheduler = make_scheduler(core, messenger, clock, directory=StaticDirectory(
        ["U1", "U2", "U3"]), reminders=[r for r in load_reminders(SHIPPED)
                                        if r.id == "conduct-rule-training"])
    try:
        scheduler.sweep()
        for moment in (datetime(2025, 2, 1, 2), datetime(2025, 2, 8, 3), datetime(2025, 2, 15, 4)):
            clock.set(moment.replace(tzinfo=UTC))
            scheduler.sweep()
            if moment.day == 1:
                _, reply, _ = next(p for p in messenger.posts if p[0].id == "U1")
                delivery_id, token = reply.buttons[0].value.split(".")
                ReminderService(core.database, core.audit, core.keyring, load_reminders(SHIPPED),
                                clock).acknowledge(User("slack", "U1"), int(delivery_id), token)
    finally:
        core.database.dispose()
    assert len(messenger.posts) == 3 + 2 + 2  # two follow-ups each for U2 and U3

    as_csv = _cli(settings, "status", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    [row] = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert row["reminder_id"] == "conduct-rule-training"
    assert row["occurrence"] == "2025-02-01T01:00:00Z"
    assert (row["recipients"], row["sent"], row["acknowledged"], row["not_acknowledged"]) == (
        "3", "3", "1", "2")
    assert row["overdue"] == "slack:U2 slack:U3"
    text = _cli(settings, "status", "conduct-rule-training").stdout
    assert "overdue after the last follow-up: slack:U2, slack:U3" in text
    [as_json] = [json.loads(line) for line in _cli(settings, "status", "--format",
                                                   "json").stdout.splitlines()]
    assert as_json["overdue"] == ["slack:U2", "slack:U3"] and as_json["pending"] == 0


def test_send_now_queues_an_occurrence_for_the_running_bot(make_settings, database, tmp_path):
    definitions = tmp_path / "mine.yaml"
    definitions.write_text(
        "reminders:\n  - id: drill\n    message: {ja: 訓練です, en: A drill}\n"
        "    schedule: {cron: \"0 10 1 1 *\"}\n"
        "    audience: {users: [slack:U1, slack:U2]}\n", encoding="utf-8")
    settings = make_settings(f"reminders:\n  path: {definitions}\n", DATABASE_URL=database.url)
    sent = _cli(settings, "send", "drill", "--now")
    assert sent.returncode == 0, sent.stderr
    assert "drill " in sent.stdout and ": 2 deliveries queued" in sent.stdout
    unknown = _cli(settings, "send", "nope", "--now")
    assert unknown.returncode == 2 and "no reminder 'nope' (known: drill)" in unknown.stderr

    core = build_core(settings)
    try:
        [status] = ReminderService(core.database, core.audit, core.keyring,
                                   load_reminders(definitions)).status()
        assert (status.recipients, status.pending) == (2, 2)
        messenger = RecordingMessenger()
        make_scheduler(core, messenger, FakeClock(datetime.now(UTC)),
                       reminders=load_reminders(definitions)).send_sweep()
        assert sorted(messenger.received()) == ["U1", "U2"]
        progress = io.StringIO()
        assert follow(core.database, "drill", status.occurrence, progress, poll_s=0) == 0
        assert "2/2 sent, 0 failed" in progress.getvalue()
    finally:
        core.database.dispose()


def test_send_now_resolves_a_teams_audience_through_the_platform_ports(
        make_settings, database, tmp_path, teams_api):
    """`send --now` reaches a Teams team's members as `run` does: the same ports factory."""
    channel = "19:c6d7a2b1f0e94f3c8a5b4d3e2f1a0b9c@thread.tacv2"
    definitions = tmp_path / "teams.yaml"
    definitions.write_text(
        "reminders:\n  - id: drill\n    message: {ja: 訓練です, en: A drill}\n"
        "    schedule: {cron: \"0 10 1 1 *\"}\n"
        f"    audience: {{channel: \"teams:{channel}\"}}\n    delivery: dm\n", encoding="utf-8")
    settings = make_settings(f"reminders:\n  path: {definitions}\n", DATABASE_URL=database.url)
    sent = _cli(settings, "send", "drill", "--now", **teams_api.env())
    assert sent.returncode == 0, sent.stderr
    assert ": 3 deliveries queued" in sent.stdout  # the team's three people, not the bot
    assert any("pagedmembers" in call.path for call in teams_api.connector_calls())
    core = build_core(settings)
    try:
        [status] = ReminderService(core.database, core.audit, core.keyring,
                                   load_reminders(definitions)).status()
        assert (status.recipients, status.pending) == (3, 3)
    finally:
        core.database.dispose()
