"""The Q&A engine against an evaluation set written apart from the knowledge base.

tests/eval/questions.yaml was written from the topic list and the seed documents by someone
who had not read the entries, phrased as employees type in chat.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.kb.loader import load_knowledge
from bot.search.engine import SearchEngine, Tuning
from bot.search.semantic import default_cache_dir, load_embedder
from tests.conftest import REPO

EVAL = yaml.safe_load((Path(__file__).parents[2] / "eval" / "questions.yaml").read_text("utf-8"))


@pytest.fixture(scope="module")
def engine() -> SearchEngine:
    """The engine as the default install runs it: every knowledge file, the embedding model."""
    base = load_knowledge(REPO / "knowledge")
    return SearchEngine.for_base(base, Tuning(), load_embedder(default_cache_dir()))


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
    assert 1 - len(leaks) / len(EVAL["off_topic"]) >= 0.85, leaks


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
    engine = SearchEngine(base.entries, Tuning(min_score=0.01, suggest_margin=1.0))
    result = engine.search("パスワード")
    assert result.answered
    assert 1 <= len(result.suggestions) <= 3
    assert result.best.entry.id not in {m.entry.id for m in result.suggestions}
    assert all(m.score <= result.best.score for m in result.suggestions)


def test_empty_and_symbol_only_questions_are_abstained(engine):
    for question in ("", "？？？", "!!!"):
        result = engine.search(question)
        assert not result.answered and result.best is None


# -- questions typed the way people type -------------------------------------------------------

@pytest.mark.parametrize("question, topic", [
    # English with one Japanese term
    ("Can I tell my パスワード to someone at the retail company?", "id-password-sharing"),
    ("Is 託送 data something retail staff may look at?", "nonpublic-info"),
    ("after 異動 to retail, can I still use my old login?", "id-after-transfer"),
    # Japanese with Latin words
    ("異動したあとも前の部署の ID で login していい？", "id-after-transfer"),
    ("PC の access log ってチェックされてるの？", "access-log-monitoring"),
    ("新電力の customer list 見ちゃったけど営業には使わないなら OK？",
     "competitor-customer-data"),
])
def test_mixed_language_questions_are_answered_from_the_right_entry(engine, question, topic):
    result = engine.search(question)
    assert result.answered and topic in result.best.entry.topics, result.ranked[:3]


def test_a_mixed_question_reads_both_scripts():
    """Without the Latin words, the Japanese half alone says too little to answer."""
    base = load_knowledge(REPO / "knowledge")
    lexical = SearchEngine.for_base(base, Tuning())
    mixed = lexical.search("昨日 wrong screen 開いたら competitor の customer list 出た")
    japanese_only = lexical.search("昨日 開いたら 出た")
    assert mixed.best is not None and mixed.score > 2 * japanese_only.score


@pytest.mark.parametrize("question, lang", [
    ("PC の log 見ていい？", "ja"), ("NW設定端末", "ja"), ("Is 託送 data secret?", "en"),
    ("Can I share my パスワード with the 小売 team?", "en"), ("ﾊﾟｽﾜｰﾄﾞ", "ja"),
])
def test_the_reply_language_is_the_sentence_frames(engine, question, lang):
    assert engine.search(question).lang == lang


def test_out_of_scope_subjects_decline_questions_that_share_a_word(engine):
    for question in ("自分のPCのパスワードを忘れた。リセットしてほしい",
                     "How do I claim the hotel bill from my disaster support trip?"):
        result = engine.search(question)
        assert not result.answered, (question, result.best)


def test_an_abstention_offers_the_entries_above_the_suggestion_floor():
    base = load_knowledge(REPO / "knowledge")
    strict = SearchEngine.for_base(base, Tuning(min_score=0.999, suggest_floor=0.05))
    result = strict.search("情報を見てしまった")
    assert not result.answered
    assert 1 <= len(result.suggestions) <= 3
    assert all(m.score >= 0.05 and m.entry.topics for m in result.suggestions)
    assert result.suggestions == result.ranked[: len(result.suggestions)]


def test_an_abstention_with_nothing_near_offers_nothing(engine):
    result = engine.search("明日の天気は晴れるかな")
    assert not result.answered and result.suggestions == []


def test_answered_entry_is_the_most_confident_candidate(engine):
    """Rank and decide on one confidence: nothing shown beside an answer outranks it."""
    for item in EVAL["questions"]:
        result = engine.search(item["q"])
        if result.answered:
            assert all(m.score <= result.best.score for m in result.suggestions)
            assert result.ranked[0] == result.best


def test_engine_without_the_model_still_answers():
    base = load_knowledge(REPO / "knowledge")
    lexical = SearchEngine.for_base(base, Tuning())
    assert not lexical.semantic
    result = lexical.search("異動前のIDでログインしてもいいですか")
    assert result.answered and "id-after-transfer" in result.best.entry.topics
