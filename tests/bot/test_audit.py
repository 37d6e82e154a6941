"""The audit trail: chained, append-only, and verify names the first row that was tampered with."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from bot.audit import AuditTrail, verify
from bot.db import Database
from bot.keys import Keyring, parse_key


def _keyring(secret_key: str) -> Keyring:
    return Keyring(parse_key(secret_key))


def _append(database: Database, keyring: Keyring, count: int) -> None:
    trail = AuditTrail(keyring)
    for number in range(count):
        with database.transaction() as session:
            trail.record(session, actor="u_test", action="test.event", subject=f"thing:{number}",
                         details={"n": number, "text": "日本語"}, before={"state": "a"},
                         after={"state": "b"})


def _drop_guards(database: Database) -> None:
    """What an attacker with database access would do first."""
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_delete")


def _tamper(database: Database, *statements: str) -> None:
    _drop_guards(database)
    with database.engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def _cli_verify(database: Database, secret_key: str, tmp_path) -> subprocess.CompletedProcess:
    env = {"DATABASE_URL": database.url, "COMPLIANCE_BOT_SECRET_KEY": secret_key,
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "bot.cli", "audit", "verify"], env=env,
                          capture_output=True, text=True, cwd=tmp_path, check=False)


def test_intact_trail_verifies(database, secret_key, tmp_path):
    keyring = _keyring(secret_key)
    _append(database, keyring, 5)
    with database.transaction() as session:
        result = verify(session, keyring)
    assert result.ok and result.rows == 5
    proc = _cli_verify(database, secret_key, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "5 rows" in proc.stdout


def test_edited_row_is_detected(database, secret_key, tmp_path):
    _append(database, _keyring(secret_key), 5)
    _tamper(database, "UPDATE audit_events SET actor = 'someone_else' WHERE seq = 3")
    proc = _cli_verify(database, secret_key, tmp_path)
    assert proc.returncode == 1
    assert "row 3" in proc.stderr and "altered" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_deleted_row_is_detected(database, secret_key, tmp_path):
    _append(database, _keyring(secret_key), 5)
    _tamper(database, "DELETE FROM audit_events WHERE seq = 2")
    proc = _cli_verify(database, secret_key, tmp_path)
    assert proc.returncode == 1
    assert "BROKEN at row 2" in proc.stderr


def test_deleted_last_row_is_detected(database, secret_key, tmp_path):
    _append(database, _keyring(secret_key), 4)
    _tamper(database, "DELETE FROM audit_events WHERE seq = 4")
    proc = _cli_verify(database, secret_key, tmp_path)
    assert proc.returncode == 1
    assert "row 4" in proc.stderr and "deleted at the end" in proc.stderr


def test_swapped_rows_are_detected(database, secret_key, tmp_path):
    _append(database, _keyring(secret_key), 5)
    # Swap rows 2 and 4 completely, seq included: the order of events is rewritten.
    _tamper(
        database,
        "UPDATE audit_events SET seq = -2 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 4",
        "UPDATE audit_events SET seq = 4 WHERE seq = -2",
    )
    proc = _cli_verify(database, secret_key, tmp_path)
    assert proc.returncode == 1
    assert "BROKEN at row 2" in proc.stderr


def test_rehashed_row_without_the_key_is_detected(database, secret_key, tmp_path):
    """Re-sealing an edit needs the HMAC key, which the database does not hold."""
    keyring = _keyring(secret_key)
    _append(database, keyring, 3)
    attacker = AuditTrail(Keyring(parse_key(_other_key())))
    _drop_guards(database)
    with database.transaction() as session:
        session.execute(sa.text("DELETE FROM audit_events WHERE seq = 3"))
        session.execute(sa.text("UPDATE audit_head SET seq = 2, hash = "
                                "(SELECT hash FROM audit_events WHERE seq = 2)"))
        attacker.record(session, actor="u_test", action="test.event", subject="forged")
    proc = _cli_verify(database, secret_key, tmp_path)
    assert proc.returncode == 1
    assert "row 3" in proc.stderr and "unknown key" in proc.stderr


def _other_key() -> str:
    from bot.keys import generate_key

    return generate_key()


def test_database_refuses_update_and_delete(database, secret_key):
    _append(database, _keyring(secret_key), 2)
    for statement in ("UPDATE audit_events SET actor = 'x' WHERE seq = 1",
                      "DELETE FROM audit_events WHERE seq = 1"):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    if database.dialect == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE audit_events")
    with database.transaction() as session:
        assert verify(session, _keyring(secret_key)).ok


def test_concurrent_appends_keep_one_chain(database, secret_key):
    keyring = _keyring(secret_key)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            _append(database, keyring, 10)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with database.transaction() as session:
        result = verify(session, keyring)
    assert result.ok and result.rows == 40


def test_retired_key_still_verifies_old_rows(database, secret_key):
    old = _keyring(secret_key)
    _append(database, old, 2)
    rotated = Keyring(parse_key(_other_key()), retired=(old.current,))
    _append(database, rotated, 2)
    with database.transaction() as session:
        assert verify(session, rotated).ok
        assert not verify(session, Keyring(rotated.current)).ok


def test_export_jsonl_and_csv(database, secret_key, tmp_path):
    _append(database, _keyring(secret_key), 3)
    env = {"DATABASE_URL": database.url, "COMPLIANCE_BOT_SECRET_KEY": secret_key,
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    base = [sys.executable, "-m", "bot.cli", "audit", "export", "--since", "2000-01-01"]
    jsonl = subprocess.run([*base, "--format", "jsonl"], env=env, capture_output=True,
                           text=True, check=True, cwd=tmp_path)
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [row["seq"] for row in rows] == [1, 2, 3]
    assert rows[0]["details"] == {"n": 0, "text": "日本語"}
    assert rows[0]["before"] == {"state": "a"} and rows[0]["after"] == {"state": "b"}
    out = tmp_path / "audit.csv"
    subprocess.run([*base, "--format", "csv", "-o", str(out)], env=env, check=True, cwd=tmp_path)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("seq,ts,actor,action")
    # rows 1-3 plus the first export, which is itself audited
    assert len(lines) == 1 + 4
    future = subprocess.run([*base[:-1], "2999-01-01", "--format", "jsonl"], env=env,
                            capture_output=True, text=True, check=True, cwd=tmp_path)
    assert future.stdout == ""
    with Database(database.url).transaction() as session:
        actions = session.execute(sa.text("SELECT action FROM audit_events ORDER BY seq")).all()
    assert [a for (a,) in actions][-3:] == ["audit.exported"] * 3


# -- checkpoints: the anchor outside the database ---------------------------------------------

def _cli(database: Database, secret_key: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {"DATABASE_URL": database.url, "COMPLIANCE_BOT_SECRET_KEY": secret_key,
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "bot.cli", "audit", *args], env=env,
                          capture_output=True, text=True, cwd=tmp_path, check=False)


def _head_of(database: Database, seq: int) -> str:
    with database.engine.connect() as connection:
        return connection.exec_driver_sql(
            f"SELECT hash FROM audit_events WHERE seq = {seq}").scalar_one()


@pytest.mark.parametrize("attack", ["truncate", "wipe"])
def test_truncation_or_a_wipe_with_a_rewritten_head_is_caught_by_a_checkpoint(
        database, secret_key, tmp_path, attack):
    keyring = _keyring(secret_key)
    _append(database, keyring, 6)
    checkpoints = tmp_path / "checkpoints.jsonl"
    made = _cli(database, secret_key, tmp_path, "checkpoint", "-o", str(checkpoints))
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["seq"] == 6
    _append(database, keyring, 2)
    if attack == "truncate":  # the last rows go, and the head is rewritten to match
        kept = _head_of(database, 3)
        _tamper(database, "DELETE FROM audit_events WHERE seq > 3",
                f"UPDATE audit_head SET seq = 3, hash = '{kept}'")
    else:  # every row goes, and the head is reset
        _tamper(database, "DELETE FROM audit_events",
                "UPDATE audit_head SET seq = 0, hash = '" + "0" * 64 + "'")
    # Without the anchor the database agrees with itself ...
    assert _cli(database, secret_key, tmp_path, "verify").returncode == 0
    # ... with it, the rows the checkpoint saw are missing.
    anchored = _cli(database, secret_key, tmp_path, "verify", "--checkpoint", str(checkpoints))
    assert anchored.returncode == 1
    assert "rows deleted at the end" in anchored.stderr and "checkpoint" in anchored.stderr


def test_a_rewritten_row_under_the_checkpoint_is_caught_and_an_intact_trail_passes(
        database, secret_key, tmp_path):
    keyring = _keyring(secret_key)
    _append(database, keyring, 3)
    checkpoints = tmp_path / "checkpoints.jsonl"
    assert _cli(database, secret_key, tmp_path, "checkpoint", "-o",
                str(checkpoints)).returncode == 0
    _append(database, keyring, 2)
    intact = _cli(database, secret_key, tmp_path, "verify", "--checkpoint", str(checkpoints))
    assert intact.returncode == 0 and "reaching the checkpoint" in intact.stdout
    with database.transaction() as session:
        from bot.audit import checkpoint, verify

        point = checkpoint(session, keyring)
        forged = type(point)(point.seq, "f" * 64, point.ts, point.key_id, point.mac)
        result = verify(session, keyring, forged)
    assert not result.ok and "rewritten" in result.problem


def test_a_checkpoint_without_the_key_is_refused(database, secret_key, tmp_path):
    checkpoints = tmp_path / "checkpoints.jsonl"
    checkpoints.write_text(json.dumps({"seq": 0, "hash": "0" * 64, "ts": "2026-01-01",
                                       "key_id": "k", "mac": "00"}) + "\n", encoding="utf-8")
    refused = _cli(database, secret_key, tmp_path, "verify", "--checkpoint", str(checkpoints))
    assert refused.returncode == 1 and "forged" in refused.stderr


def test_run_s_checkpoint_writer_appends_to_the_file_and_posts_to_the_auditors_channel(
        database, make_settings, tmp_path):
    from bot.audit import CheckpointWriter, last_checkpoint
    from bot.core import build_core
    from tests.handlers.messenger import RecordingMessenger

    settings = make_settings(
        f"audit:\n  checkpoint_channel: 'test:C-AUDIT'\n"
        f"  checkpoint_file: {tmp_path / 'points.jsonl'}\n", DATABASE_URL=database.url)
    core = build_core(settings)
    try:
        _append(database, core.keyring, 3)
        messenger = RecordingMessenger(channels=("C-AUDIT",))
        writer = CheckpointWriter(core, {"test": messenger})
        point = writer.write()
        assert point.seq == 3
        assert last_checkpoint(tmp_path / "points.jsonl", core.keyring) == point
        [posted] = messenger.top_level("C-AUDIT")
        assert point.to_json() in posted.reply.text
        assert "<" not in posted.reply.text and "`" not in posted.reply.text
    finally:
        core.database.dispose()


def test_appends_in_one_transaction_and_after_a_rolled_back_savepoint_stay_chained(
        database, secret_key):
    # Later appends in a transaction take the head from the session, not the table: a
    # savepoint rolled back after an append must make the next one read the table again.
    keyring = _keyring(secret_key)
    trail = AuditTrail(keyring)
    with database.transaction() as session:
        trail.record(session, actor="u_test", action="test.event", subject="thing:1")
        trail.record(session, actor="u_test", action="test.event", subject="thing:2")
        savepoint = session.begin_nested()
        trail.record(session, actor="u_test", action="test.event", subject="thing:undone")
        savepoint.rollback()
        seq = trail.record(session, actor="u_test", action="test.event", subject="thing:3")
    assert seq == 3
    with database.transaction() as session:
        result = verify(session, keyring)
        subjects = session.scalars(sa.text("SELECT subject FROM audit_events ORDER BY seq")).all()
    assert result.ok, result.problem
    assert subjects == ["thing:1", "thing:2", "thing:3"]
