"""The live knowledge base: edits are picked up, broken edits never replace a good base."""

from __future__ import annotations

import logging
import os

import pytest

from bot.kb.store import KnowledgeLoadError, KnowledgeStore
from bot.search.engine import Tuning
from tests.bot.kb.test_loader import GOOD, TOPICS


def _write(path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    # Make the change visible even within one mtime tick.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.fixture
def kb(tmp_path):
    (tmp_path / "topics.yaml").write_text(TOPICS, encoding="utf-8")
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    return tmp_path


def test_edit_is_picked_up_without_restart(kb):
    store = KnowledgeStore(kb, Tuning(), reload_interval_s=0)
    base, engine = store.current()
    assert engine.search("研修はいつですか？").best.entry.answer.ja.startswith("毎年8月と2月")
    _write(kb / "a.yaml", GOOD.replace("毎年8月と2月です。", "年2回、8月と2月です。"))
    new_base, new_engine = store.current()
    assert new_base.version != base.version
    assert new_engine.search("研修はいつですか？").best.entry.answer.ja.startswith("年2回")


def test_broken_edit_keeps_last_good_base_and_logs_why(kb, caplog):
    store = KnowledgeStore(kb, Tuning(), reload_interval_s=0)
    good_version = store.current()[0].version
    _write(kb / "a.yaml", GOOD.replace("    owner: 行為規制担当\n", ""))
    with caplog.at_level(logging.ERROR):
        base, engine = store.current()
    assert base.version == good_version
    assert engine.search("研修はいつですか？").answered
    assert "a.yaml:2: error: entry 'sample-entry': owner: Field required" in caplog.text
    assert "keeping " + good_version in caplog.text


def test_reload_is_throttled(kb):
    store = KnowledgeStore(kb, Tuning(), reload_interval_s=3600)
    store.current()
    version = store.base.version
    _write(kb / "a.yaml", GOOD.replace("毎年8月と2月です。", "変更"))
    assert store.current()[0].version == version
    assert store.reload_if_changed()
    assert store.current()[0].version != version


def test_broken_base_at_start_is_refused(kb):
    (kb / "a.yaml").write_text("entries: [", encoding="utf-8")
    with pytest.raises(KnowledgeLoadError, match=r"a.yaml:1: error: YAML"):
        KnowledgeStore(kb, Tuning())
