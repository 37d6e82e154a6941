"""Normalisation and tokenisation for Japanese and English questions.

Japanese has no spaces and a morphological analyser (MeCab, Sudachi) would add a large native
dependency and a dictionary to keep current; character bigrams plus kanji unigrams are the
classic dictionary-free index for short Japanese texts and are robust to the spelling variants
employees type (パスワード / ぱすわーど / ﾊﾟｽﾜｰﾄﾞ all normalise to the same string).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
# CJK run: hiragana, katakana (already folded), the long-vowel mark, kanji and iteration marks.
_TOKEN_RUN = re.compile(
    r"[\u3041-\u309f\u30a1-\u30fa\u30fc\u3400-\u4dbf\u4e00-\u9fff\u3005\u3006]+|[a-z0-9]+"
)
_KATAKANA_WORD = re.compile(r"[\u30a1-\u30fa\u30fc]{3,}")
_HYPHENATED = re.compile(r"(?<=[a-z0-9])[-・](?=[a-z0-9])")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3005]")
_JAPANESE = re.compile(r"[\u3041-\u309f\u30a1-\u30fa\u3400-\u4dbf\u4e00-\u9fff]")

# Words that carry no meaning in a question; leaving them in would let "what is the guest
# wifi password" look like a good match for anything that contains "what is the".
ENGLISH_STOPWORDS = frozenset(
    """a an the and or but if of to in on at for from by with about as into than then so
    is are was were be been being am do does did doing have has had having can could may might
    must shall should will would i me my mine we us our you your he she it its they them their
    this that these those there here what which who whom whose when where why how
    not no yes ok okay please pls thanks thank hi hello hey just also any some all
    get got ask asking tell know want need let s t d ll m re ve""".split()
)

_stemmer = snowballstemmer.stemmer("english")


def _unify(text: str) -> str:
    """NFKC (full/half width), lower case, "wi-fi" and "wifi" alike; kana left as typed."""
    return _HYPHENATED.sub("", unicodedata.normalize("NFKC", text).lower())


def normalize(text: str) -> str:
    """NFKC (full/half width), lower case, katakana folded to hiragana, spaces collapsed."""
    return " ".join(_unify(text).translate(_KATAKANA_TO_HIRAGANA).split())


def detect_lang(text: str) -> str:
    """Japanese if the text has any kana or kanji; otherwise English."""
    return "ja" if _JAPANESE.search(text) else "en"


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def tokenize(text: str) -> list[str]:
    """CJK bigrams + kanji unigrams + whole katakana words, stemmed English words.

    Katakana words (パスワード, スイッチング, ゲスト) are mostly the topic of a sentence, so
    each also counts as one token of its own; all kana is folded to hiragana afterwards.
    """
    unified = _unify(text)
    tokens = [word.translate(_KATAKANA_TO_HIRAGANA) for word in _KATAKANA_WORD.findall(unified)]
    for run in _TOKEN_RUN.findall(unified.translate(_KATAKANA_TO_HIRAGANA)):
        if run[0] < "\x80":
            if run not in ENGLISH_STOPWORDS:
                tokens.append(_stem(run))
        elif len(run) == 1:
            tokens.append(run)
        else:
            tokens += map(str.__add__, run, run[1:])
            tokens += _KANJI.findall(run)
    return tokens
