"""`compliance-bot checklists lint | start | status | export` as HR, IT, the desk and
auditors run them."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.checklists.models import ChecklistAssignment, ChecklistRun
from bot.checklists.rows import StartRow
from bot.checklists.service import Answer
from bot.core import build_core
from bot.messages import User
from bot.models import AuditEvent
from tests.bot.checklists.conftest import REPO, checklist_config, service_for
from tests.bot.reminders.fakes import FakeClock
from tests.handlers.messenger import PLATFORM


def cli(settings, *args: str):  # type: ignore[no-untyped-def]
    env = {"PATH": os.environ["PATH"], "COMPLIANCE_BOT_CONFIG": str(settings.config_path),
           "COMPLIANCE_BOT_SECRET_KEY": settings.secret_key or "",
           "DATABASE_URL": settings.database_url or ""}
    return subprocess.run([sys.executable, "-m", "bot.cli", "checklists", *args], env=env,
                          cwd=REPO, capture_output=True, text=True, check=False, timeout=120)


def test_lint_names_a_bad_definition_file_line_id_reason(make_settings, tmp_path):
    clean = cli(make_settings(checklist_config()), "lint")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.strip() == "5 checklists: 0 errors"
    broken = tmp_path / "mine"
    broken.mkdir()
    text = (REPO / "knowledge" / "checklists" / "transfer.yaml").read_text(encoding="utf-8")
    (broken / "transfer.yaml").write_text(text.replace("confirmer: manager",
                                                       "confirmer: supervisor"))
    failed = cli(make_settings(checklist_config()), "lint", "--path", str(broken))
    assert failed.returncode == 1
    [problem, summary] = failed.stdout.splitlines()
    line = text.splitlines().index("    confirmer: manager") + 1
    assert problem.startswith(f"{broken / 'transfer.yaml'}:{line}: transfer: confirmer: ")
    assert "(got 'supervisor')" in problem and summary == "0 checklists: 1 errors"


CSV_BAD = """person,confirmer,due,person_name,department
slack:U0TARO,slack:U0SATO,,山田 太郎,営業部
U0JIRO,slack:U0SATO,,,営業部
slack:U0HANAKO,slack:U0HANAKO,,,総務部
slack:U0KEN,slack:U0SATO,2020-01-01,,総務部
slack:U0TARO,slack:U0SATO,,,営業部
"""


def test_a_csv_import_is_all_or_nothing_and_once(make_settings, database, tmp_path):
    settings = make_settings(checklist_config(), DATABASE_URL=database.url)
    path = tmp_path / "transfers.csv"
    path.write_text(CSV_BAD, encoding="utf-8")
    refused = cli(settings, "start", "transfer", "--csv", str(path))
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.splitlines() == [
        f"{path}:3: person: expected platform:user_id, e.g. slack:U0123ABCD (got 'U0JIRO')",
        f"{path}:4: confirmer: must be someone other than the person",
        f"{path}:5: due: 2020-01-01 is in the past",
        f"{path}:6: person slack:U0TARO is listed twice (first at {path}:2)",
        "nothing was started (4 rows to fix)"]
    with database.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ChecklistRun)) == 0
    # Fixed, in the Shift_JIS an HR system may export, it starts once.
    good = "person,confirmer,person_name\nslack:U0TARO,slack:U0SATO,山田 太郎\n" \
           "slack:U0JIRO,slack:U0SATO,鈴木 次郎\n"
    path.write_bytes(good.encode("cp932"))
    started = cli(settings, "start", "transfer", "--csv", str(path))
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("transfer run 1: started for 2 people")
    again = cli(settings, "start", "transfer", "--csv", str(path))
    assert "already started" in again.stdout and "nothing new" in again.stdout
    one = cli(settings, "start", "transfer", "--person", "slack:U0KEN", "--confirmer",
              "slack:U0SATO", "--due", "2099-04-30")
    assert one.returncode == 0 and "started for 1 person;" in one.stdout
    with database.transaction() as session:
        names = session.execute(sa.select(ChecklistAssignment.person_name)
                                .order_by(ChecklistAssignment.id)).scalars().all()
    assert names == ["山田 太郎", "鈴木 次郎", None]


def test_status_and_the_auditors_export(make_settings, database):
    settings = make_settings(checklist_config(), DATABASE_URL=database.url)
    core = build_core(settings)
    clock = FakeClock(datetime(2027, 4, 1, 1, 0, tzinfo=UTC))
    try:
        service = service_for(core, clock)
        service.start("transfer", [StartRow(f"{PLATFORM}:U0TARO", f"{PLATFORM}:U0SATO"),
                                   StartRow(f"{PLATFORM}:U0JIRO", f"{PLATFORM}:U0SATO")],
                      key="k", source="csv", actor="cli")
        with core.database.transaction() as session:
            taro = session.execute(sa.select(ChecklistAssignment).where(
                ChecklistAssignment.person == f"{PLATFORM}:U0TARO")).scalar_one()
        answers = [Answer("systems-no-longer-used", "yes"),
                   Answer("stored-ids-deleted", "no", note="消せない"),
                   Answer("no-login-with-previous-ids", "yes"),
                   Answer("no-confidential-information-taken", "yes")]
        taro_user, sato = User(PLATFORM, "U0TARO"), User(PLATFORM, "U0SATO")
        service.submit(taro_user, taro.id, 0, taro.token, answers)
        service.send_back(sato, taro.id, 1, taro.token, "手順を確認して")
        service.submit(taro_user, taro.id, 1, taro.token, answers)
        service.confirm(sato, taro.id, 2, taro.token)
    finally:
        core.database.dispose()
    text = cli(settings, "status")
    assert text.returncode == 0, text.stderr
    assert f"  no: {PLATFORM}:U0TARO stored-ids-deleted: 消せない (confirmed)" in text.stdout
    [row] = list(csv.DictReader(io.StringIO(cli(settings, "status", "--format", "csv").stdout)))
    assert (row["people"], row["done"], row["waiting_for_person"]) == ("2", "1", "1")
    [status] = [json.loads(line) for line in
                cli(settings, "status", "1", "--format", "json").stdout.splitlines()]
    assert status["overdue"] == []  # the CLI's clock is today: the run is due in 2027
    exported = cli(settings, "export", "--run", "1")
    assert exported.returncode == 0, exported.stderr
    steps = [(r["event"], r["person"], r["by"], r["round"])
             for r in csv.DictReader(io.StringIO(exported.stdout))]
    taro_id, sato_id = f"{PLATFORM}:U0TARO", f"{PLATFORM}:U0SATO"
    assert steps == [("started", taro_id, "cli", "0"), ("started", f"{PLATFORM}:U0JIRO", "cli",
                                                        "0"),
                     ("submitted", taro_id, taro_id, "1"), ("returned", taro_id, sato_id, "1"),
                     ("submitted", taro_id, taro_id, "2"), ("confirmed", taro_id, sato_id, "2")]
    confirmed = list(csv.DictReader(io.StringIO(exported.stdout)))[-1]
    assert "stored-ids-deleted=no (消せない)" in confirmed["answers"]
    assert confirmed["no_items"] == "stored-ids-deleted" and confirmed["at"].startswith("20")
    core = build_core(settings)
    try:
        with core.database.transaction() as session:
            last = session.execute(sa.select(AuditEvent).order_by(AuditEvent.seq.desc())
                                   .limit(1)).scalar_one()
        assert last.action == "checklist.exported"
    finally:
        core.database.dispose()
