"""The console chat, run as a user would: `compliance-bot run` in a fresh directory."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys

from bot.messages import Button, Reply
from bot.platforms.console import render


def _run(tmp_path, script: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "USER": "tester"}
    return subprocess.run([sys.executable, "-m", "bot.cli", "run"], input=script, env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)


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


def test_render_shows_answer_source_suggestions_and_rating():
    buttons = [Button("候補A", "ask.pick", "1:a"), Button("👍", "ask.feedback", "1:up")]
    reply = Reply("本文", "ja", title="題", footnote="出典: X", buttons=buttons)
    assert render(reply) == "■ 題\n本文\n  (出典: X)\nこちらの質問でしたか？\n  [1] 候補A\n" \
        "この回答は役に立ちましたか？ (+ / -)"
