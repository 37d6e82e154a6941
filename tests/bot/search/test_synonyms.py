"""Synonyms and typo correction: the words people type, turned into the words entries use."""

from __future__ import annotations

from bot.search.spelling import Speller
from bot.search.synonyms import SynonymGroup, Synonyms

SYNONYMS = Synonyms(
    ja=(SynonymGroup("発覚", ("バレたら", "バレる")), SynonymGroup("貸与", ("貸し借り",))),
    en=(SynonymGroup("view", ("snoop", "take a peek")),),
)


def test_japanese_aliases_match_inside_the_sentence_and_in_half_width():
    assert SYNONYMS.rewrite("これバレたらまずい？") == "これ発覚まずい?"
    assert "発覚" in SYNONYMS.rewrite("ﾊﾞﾚたら")
    assert SYNONYMS.rewrite("IDの貸し借りはOK?") == "idの貸与はok?"


def test_japanese_aliases_do_not_fold_kana():
    """ばれ hides in 呼ばれる; only the katakana the curator listed matches."""
    assert "発覚" not in SYNONYMS.rewrite("会議に呼ばれたら行く")


def test_english_aliases_match_stemmed_whole_words_and_phrases():
    assert SYNONYMS.rewrite("Can I snooping on data?") == "can i view on data?"
    assert SYNONYMS.rewrite("just take a peek at it") == "just view at it"
    assert SYNONYMS.rewrite("snoopy the dog") == "snoopy the dog"


def test_the_speller_fixes_unknown_words_one_edit_from_a_known_one():
    speller = Speller(["How often are the access logs checked?", "office partition"])
    assert speller.correct("acess logs cheked") == "access logs checked"
    assert speller.correct("the ofice") == "the office"


def test_the_speller_leaves_known_short_and_ambiguous_words():
    speller = Speller(["cart card care", "office"])
    assert speller.correct("carx") == "carx"  # cart, card and care are all one edit away
    assert speller.correct("offce on") == "office on"
    assert speller.correct("abc") == "abc"
