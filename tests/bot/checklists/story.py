"""What every platform's end-to-end checklist test shares: HR's CSV, the command line, and
what status and the auditor's export must show after the story."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from bot.config import Settings
from tests.bot.checklists.conftest import REPO

ITEMS = ("systems-no-longer-used", "stored-ids-deleted", "no-login-with-previous-ids",
         "no-confidential-information-taken")
NOTE = "ブラウザに保存したパスワードの消し方がわからない"
COMMENT = "情報システム部に削除の手順を確認してから出し直してください"


def answers(no: str | None = None, note: str = NOTE) -> dict[str, str]:
    """Form values: yes to every item, or no to one with its note."""
    values = {item: "yes" for item in ITEMS}
    if no is not None:
        values[no] = "no"
        values[f"note.{no}"] = note
    return values


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "COMPLIANCE_BOT_CONFIG": str(settings.config_path),
           "COMPLIANCE_BOT_SECRET_KEY": settings.secret_key or "",
           "DATABASE_URL": settings.database_url or ""}
    return subprocess.run([sys.executable, "-m", "bot.cli", "checklists", *args], env=env,
                          cwd=REPO, capture_output=True, text=True, check=False, timeout=120)


def start_from_csv(settings: Settings, tmp_path: Path, person: str, manager: str) -> None:
    """HR's export, imported with the command line."""
    path = tmp_path / "transfers.csv"
    path.write_text("person,confirmer,person_name,confirmer_name,department\n"
                    f"{person},{manager},山田 太郎,佐藤 課長,営業部\n", encoding="utf-8")
    started = cli(settings, "start", "transfer", "--csv", str(path))
    assert started.returncode == 0, started.stderr
    assert "started for 1 person" in started.stdout


def check_status_and_export(settings: Settings, person: str, manager: str) -> None:
    """Done, the no answer kept with its latest note, and every step with who and when."""
    status = cli(settings, "status", "--format", "csv")
    assert status.returncode == 0, status.stderr
    [run] = list(csv.DictReader(io.StringIO(status.stdout)))
    assert (run["checklist"], run["source"], run["people"], run["done"]) == (
        "transfer", "csv", "1", "1")
    assert run["waiting_for_confirmer"] == run["waiting_for_person"] == "0"
    exported = cli(settings, "export")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    steps = [(r["event"], r["person"], r["by"], r["round"]) for r in rows]
    assert steps == [("started", person, "cli", "0"), ("submitted", person, person, "1"),
                     ("returned", person, manager, "1"), ("submitted", person, person, "2"),
                     ("confirmed", person, manager, "2")]
    first, returned, confirmed = rows[1], rows[2], rows[4]
    assert f"stored-ids-deleted=no ({NOTE})" in first["answers"]
    assert first["no_items"] == "stored-ids-deleted" and first["escalation"]
    assert returned["comment"] == COMMENT
    assert confirmed["no_items"] == "" and confirmed["at"] >= returned["at"]
