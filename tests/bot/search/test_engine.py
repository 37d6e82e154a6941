"""The Q&A engine against an evaluation set written apart from the knowledge base.

tests/eval/questions.yaml was written from the topic list and the seed documents by someone
who had not read the entries, phrased as employees type in chat.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import SearchSettings
from bot.kb.loader import load_knowledge
from bot.search.engine import SearchEngine, Tuning
from tests.conftest import REPO

EVAL = yaml.safe_load((Path(__file__).parents[2] / "eval" / "questions.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
def engine() -> SearchEngine:
    base = load_knowledge(REPO / "knowledge")
    topics = {t.id: {"ja": t.ja, "en": t.en} for t in base.topics.values()}
    defaults = SearchSettings()
    return SearchEngine(base.entries, Tuning(min_score=defaults.min_score), topics)


def test_evaluation_set_is_big_enough_and_bilingual():
    questions, off_topic = EVAL["questions"], EVAL["off_topic"]
    assert len(questions) >= 60 and len(off_topic) >= 10
    assert {q["lang"] for q in questions} == {"ja", "en"}
    assert sum(q["lang"] == "ja" for q in questions) >= 30


def test_evaluation_questions_are_not_the_entries_own_phrasings():
    base = load_knowledge(REPO / "knowledge")
    phrasings = {p.strip() for e in base.entries for lang in ("ja", "en")
                 for p in e.question.get(lang)}
    assert not phrasings & {q["q"].strip() for q in EVAL["questions"]}


def test_top1_accuracy_is_at_least_90_percent(engine):
    misses = []
    for item in EVAL["questions"]:
        result = engine.search(item["q"])
        if not (result.answered and item["topic"] in result.best.entry.topics):
            misses.append((item["q"], item["topic"], result.best and result.best.entry.id))
    accuracy = 1 - len(misses) / len(EVAL["questions"])
    assert accuracy >= 0.9, misses


def test_off_topic_questions_are_abstained_on(engine):
    leaks = [(item["q"], engine.search(item["q"]).best.entry.id)
             for item in EVAL["off_topic"] if engine.search(item["q"]).answered]
    assert 1 - len(leaks) / len(EVAL["off_topic"]) >= 0.8, leaks


@pytest.mark.parametrize("question", [
    "ゲストWi-Fiのパスワードを教えて", "what's the guest wifi password?",
    "社員食堂の今日のメニューは？", "What is on the cafeteria menu today?",
])
def test_named_traps_get_no_password_answer(engine, question):
    assert not engine.search(question).answered


def test_language_follows_the_question(engine):
    assert engine.search("異動前のIDでログインしてもいいですか").lang == "ja"
    assert engine.search("Can I log in with my old ID after a transfer?").lang == "en"


def test_close_runners_up_become_suggestions():
    base = load_knowledge(REPO / "knowledge")
    engine = SearchEngine(base.entries, Tuning(min_score=0.1, suggest_margin=1.0))
    result = engine.search("パスワード")
    assert result.answered
    assert 1 <= len(result.suggestions) <= 3
    assert result.best.entry.id not in {m.entry.id for m in result.suggestions}
    assert all(m.score <= result.best.score for m in result.suggestions)


def test_empty_and_symbol_only_questions_are_abstained(engine):
    for question in ("", "？？？", "!!!"):
        result = engine.search(question)
        assert not result.answered and result.best is None
