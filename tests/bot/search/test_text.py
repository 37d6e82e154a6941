"""Normalisation folds the spellings employees type into one form; the batch tokenizer used
for index builds yields exactly the tokens of the per-question one."""

import sys
import unicodedata
from collections import Counter

import pytest
import yaml

from bot.kb.loader import load_knowledge
from bot.search import text
from bot.search.text import detect_lang, normalize, tokenize, tokenize_many
from tests.conftest import REPO


def test_width_case_and_katakana_fold_together():
    assert normalize("ﾊﾟｽﾜｰﾄﾞ") == normalize("パスワード") == normalize("ぱすわーど")
    assert normalize("ＩＤ　と　PASSWORD") == "id と password"


def test_japanese_bigrams_kanji_unigrams_and_words():
    tokens = tokenize("異動後のID")
    assert {"異動", "動後", "後の", "異", "動", "後", "id"} <= set(tokens)
    assert "の" not in tokens  # hiragana alone says nothing


def test_english_stopwords_dropped_and_words_stemmed():
    assert tokenize("What are the rules for passwords?") == ["rule", "password"]


def test_hyphens_and_middle_dots_join_latin_words_only():
    assert tokenize("Wi-Fi") == tokenize("wifi") == tokenize("Ｗｉ－Ｆｉ") == ["wifi"]
    assert tokenize("a-b-c") == ["abc"]
    tokens = tokenize("ゲスト・ルーム")  # kana around a middle dot stay two words
    assert {"げすと", "るーむ"} <= set(tokens) and "げすとるーむ" not in tokens


def test_language_detection():
    assert detect_lang("パスワードを教えてもいい？") == "ja"
    assert detect_lang("IDを貸していい") == "ja"
    assert detect_lang("Can I lend my ID?") == "en"


EDGE_CASES = [
    "", "ﾊﾟｽﾜｰﾄﾞ", "ＩＤ　と　PASSWORD", "Wi-Fi・ゲスト", "wi・fi", "a-b-c", "-a-", "x--y",
    "異", "の", "ー", "ーーー", "ヷヸヹヺー", "ヽヾカタカナ", "々", "〆切", "ｶﾀｶﾅ語",
    "ﾃﾞｰﾀ ﾍﾞｰｽ", "㍻の㈱", "①②③", "ＡＢＣ１２３", "ΣΑΣ ὈΔΥΣΣΕΎΣ", "İstanbul", "e\u0301te",
    "か\u3099", "nul\x00byte", "line\nbreak\tand tab", "…（注）…", "🙂 emoji 絵文字",
    "ゼロトラスト／ゼロ・トラスト", "Don't share passwords", "2024年4月1日施行",
    "각 한국어", "ゝゞ", "ﾞﾟ",
]


def _texts_of_the_knowledge_base() -> list[str]:
    base = load_knowledge(REPO / "knowledge")
    texts = [
        value
        for entry in base.entries
        for lang in ("ja", "en")
        for value in (*entry.question.get(lang), *entry.keywords.get(lang),
                      entry.answer.get(lang), entry.source.get(lang))
    ]
    texts += [topic.ja for topic in base.topics.values()]
    texts += [topic.en for topic in base.topics.values()]
    questions = yaml.safe_load((REPO / "tests" / "eval" / "questions.yaml").read_text("utf-8"))
    return texts + [item["q"] for item in questions["questions"] + questions["off_topic"]]


@pytest.mark.parametrize("texts", [
    EDGE_CASES, _texts_of_the_knowledge_base(), ["\n".join(EDGE_CASES)], [], [""],
], ids=["edge-cases", "knowledge-base", "one-text", "no-texts", "empty-text"])
def test_batch_tokens_are_the_per_text_tokens(texts):
    batch = tokenize_many(texts)
    assert [Counter(tokens) for tokens in batch.tokens(len(texts))] == [
        Counter(tokenize(t)) for t in texts
    ]
    assert len(set(batch.vocabulary)) == len(batch.vocabulary)  # one number per term


def test_batch_falls_back_when_the_alphabet_is_too_big_for_a_dense_table(monkeypatch):
    texts = ["異動後のIDでログイン", "ゲストWi-Fiのパスワード", "passwords are personal"]
    expected = tokenize_many(texts).tokens(len(texts))
    monkeypatch.setattr(text, "_DENSE_TABLE_LIMIT", 0)
    assert tokenize_many(texts).tokens(len(texts)) == expected


def test_the_batch_character_classes_are_the_regular_expressions():
    # Queries are cut by the regular expressions, index builds by the class table: they
    # must agree on every character of the Basic Multilingual Plane.
    for code in range(0x10000):
        char, flags = chr(code), int(text._CLASSES[code])
        run = bool(text._TOKEN_RUN.fullmatch(char))
        assert bool(flags & text._IS_LATIN) == (run and code < 0x80), hex(code)
        assert bool(flags & text._IS_CJK) == (run and code >= 0x80), hex(code)
        assert bool(flags & text._IS_KATAKANA) == bool(text._KATAKANA_WORD.fullmatch(char * 3))
        assert bool(flags & text._IS_KANJI) == bool(text._KANJI.fullmatch(char)), hex(code)
        assert bool(flags & text._IS_HYPHEN) == bool(text._HYPHENATED.search(f"a{char}a"))


def _second_halves_of_compositions() -> set[int]:
    seconds = set()
    for code in range(sys.maxunicode + 1):
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    return seconds


def test_code_points_assumed_nfkc_stable_are():
    # The batch tokenizer skips NFKC for texts made only of these (and ASCII): each must be
    # its own NFKC form, never combine with the character before it, nor change by context.
    seconds = _second_halves_of_compositions()
    ranges = [(0x00, 0x7F), *text._NFKC_STABLE]
    for low, high in ranges:
        for code in range(low, high + 1):
            char = chr(code)
            assert unicodedata.normalize("NFKC", char) == char, hex(code)
            assert unicodedata.combining(char) == 0, hex(code)
            assert code not in seconds, hex(code)


def test_batch_tokens_equal_single_tokens_on_random_hyphenated_mixtures():
    """Hyphens join fragments and split words in both tokenisers alike, at text edges too."""
    import random

    rng = random.Random(20261202)
    alphabet = "ab-・ x日本語ﾊﾟｽ"
    for _ in range(3000):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14)))
                 for _ in range(3)]
        batch = tokenize_many(texts).tokens(3)
        assert [sorted(tokens) for tokens in batch] == [sorted(tokenize(t)) for t in texts]


def test_hyphens_join_fragments_and_split_words():
    assert tokenize("wi-fi e-mail") == ["wifi", "email"]
    assert tokenize("conduct-rule") == tokenize("conduct rules")
