"""The checklist definitions: the shipped four are clean and grounded, and a bad one is named
as `file:line: id: reason` on the line at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checklists.definitions import lint, load_checklists
from bot.config import ConfigError

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "knowledge" / "checklists"
SEEDS = Path("/work/shared/seeds")

GOOD = """\
checklists:
  - id: demo
    title: {ja: デモ, en: Demo}
    source: {ja: 資料, en: Document}
    confirmer: manager
    due_days: 7
    items:
      - id: one
        statement: {ja: 確認しました, en: I have checked}
"""


def test_the_shipped_checklists_are_clean_and_cover_the_four_moments():
    definitions = lint(SHIPPED)
    assert [str(issue) for issue in definitions.issues] == []
    ids = {checklist.id for checklist in definitions.checklists}
    assert ids == {"transfer", "disaster-support-start", "disaster-support-end",
                   "terminal-inventory", "id-password-check"}
    transfer = definitions.get("transfer")
    assert transfer is not None and transfer.confirmer == "manager"
    statements = [item.statement.ja for item in transfer.items]
    assert "前の職場で付与されたID・パスワードをPCやブラウザから削除しました" in statements
    inventory = definitions.get("terminal-inventory")
    assert inventory is not None
    assert [item.kind for item in inventory.items][:2] == ["text", "text"]  # asset tag, location
    assert any("自社用に設定" in item.statement.ja for item in inventory.items)
    for checklist in definitions.checklists:
        assert checklist.items and checklist.source.ja and checklist.source.en


def test_the_shipped_checklists_name_no_dates_phone_numbers_or_ids():
    """Company values come from configuration: no date, phone number, channel or user id."""
    import re

    text = "".join(path.read_text(encoding="utf-8") for path in SHIPPED.glob("*.yaml"))
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"\b20\d\d[-/]\d", body)
    assert not re.search(r"\d{2,4}-\d{2,4}-\d{3,4}", body)
    assert not re.search(r"\b(slack|teams):", body)
    assert "schedule" not in body and "audience" not in body


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the source documents are not on this machine")
def test_the_shipped_checklists_are_grounded_in_the_source_documents():
    seeds = "".join(path.read_text(encoding="utf-8") for path in SEEDS.glob("*.txt"))
    for phrase in ("PCに保管されたID等を削除", "使用不可となる業務システムを確認",
                   "端末の貸与/回収及びID・パスワードの通知/削除", "情報の持出を禁止",
                   "現品照合", "社外秘情報を異動先に持ち出さない", "利用権限の適切な設定"):
        assert phrase in seeds, phrase


def _write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    directory = tmp_path / "checklists"
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.mark.parametrize(("broken", "line", "reason"), [
    (GOOD.replace("en: I have checked", "fr: J'ai vérifié"), 9,
     "demo: items.0.statement.en: missing"),
    (GOOD.replace("confirmer: manager", "confirmer: boss"), 5,
     "demo: confirmer: Input should be 'manager', 'information_manager' or 'desk' "
     "(got 'boss')"),
    (GOOD + "      - id: one\n        statement: {ja: 二回目, en: Again}\n", 10,
     "demo: items: duplicate item id 'one'"),
    (GOOD.replace("title: {ja: デモ, en: Demo}", "title: {ja: '{phone}', en: Demo}"), 2,
     "demo: unknown placeholder {phone}; known: desk, hotline, inquiry_route, portal_url, "
     "training_url"),
    (GOOD.replace("due_days: 7", "due_days: 0"), 6,
     "demo: due_days: Input should be greater than or equal to 1"),
    (GOOD.replace("    items:\n", "    colour: red\n    items:\n"), 7, "demo: colour: unknown key"),
])
def test_a_bad_definition_is_named_file_line_id_reason(tmp_path, broken, line, reason):
    directory = _write(tmp_path, broken)
    issues = [str(issue) for issue in lint(directory).issues]
    path = directory / "demo.yaml"
    assert f"{path}:{line}: {reason}" in issues, issues


def test_duplicate_ids_across_files_and_broken_yaml(tmp_path):
    directory = _write(tmp_path, GOOD, "a.yaml")
    _write(tmp_path, GOOD, "b.yaml")
    _write(tmp_path, "checklists:\n  - id: x\n    title: [unclosed\n", "c.yaml")
    issues = [str(issue) for issue in lint(directory).issues]
    assert f"{directory / 'b.yaml'}:2: demo: duplicate id (first at {directory / 'a.yaml'}:2)" \
        in issues
    assert any(issue.startswith(f"{directory / 'c.yaml'}:") for issue in issues)
    with pytest.raises(ConfigError, match=r"b\.yaml:2: demo: duplicate id"):
        load_checklists(directory)
