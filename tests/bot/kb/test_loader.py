"""`kb lint` and the loader: every problem is reported with file:line."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from bot.kb.loader import load_knowledge
from tests.conftest import REPO

KNOWLEDGE = REPO / "knowledge"
SHARED_TOPICS = REPO.parent / "shared" / "kb-topics.yaml"

GOOD = """\
entries:
  - id: sample-entry
    topics: [training]
    question:
      ja: [研修はいつですか？]
      en: ["When is the training?"]
    answer:
      ja: 毎年8月と2月です。{training_url} を見てください。
      en: Every August and February. See {training_url}.
    keywords:
      ja: [研修]
      en: [training]
    source:
      ja: 業務改善計画
      en: Improvement plan
    owner: 行為規制担当
    reviewed_on: 2026-11-01
"""

TOPICS = """\
topics:
  - id: training
    ja: 研修
    en: Training
"""


def _kb(tmp_path: Path, entries: str, topics: str = TOPICS) -> Path:
    (tmp_path / "topics.yaml").write_text(topics, encoding="utf-8")
    (tmp_path / "a.yaml").write_text(entries, encoding="utf-8")
    return tmp_path


def _messages(tmp_path: Path, entries: str, topics: str = TOPICS) -> list[str]:
    base = load_knowledge(_kb(tmp_path, entries, topics), today=date(2026, 11, 21))
    return [str(issue).replace(str(tmp_path) + "/", "") for issue in base.issues]


def test_good_file_has_no_issues(tmp_path):
    assert _messages(tmp_path, GOOD) == []


def test_schema_error_points_at_the_line(tmp_path):
    broken = GOOD.replace("      en: Every August and February. See {training_url}.\n", "")
    assert _messages(tmp_path, broken) == [
        "a.yaml:7: error: entry 'sample-entry': answer.en: missing the 'en' language",
        "topics.yaml:2: error: topic 'training' has no entry",
    ]


def test_unknown_field_and_bad_id(tmp_path):
    broken = GOOD.replace("id: sample-entry", "id: Sample Entry").replace(
        "    owner:", "    ownr: x\n    owner:")
    messages = _messages(tmp_path, broken)
    assert "a.yaml:2: error: entry 'Sample Entry': id: String should match pattern" in messages[0]
    assert "a.yaml:16: error: entry 'Sample Entry': ownr: unknown field" in messages


def test_duplicate_ids_unknown_topics_and_placeholders(tmp_path):
    second = GOOD.split("entries:\n", 1)[1].replace("[training]", "[trainings]").replace(
        "{training_url}", "{trainig_url}").replace("研修はいつですか？", "研修の時期は？").replace(
        "When is the training?", "Training dates")
    messages = _messages(tmp_path, GOOD + second)
    assert "a.yaml:18: error: duplicate id 'sample-entry' (first at a.yaml:2)" in messages


def test_unknown_topic_placeholder_and_future_review(tmp_path):
    broken = (GOOD.replace("[training]", "[trainings]")
              .replace("See {training_url}", "See {trainig_url}")
              .replace("2026-11-01", "2027-01-01"))
    messages = _messages(tmp_path, broken)
    assert "a.yaml:3: error: entry 'sample-entry': unknown topic 'trainings' (see topics.yaml)" \
        in messages
    assert any(m.startswith("a.yaml:7: error: entry 'sample-entry': answer.en: unknown "
                            "placeholder {trainig_url}") for m in messages)
    assert "a.yaml:17: error: entry 'sample-entry': reviewed_on 2027-01-01 is in the future" \
        in messages
    assert "topics.yaml:2: error: topic 'training' has no entry" in messages


def test_stale_review_is_a_warning(tmp_path):
    messages = _messages(tmp_path, GOOD.replace("2026-11-01", "2025-06-01"))
    assert messages == ["a.yaml:17: warning: entry 'sample-entry': last reviewed 2025-06-01, "
                        "over 365 days ago"]


def test_yaml_syntax_and_duplicate_keys(tmp_path):
    assert _messages(tmp_path, "entries:\n  - id: [\n") == [
        "a.yaml:3: error: YAML: expected the node content, but found '<stream end>'",
        "topics.yaml:2: error: topic 'training' has no entry",
    ]
    doubled = GOOD.replace("    owner: 行為規制担当\n", "    owner: 行為規制担当\n    owner: x\n")
    assert "a.yaml:17: error: key 'owner' appears twice in one mapping" in _messages(
        tmp_path, doubled)


def test_drafts_are_ignored(tmp_path):
    kb = _kb(tmp_path, GOOD)
    (kb / "drafts").mkdir()
    (kb / "drafts" / "new.yaml").write_text("entries: [broken", encoding="utf-8")
    assert load_knowledge(kb, today=date(2026, 11, 21)).issues == []


def test_shipped_knowledge_base_lints_clean():
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "kb", "lint", "--path",
                           str(KNOWLEDGE)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout
    assert re.search(r"\d+ entries, 20 topics: 0 errors", proc.stdout)


def test_lint_exits_non_zero_on_errors(tmp_path):
    kb = _kb(tmp_path, GOOD.replace("    owner: 行為規制担当\n", ""))
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "kb", "lint", "--path", str(kb)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert f"{kb}/a.yaml:2: error: entry 'sample-entry': owner: Field required" in proc.stdout


def test_every_shared_topic_is_covered_in_both_languages():
    base = load_knowledge(KNOWLEDGE)
    if SHARED_TOPICS.exists():
        # The shared file is not valid YAML (unquoted ": " in three values), so read its ids.
        shared = set(re.findall(r"^\s*- id: (\S+)", SHARED_TOPICS.read_text(encoding="utf-8"),
                                re.M))
        assert shared == set(base.topics)
    assert len(base.topics) == 20
    for topic in base.topics:
        entries = [e for e in base.entries if topic in e.topics]
        assert entries, topic
        assert all(e.answer.ja and e.answer.en and e.question.ja and e.question.en
                   for e in entries)


def test_shipped_answers_invent_no_numbers_of_their_own():
    """Phone numbers, URLs and mail addresses differ per company: they come from config."""
    base = load_knowledge(KNOWLEDGE)
    for entry in base.entries:
        for lang in ("ja", "en"):
            text = entry.answer.get(lang)
            assert not re.search(r"https?://|@[a-z]|\d{2,4}-\d{2,4}-\d{3,4}", text), entry.id



# -- synonyms.yaml and out-of-scope.yaml ------------------------------------------------------

def test_synonyms_load_and_bad_groups_are_reported_with_their_line(tmp_path):
    (tmp_path / "synonyms.yaml").write_text(
        "synonyms:\n"
        "  ja:\n"
        "    - term: 研修\n"
        "      aliases: [トレーニング, ト]\n"
        "    - term: 研修\n"
        "      aliases: [トレーニング]\n"
        "  en:\n"
        "    - term: training\n"
        "      aliases: [the, course]\n"
        "    - aliases: [x]\n"
        "    - term: nowhere\n"
        "      aliases: [anywhere]\n",
        encoding="utf-8")
    base = load_knowledge(_kb(tmp_path, GOOD), today=date(2026, 11, 21))
    messages = [str(i).replace(str(tmp_path) + "/", "") for i in base.issues]
    assert "synonyms.yaml:3: error: synonyms.ja: alias 'ト' is shorter than 2 characters and " \
        "would match inside unrelated words" in messages
    assert any(m.startswith("synonyms.yaml:5: error:") and "already an alias" in m
               for m in messages)
    assert any(m.startswith("synonyms.yaml:8: error:") and "'the' has only stopwords" in m
               for m in messages)
    assert any(m.startswith("synonyms.yaml:10: error:") and "needs `term`" in m
               for m in messages)
    assert any(m.startswith("synonyms.yaml:11: warning:") and "'nowhere'" in m
               for m in messages)
    assert base.synonyms.rewrite("トレーニングはいつ？") == "研修はいつ?"
    assert base.synonyms.rewrite("When is the course?") == "when is the training?"


def test_out_of_scope_subjects_load_and_may_not_repeat_an_entry_question(tmp_path):
    (tmp_path / "out-of-scope.yaml").write_text(
        "out_of_scope:\n"
        "  - id: expenses\n"
        "    about: {ja: 経費精算, en: Expense claims}\n"
        "    question:\n"
        "      ja: [経費精算のやり方は？]\n"
        "      en: [\"How do I claim expenses?\"]\n"
        "  - id: clash\n"
        "    about: {ja: 研修, en: Training}\n"
        "    question:\n"
        "      ja: [研修はいつですか？]\n"
        "      en: [\"When?\"]\n"
        "  - id: Bad Id\n",
        encoding="utf-8")
    base = load_knowledge(_kb(tmp_path, GOOD), today=date(2026, 11, 21))
    messages = [str(i).replace(str(tmp_path) + "/", "") for i in base.issues]
    assert [s.id for s in base.out_of_scope] == ["expenses"]
    assert any(m.startswith("out-of-scope.yaml:7: error:") and "'sample-entry'" in m
               for m in messages)
    assert any(m.startswith("out-of-scope.yaml:12: error:") for m in messages)
    assert not [e for e in base.entries if e.id in ("expenses", "clash")]
