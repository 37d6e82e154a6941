"""Normalisation folds the spellings employees type into one form."""

from bot.search.text import detect_lang, normalize, tokenize


def test_width_case_and_katakana_fold_together():
    assert normalize("ﾊﾟｽﾜｰﾄﾞ") == normalize("パスワード") == normalize("ぱすわーど")
    assert normalize("ＩＤ　と　PASSWORD") == "id と password"


def test_japanese_bigrams_kanji_unigrams_and_words():
    tokens = tokenize("異動後のID")
    assert {"異動", "動後", "後の", "異", "動", "後", "id"} <= set(tokens)
    assert "の" not in tokens  # hiragana alone says nothing


def test_english_stopwords_dropped_and_words_stemmed():
    assert tokenize("What are the rules for passwords?") == ["rule", "password"]


def test_language_detection():
    assert detect_lang("パスワードを教えてもいい？") == "ja"
    assert detect_lang("IDを貸していい") == "ja"
    assert detect_lang("Can I lend my ID?") == "en"
