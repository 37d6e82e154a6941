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
