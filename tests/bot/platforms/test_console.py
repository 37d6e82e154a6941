"""The console chat, run as a user would: `compliance-bot run` in a fresh directory."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import stat
import subprocess
import sys

import pytest
import sqlalchemy as sa

from bot.keys import Keyring, parse_key
from bot.messages import CHOICES, RATING, Button, Reply, User
from bot.models import AuditEvent
from bot.platforms.console import ConsoleChat, render
from bot.reports.models import Report
from bot.wiring import Bot, assemble
from tests.conftest import CACHE_ENV


def _run(tmp_path, script: str, **extra: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "USER": "tester", **CACHE_ENV,
           **extra}
    return subprocess.run([sys.executable, "-m", "bot.cli", "run"], input=script, env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)


LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR) ")


def test_console_keeps_logs_out_of_the_conversation_and_help_lists_every_command(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("logging:\n  level: DEBUG\n", encoding="utf-8")
    proc = _run(tmp_path, "/help\nパスワードを他人に教えてもいい？\n/quit\n",
                COMPLIANCE_BOT_CONFIG=str(config))
    assert proc.returncode == 0, proc.stderr
    question_to_answer = proc.stdout.partition("> ")[2]
    assert "出典:" in question_to_answer
    assert not LOG_LINE.search(proc.stdout) and not LOG_LINE.search(proc.stderr)
    logged = (tmp_path / "var" / "compliance-bot.log").read_text(encoding="utf-8")
    assert "question 1: entry=" in logged  # the lines went to the log file instead
    help_text = proc.stdout.split("> ")[1]
    for command in ("/report", "/case", "/cases", "/desk", "/reminders", "/help"):
        assert f"• {command}" in help_text, command
    verbose = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--verbose"],
                             input="/quit\n", env={**os.environ, "HOME": str(tmp_path),
                                                    "COMPLIANCE_BOT_CONFIG": str(config),
                                                    **CACHE_ENV},
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert verbose.returncode == 0 and LOG_LINE.search(verbose.stderr)


def test_console_chat_end_to_end(tmp_path):
    proc = _run(tmp_path, "\n".join([
        "/help",
        "異動後に前の部署のIDでログインしてもいい？",
        "+",
        "What is on the cafeteria menu today?",
        "-",
        "/quit",
    ]) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "compliance-bot コンソール" in out
    assert "出典:" in out
    assert "フィードバックを記録しました" in out
    assert "I could not find an answer" in out
    # "-" after an abstention rates nothing: the abstention has no buttons.
    assert "There is no answer to rate yet" in out
    assert "Goodbye." in out
    assert "Traceback" not in proc.stderr

    key = tmp_path / "var" / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with sqlite3.connect(tmp_path / "var" / "compliance-bot.sqlite3") as db:
        questions = db.execute("SELECT asker, answered, text FROM questions ORDER BY id").fetchall()
        feedback = db.execute("SELECT helpful FROM feedback").fetchall()
        actions = [a for (a,) in db.execute("SELECT action FROM audit_events ORDER BY seq")]
    assert [answered for _, answered, _ in questions] == [1, 0]
    assert all(asker.startswith("u_") and "tester" not in asker for asker, _, _ in questions)
    assert feedback == [(1,)]
    assert actions == ["question.asked", "feedback.recorded", "question.asked"]

    # A second run reuses the key and the database, and the trail still verifies.
    again = _run(tmp_path, "パスワードの変更頻度は？\n")
    assert again.returncode == 0
    verify = subprocess.run([sys.executable, "-m", "bot.cli", "audit", "verify"], cwd=tmp_path,
                            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
                            capture_output=True, text=True, check=False)
    assert verify.returncode == 0 and "4 rows" in verify.stdout


def test_picking_a_suggestion_by_number(tmp_path):
    proc = _run(tmp_path, "パスワード\n1\n9\n")
    assert proc.returncode == 0, proc.stderr
    assert "こちらの質問でしたか？" in proc.stdout
    assert "[1] " in proc.stdout
    assert "その番号の候補はありません" in proc.stdout
    with sqlite3.connect(tmp_path / "var" / "compliance-bot.sqlite3") as db:
        [(picked,)] = db.execute("SELECT picked_entry_id FROM questions").fetchall()
    assert picked


def test_an_abstention_offers_near_entries_and_a_number_picks_one(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("search:\n  min_score: 0.999\n  suggest_floor: 0.01\n", encoding="utf-8")
    proc = _run(tmp_path, "異動したあとも前のIDでログインできちゃうんだけど\n1\n",
                COMPLIANCE_BOT_CONFIG=str(config))
    assert proc.returncode == 0, proc.stderr
    offer, _, picked = proc.stdout.partition("■ もしかして")[2].partition("\n\n")
    assert "[1] " in offer and "[4]" not in offer
    first = re.search(r"\[1\] (.+)", offer).group(1)
    assert f"■ {first}" in picked and "出典:" in picked
    with sqlite3.connect(tmp_path / "var" / "compliance-bot.sqlite3") as db:
        [(answered, picked_id)] = db.execute(
            "SELECT answered, picked_entry_id FROM questions").fetchall()
    assert answered == 0 and picked_id


def test_render_shows_answer_source_suggestions_and_rating():
    buttons = [Button("候補A", "ask.pick", "1:a", group=CHOICES),
               Button("👍", "ask.feedback", "1:up", group=RATING)]
    reply = Reply("本文", "ja", title="題", footnote="出典: X", buttons=buttons)
    assert render(reply) == "■ 題\n本文\n  (出典: X)\nこちらの質問でしたか？\n  [1] 候補A\n" \
        "この回答は役に立ちましたか？ (+ / -)"


# -- forms: one prompt per field ---------------------------------------------------------------

RECEIPT = re.compile(r"Case number: (R-\w+)\n  Secret key: ([\w-]+)")


@pytest.fixture
def report_bot(database, make_settings):
    from tests.bot.reports.helpers import report_core

    core = report_core(database, make_settings,
                       "desk:\n  members: ['console:deskuser', 'console:kato']\n"
                       "  names: {'console:deskuser': 佐藤, 'console:kato': 加藤}\n")
    try:
        yield assemble(core)
    finally:
        core.database.dispose()


def _chat(bot: Bot, script: list[str], user: str = "hanako") -> str:
    out = io.StringIO()
    chat = ConsoleChat(bot.dispatcher, io.StringIO("\n".join(script) + "\n"), out, entries=0,
                       lang="en", user=User("console", user))
    chat.run()
    return out.getvalue()


def test_console_form_prompts_each_field_and_shows_the_receipt(report_bot):
    out = _chat(report_bot, [
        "/comply report",
        "9",            # category: not a choice, asked again
        "4",            # information leak
        "",             # what: required, asked again
        "顧客リストが共有フォルダにあった",
        "先週", "", "",  # when; where and who skipped
        "",             # anonymity: the default, anonymous
        "nobody",       # exclude: not one of the listed desk members, asked again
        "2",            # exclude 加藤, picked by name from the numbered list
        "/quit",
    ])
    assert "Category\n  [1] Conduct-rule breach" in out
    assert "Please pick a number (1-5)." in out
    assert "This item is required." in out
    assert "empty means: Stay anonymous (recommended)" in out
    assert "Desk members who must not see this (optional)\n  (For a conflict" in out
    assert "  [1] 佐藤\n  [2] 加藤" in out and "Please pick a number (1-2)." in out
    case_number, key = RECEIPT.search(out).groups()
    # The member picked by name cannot open it (refused and audited); the other one opens
    # it and learns only that someone is excluded.
    refused = _chat(report_bot, [f"/case {case_number}", "/quit"], user="kato")
    assert "You cannot open this case." in refused
    opened = _chat(report_bot, [f"/case {case_number}", "/cancel", "/quit"], user="deskuser")
    assert "Desk members excluded by the reporter: 1" in opened and "加藤" not in opened
    with report_bot.core.database.transaction() as session:
        actions = session.scalars(sa.select(AuditEvent.action)).all()
    assert "report.open_refused" in actions and "report.opened" in actions
    with report_bot.core.database.transaction() as session:
        [report] = session.scalars(sa.select(Report))
    assert report.case_number == case_number and not report.named
    reports = report_bot.feature("reports").reports
    assert reports.open_as_reporter(case_number, key, "test:U0REPORTER") is not None


def test_console_cancel_sends_nothing(report_bot):
    out = _chat(report_bot, ["/comply report", "1", "/cancel", "/quit"])
    assert "Cancelled; nothing was sent." in out
    with report_bot.core.database.transaction() as session:
        assert session.scalars(sa.select(Report)).all() == []


def test_console_two_way_exchange(report_bot):
    out = _chat(report_bot, ["/comply report", "1", "元の部署のIDで顧客システムに入った",
                                "", "", "", "", "", "/quit"])
    case_number, key = RECEIPT.search(out).groups()
    desk = _chat(report_bot, [f"/comply case {case_number}", "いつのことですか？", "3", "",
                                 "/quit"], user="deskuser")
    assert "needs a reason or outcome" in desk and "Cancelled; nothing was sent." in desk
    desk = _chat(report_bot, [f"/comply case {case_number}", "いつのことですか？", "2", "",
                                 "/quit"], user="deskuser")
    assert "元の部署のIDで顧客システムに入った" in desk and f"Case {case_number} saved." in desk
    outsider = _chat(report_bot, [f"/comply case {case_number}", "/cancel", "/quit"])
    assert "元の部署のID" not in outsider
    reporter = _chat(report_bot, ["/comply case", case_number, "WRONG", case_number, key,
                                     "先月の10日です", "/quit"])
    assert "⚠ Case number: That did not open a case" in reporter
    assert "That did not open a case" in reporter
    assert "Status: Under investigation" in reporter and "Desk: いつのことですか？" in reporter
    assert "Sent to the desk." in reporter
    desk_again = _chat(report_bot, [f"/comply case {case_number}", "/cancel", "/quit"],
                       user="deskuser")
    assert "Reporter: 先月の10日です" in desk_again


def test_console_anonymous_report_leaves_no_trace(tmp_path):
    """`compliance-bot run` as user zz-reporter-7731: nothing of that name is kept anywhere."""
    config = tmp_path / "config.yaml"
    config.write_text("logging:\n  level: DEBUG\ndesk:\n  members: ['console:deskuser']\n"
                      "reports:\n  notice_delay_min_minutes: 0\n  notice_delay_max_minutes: 0\n",
                      encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "USER": "zz-reporter-7731",
           "LOGNAME": "zz-reporter-7731", "COMPLIANCE_BOT_CONFIG": str(config), **CACHE_ENV}
    script = "/comply report\n2\n同僚のIDで託送システムに入っている人がいる\n\n\n\n\n\n/quit\n"
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "run"], input=script, env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    case_number, key = RECEIPT.search(proc.stdout).groups()
    export = subprocess.run([sys.executable, "-m", "bot.cli", "audit", "export", "--format",
                             "jsonl"], env=env, cwd=tmp_path, capture_output=True, text=True,
                            check=False)
    assert export.returncode == 0 and f"report:{case_number}" in export.stdout
    logged = (tmp_path / "var" / "compliance-bot.log").read_text(encoding="utf-8")
    secret = (tmp_path / "var" / "secret.key").read_text().strip()
    pseudonym = Keyring(parse_key(secret)).pseudonym("console", "zz-reporter-7731")
    stored = b"".join(f.read_bytes() for f in (tmp_path / "var").glob("compliance-bot.sqlite3*"))
    for trace in ("zz-reporter-7731", pseudonym):
        assert trace.encode() not in stored
        assert trace not in export.stdout and trace not in proc.stderr + logged
    assert "report received" in logged  # DEBUG logging was on, to the console's log file
    for content in ("託送システム", key):
        assert content.encode() not in stored and content not in proc.stderr + logged


def test_generated_console_buttons_and_forms_answer_without_an_error(report_bot, caplog):
    """The console reaches the flows through the same dispatcher calls; forged values there."""
    import logging
    import random

    from bot.messages import ActionEvent, FormSubmission
    from tests.fuzz_inputs import ACTIONS, FORMS, value, values

    rng = random.Random(1302)
    user = User("console", "fuzzer")
    for _ in range(150):
        report_bot.dispatcher.action(ActionEvent(user, rng.choice(ACTIONS), value(rng)))
        report_bot.dispatcher.submit(FormSubmission(user, rng.choice(FORMS), values(rng),
                                                    value(rng)))
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
