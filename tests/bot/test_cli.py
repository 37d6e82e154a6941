"""`compliance-bot ask`, `kb gaps` and `db` as curators and IT run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bot import migrate
from bot.db import Database
from bot.messages import User
from tests.chat import TestChat


def _cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd=None):
    full_env = {"PATH": os.environ["PATH"], **(env or {})}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, env=full_env,
                          capture_output=True, text=True, check=False, cwd=cwd)


def test_ask_json_single_question(tmp_path):
    question = "NW設定端末が販売側の事務所に置いてあったらどうする？"
    proc = _cli("ask", "--json", question, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["answered"] is True and result["lang"] == "ja"
    assert "terminal-handling" in result["topics"]
    assert isinstance(result["score"], float) and result["entry_id"]
    assert "{" not in result["answer"]


def test_ask_json_reads_one_question_per_line(tmp_path):
    stdin = "\n".join(["研修はいつ？", "", "what's the guest wifi password?",
                       "When is the conduct-rule training held?", ""])
    proc = _cli("ask", "--json", "-", cwd=tmp_path, stdin=stdin)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["lang"] == "ja" and lines[0]["answered"]
    assert lines[1] == {**lines[1], "answered": False, "entry_id": None, "topics": [],
                        "answer": None, "lang": "en"}
    assert "training" in lines[2]["topics"]


def test_kb_eval_reports_top1_shown_and_abstention_and_enforces_floors(tmp_path):
    questions = tmp_path / "eval.yaml"
    questions.write_text(
        "questions:\n"
        "  - {q: 研修はいつ？, lang: ja, topic: training, style: fragment}\n"
        "  - {q: 'When is the conduct-rule training held?', lang: en, topic: training}\n"
        "  - {q: 社員食堂の今日のメニューは？, lang: ja, topic: null, kind: off-topic}\n"
        "  - {q: 'Can I lend my ID to a retail colleague?', lang: en, topic: training}\n",
        encoding="utf-8")
    proc = _cli("kb", "eval", str(questions), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["total"]["in_scope"] == 3 and report["total"]["must_abstain"] == 1
    assert report["by_lang"]["ja"]["top1"] == 1.0
    assert report["by_lang"]["en"]["top1"] == 0.5  # the ID question is "wrong" on purpose
    assert report["by_kind"]["off-topic"]["abstention"] == 1.0
    assert report["by_topic"]["training"]["in_scope"] == 3
    assert report["by_style"]["fragment"]["top1"] == 1.0
    [miss] = report["misses"]
    assert miss["q"].startswith("Can I lend") and miss["outcome"] == "wrong"
    assert miss["chosen"] and miss["expected"] == ["training"]
    failed = _cli("kb", "eval", str(questions), "--min-top1", "0.9", cwd=tmp_path)
    assert failed.returncode == 1
    assert "top1[en] 0.500 is below the floor 0.9" in failed.stderr
    text = _cli("kb", "eval", str(questions), cwd=tmp_path).stdout
    assert "-- misses (1)" in text and "want training" in text


def test_kb_eval_refuses_a_file_with_an_unknown_topic(tmp_path):
    questions = tmp_path / "eval.yaml"
    questions.write_text("questions:\n  - {q: x, topic: no-such-topic}\n", encoding="utf-8")
    proc = _cli("kb", "eval", str(questions), cwd=tmp_path)
    assert proc.returncode == 2 and "unknown topic 'no-such-topic'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_kb_gaps_lists_unanswered_and_unhelpful(core, tmp_path):
    chat = TestChat(core, User("test", "U1"))
    chat.push("社員食堂のメニューは？")
    chat.push("社員食堂のメニューは？")
    reply = chat.push("パスワードはどのくらいで変える？")
    chat.press(next(b for b in reply.buttons if b.value.endswith(":down")))
    proc = _cli("kb", "gaps", "--json", cwd=tmp_path, env={
        "DATABASE_URL": core.database.url,
        "COMPLIANCE_BOT_SECRET_KEY": core.settings.secret_key or "",
    })
    assert proc.returncode == 0, proc.stderr
    gaps = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(g["reason"], g["times"]) for g in gaps] == [("unanswered", 2), ("unhelpful", 1)]
    assert gaps[1]["entry_id"]


def test_db_upgrade_and_schema_check(database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "COMPLIANCE_BOT_SECRET_KEY": "x"}
    # Before the upgrade, commands that need the schema refuse with one clear line.
    refused = _cli("kb", "gaps", env=env, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip() == ("compliance-bot: error: DATABASE_URL: the database schema "
                                      "is not up to date; run `compliance-bot db upgrade`")
    upgraded = _cli("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"schema revision: {migrate.head_revision()}" in upgraded.stdout
    database = Database(database_url)
    try:
        assert migrate.is_current(database)
    finally:
        database.dispose()


def test_migrations_go_down_and_up_again(database_url):
    from alembic import command

    database = Database(database_url)
    try:
        migrate.upgrade(database)
        command.downgrade(migrate._config(database), "base")
        assert migrate.current_revision(database) is None
        migrate.upgrade(database)
        assert migrate.is_current(database)
    finally:
        database.dispose()


def test_unreachable_database_is_one_line(tmp_path):
    proc = _cli("kb", "gaps", cwd=tmp_path, env={
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "COMPLIANCE_BOT_SECRET_KEY": "x"})
    assert proc.returncode == 2
    assert proc.stderr.startswith("compliance-bot: error: DATABASE_URL: cannot use the database")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_db_upgrade_against_an_unreachable_database_says_so_in_one_line(tmp_path):
    proc = _cli("db", "upgrade", cwd=tmp_path,
                env={"DATABASE_URL": "postgresql://u:p@127.0.0.1:1/db"})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("compliance-bot: error: DATABASE_URL: cannot use the database")
