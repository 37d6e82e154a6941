"""Normalisation and tokenisation for Japanese and English questions.

Japanese has no spaces and a morphological analyser (MeCab, Sudachi) would add a large native
dependency and a dictionary to keep current; character bigrams plus kanji unigrams are the
classic dictionary-free index for short Japanese texts and are robust to the spelling variants
employees type (パスワード / ぱすわーど / ﾊﾟｽﾜｰﾄﾞ all normalise to the same string).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import snowballstemmer

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
# CJK run: hiragana, katakana (already folded), the long-vowel mark, kanji and iteration marks.
_TOKEN_RUN = re.compile(
    r"[\u3041-\u309f\u30a1-\u30fa\u30fc\u3400-\u4dbf\u4e00-\u9fff\u3005\u3006]+|[a-z0-9]+"
)
_KATAKANA_WORD = re.compile(r"[\u30a1-\u30fa\u30fc]{3,}")
_HYPHENATED = re.compile(r"[a-z0-9]+(?:[-・][a-z0-9]+)+")
_HYPHEN = re.compile(r"[-・]")
# A hyphen joins its two words when one side is a fragment ("wi-fi", "e-mail", "log-in") and
# splits them otherwise ("conduct-rule" is "conduct rule", as people also write it).
_FRAGMENT = 2
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3005]")
_JAPANESE = re.compile(r"[\u3041-\u309f\u30a1-\u30fa\u3400-\u4dbf\u4e00-\u9fff]")
_HIRAGANA = re.compile(r"[\u3041-\u309f]")
_LATIN_LETTER = re.compile(r"[a-z]")

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


def _dehyphenate(match: re.Match[str]) -> str:
    parts = _HYPHEN.split(match.group())
    joined = [parts[0]]
    for left, right in itertools.pairwise(parts):
        joined += ["" if min(len(left), len(right)) <= _FRAGMENT else " ", right]
    return "".join(joined)


def _unify(text: str) -> str:
    """NFKC (full/half width), lower case, "wi-fi" and "wifi" alike; kana left as typed."""
    return _HYPHENATED.sub(_dehyphenate, unicodedata.normalize("NFKC", text).lower())


def normalize(text: str) -> str:
    """NFKC (full/half width), lower case, katakana folded to hiragana, spaces collapsed."""
    return " ".join(_unify(text).translate(_KATAKANA_TO_HIRAGANA).split())


def detect_lang(text: str) -> str:
    """The language the question is written in, which the reply is written in.

    Hiragana carries Japanese grammar (particles, endings): any of it makes the sentence
    Japanese, whatever English words it borrows ("PC の log 見ていい？"). Without hiragana,
    the script with more weight wins, a kanji or katakana counting as two Latin letters: "NW設定
    端末" is Japanese, "Is 託送 data confidential?" is English.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    if _HIRAGANA.search(text):
        return "ja"
    japanese = len(_JAPANESE.findall(text))
    return "ja" if japanese and 2 * japanese >= len(_LATIN_LETTER.findall(text)) else "en"


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of one lower-case English word, cached."""
    stemmed: str = _stemmer.stemWord(word)
    return stemmed





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
                tokens.append(stem(run))
        elif len(run) == 1:
            tokens.append(run)
        else:
            tokens += map(str.__add__, run, run[1:])
            tokens += _KANJI.findall(run)
    return tokens


# --------------------------------------------------------------------------------------------
# Batch tokenisation for index builds.
#
# Hand-written and vectorised because the index must rebuild in well under a second while
# curators edit files, and calling `tokenize` on each of the 40,000 texts (seven million
# characters) of a 10,000-entry base costs over a second on its own; no tokenizer library
# implements these rules. `tokenize_many` yields for each text exactly the tokens of
# `tokenize` (tests compare the two on the real knowledge base and on edge cases), only not
# in order: it joins the texts into one string, classifies its code points with one table
# lookup in numpy, and cuts pairs, single characters and words out of whole arrays, so no
# Python code runs per character, only a dict lookup per word. Terms come out as dense
# numbers with one string each, so the index sorts small integers, not strings.

_SEPARATOR = "\x00"  # between texts: never part of a token, NFKC- and case-stable
_FULLWIDTH_ASCII = (0xFF01, 0xFF5E)  # NFKC: the ASCII character 0xFEE0 below
_IDEOGRAPHIC_SPACE = 0x3000
_KATAKANA_FOLDED = (0x30A1, 0x30F6)  # what _KATAKANA_TO_HIRAGANA folds (to 0x60 lower)
# Code points that are their own NFKC form in any context (ccc 0, never the second half of
# a composition; tests/bot/search/test_text.py checks every one): a text made only of them
# needs no normalising, which is nearly every text once full-width ASCII is folded.
_NFKC_STABLE = (
    (0x00, 0x7F), (0x3001, 0x3002), (0x3005, 0x3005), (0x300C, 0x300F), (0x3041, 0x3096),
    (0x30A1, 0x30FA), (0x30FC, 0x30FC), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
)
# Character classes of the regular expressions above, as bit flags in a table over the Basic
# Multilingual Plane: one lookup per character classifies a whole text (beyond the BMP is
# none of them, and never assumed NFKC-stable).
_IS_LATIN, _IS_HYPHEN, _IS_KATAKANA, _IS_CJK, _IS_KANJI, _IS_UNSTABLE = 1, 2, 4, 8, 16, 32
_CLASS_RANGES = {
    _IS_LATIN: ((0x61, 0x7A), (0x30, 0x39)),  # _TOKEN_RUN's [a-z0-9]
    _IS_HYPHEN: ((0x2D, 0x2D), (0x30FB, 0x30FB)),  # _HYPHENATED's [-・]
    _IS_KATAKANA: ((0x30A1, 0x30FA), (0x30FC, 0x30FC)),  # _KATAKANA_WORD
    _IS_CJK: ((0x3041, 0x309F), (0x30A1, 0x30FA), (0x30FC, 0x30FC), (0x3400, 0x4DBF),
              (0x4E00, 0x9FFF), (0x3005, 0x3006)),  # _TOKEN_RUN's kana and kanji
    _IS_KANJI: ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x3005, 0x3005)),  # _KANJI
}
_CJK_LOW = min(low for low, _ in _CLASS_RANGES[_IS_CJK])
_CJK_SPAN = max(high for _, high in _CLASS_RANGES[_IS_CJK]) - _CJK_LOW + 1


def _class_table() -> np.ndarray:
    table = np.full(0x10000, _IS_UNSTABLE, dtype=np.uint8)
    for low, high in _NFKC_STABLE:
        table[low:high + 1] = 0
    for flag, ranges in _CLASS_RANGES.items():
        for low, high in ranges:
            table[low:high + 1] |= flag
    return table


_CLASSES = _class_table()
# Each Latin letter or digit as its byte, anything else as a space: bytes.split() then cuts
# out exactly the words _TOKEN_RUN finds.
_LATIN_BYTES = np.where(_CLASSES & _IS_LATIN, np.arange(0x10000) % 0x100, 0x20).astype(np.uint8)


def _between(codes: np.ndarray, low: int, high: int) -> np.ndarray:
    """low <= codes <= high for uint32 code points, in one pass (below low wraps around)."""
    return (codes - np.uint32(low)) <= np.uint32(high - low)


def _classes(codes: np.ndarray) -> np.ndarray:
    # "clip": every code point beyond the table reads its last entry, U+FFFF (no class).
    return np.take(_CLASSES, codes, mode="clip")


def _to_codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _to_text(codes: np.ndarray) -> str:
    return codes.tobytes().decode("utf-32-le")


def _unify_joined(joined: str) -> tuple[np.ndarray, np.ndarray]:
    """`_unify` of texts joined by _SEPARATOR, as code points, and their class flags.

    CPython normalises in C only when a quick check finds nothing to change, and Japanese
    questions nearly all end in a full-width "？", which sends every text down the slow path.
    Replacing a character by its own compatibility decomposition never changes the NFKC
    result, so full-width ASCII is folded first; then only texts with a character outside
    _NFKC_STABLE go through `unicodedata.normalize`.
    """
    codes = _to_codes(joined)
    wide = np.flatnonzero(_between(codes, *_FULLWIDTH_ASCII))
    spaces = np.flatnonzero(codes == _IDEOGRAPHIC_SPACE)
    if len(wide) or len(spaces):
        codes = codes.copy()
        codes[wide] -= np.uint32(0xFEE0)
        codes[spaces] = 0x20
    unstable = np.flatnonzero(_classes(codes) & _IS_UNSTABLE)
    text = _to_text(codes)
    if len(unstable):
        parts = text.split(_SEPARATOR)
        owners = np.searchsorted(np.flatnonzero(codes == 0), unstable)
        for number in np.unique(owners).tolist():
            parts[number] = unicodedata.normalize("NFKC", parts[number])
        text = _SEPARATOR.join(parts)
    codes = _to_codes(text.lower())
    classes = _classes(codes)
    # _HYPHENATED: a hyphen between two Latin words joins them when either word is a
    # fragment of at most _FRAGMENT characters ("wi-fi" -> "wifi"), else becomes a space.
    hyphen = np.flatnonzero(classes[1:-1] & _IS_HYPHEN) + 1
    hyphen = hyphen[(classes[hyphen - 1] & classes[hyphen + 1] & _IS_LATIN).astype(bool)]
    if not len(hyphen):
        return codes, classes
    # The Latin run on each side of a hyphen ends at the nearest non-Latin character: found
    # by binary search among the non-Latin positions (a hyphen is one of them itself).
    others = np.concatenate(([-1], np.flatnonzero(~(classes & _IS_LATIN).astype(bool)),
                             [len(codes)]))
    at = np.searchsorted(others, hyphen)
    left = hyphen - 1 - others[at - 1]
    right = others[at + 1] - hyphen - 1
    join = np.minimum(left, right) <= _FRAGMENT
    codes, classes = codes.copy(), classes.copy()
    codes[hyphen[~join]] = 0x20
    classes[hyphen[~join]] = _CLASSES[0x20]
    return np.delete(codes, hyphen[join]), np.delete(classes, hyphen[join])


@dataclass(frozen=True)
class TokenBatch:
    """The tokens of many texts as parallel arrays: token k is the string
    `vocabulary[terms[k]]` and belongs to text number `texts[k]`."""

    texts: np.ndarray  # int32
    terms: np.ndarray  # int32, 0 <= term < len(vocabulary)
    vocabulary: list[str]

    def tokens(self, count: int) -> list[list[str]]:
        """Tokens per text, grouped but not in `tokenize` order; for tests and small batches."""
        order = np.argsort(self.texts, kind="stable")
        strings = [self.vocabulary[term] for term in self.terms[order].tolist()]
        bounds = np.searchsorted(self.texts[order], np.arange(count + 1)).tolist()
        return [strings[bounds[n]:bounds[n + 1]] for n in range(count)]


class _WordNumbers(dict[bytes, int]):
    """Word number of each distinct Latin-script word (-1: stopword), found on first lookup."""

    def __init__(self, words: dict[str, int]) -> None:
        super().__init__()
        self.words = words

    def __missing__(self, key: bytes) -> int:
        word = key.decode("ascii")
        number = -1 if word in ENGLISH_STOPWORDS else _number(stem(word), self.words)
        self[key] = number
        return number


def _number(word: str, words: dict[str, int]) -> int:
    return words.setdefault(word, len(words))


def tokenize_many(texts: Sequence[str]) -> TokenBatch:
    """`tokenize` of every text at once, vectorised; see the comment above for why."""
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:
        # NUL is no token character, so a space in its place changes no token.
        joined = _SEPARATOR.join(text.replace(_SEPARATOR, " ") for text in texts)
    codes, classes = _unify_joined(joined)
    separators = np.flatnonzero(codes == 0)
    words: dict[str, int] = {}  # word term (English stem, katakana word) -> its number
    word_texts, word_numbers = _latin_words(codes, classes, separators, words)

    # Kana and kanji (every code point of _IS_CJK lies in _CJK_LOW + [0, _CJK_SPAN)).
    where = np.flatnonzero(classes & _IS_CJK)
    found, flags = codes[where], classes[where]
    owners = np.searchsorted(separators, where).astype(np.int32)  # text number of each
    katakana = (flags & _IS_KATAKANA).astype(bool)
    kata_texts, kata_numbers = _katakana_words(codes, where[katakana], owners[katakana], words)
    found = np.where(_between(found, *_KATAKANA_FOLDED), found - np.uint32(0x60), found)
    # A pair is two neighbouring characters of one run; a character without a neighbour in
    # its run is a token of its own, and so is every kanji of a longer run.
    linked = np.zeros(len(where) + 1, dtype=bool)  # linked[i]: characters i-1 and i are
    linked[1:-1] = where[1:] == where[:-1] + 1  # neighbours
    single = (flags & _IS_KANJI).astype(bool) | ~(linked[:-1] | linked[1:])
    pair_at = np.flatnonzero(linked[1:-1])

    # Dense term ids: the batch's kana/kanji alphabet ranked, a pair as rank*A+rank, then
    # the single characters, then the words; renumbered 0..V-1 in that order at the end.
    present = np.zeros(_CJK_SPAN, dtype=bool)
    present[found - _CJK_LOW] = True
    alphabet = np.flatnonzero(present).astype(np.uint32) + _CJK_LOW
    rank = (np.cumsum(present, dtype=np.int64) - 1)[found - _CJK_LOW]
    size = len(alphabet)
    ids, terms = _renumber(
        np.concatenate((
            rank[pair_at] * size + rank[pair_at + 1],
            rank[single] + size * size,
            np.concatenate((word_numbers, kata_numbers)) + size * (size + 1),
        )),
        size * (size + 1) + len(words),
    )
    return TokenBatch(
        texts=np.concatenate((owners[pair_at], owners[single], word_texts, kata_texts)),
        terms=terms,
        vocabulary=_vocabulary(ids, alphabet, list(words)),
    )


def _latin_words(
    codes: np.ndarray, classes: np.ndarray, separators: np.ndarray, words: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Text and word number of each non-stopword Latin word; each distinct one stemmed once."""
    found = np.take(_LATIN_BYTES, codes, mode="clip").tobytes().split()
    numbers = np.fromiter(map(_WordNumbers(words).__getitem__, found), np.int64, len(found))
    latin = (classes & _IS_LATIN).astype(bool)
    starts = np.flatnonzero(latin & ~np.concatenate(([False], latin[:-1])))
    keep = numbers >= 0
    return np.searchsorted(separators, starts[keep]).astype(np.int32), numbers[keep]


def _vocabulary(ids: np.ndarray, alphabet: np.ndarray, words: list[str]) -> list[str]:
    """The string of each dense id (see `tokenize_many`), built a whole kind at a time."""
    size = len(alphabet)
    pairs, rest = np.split(ids, np.searchsorted(ids, [size * size]))
    singles, numbers = np.split(rest - size * size, np.searchsorted(rest, [size * (size + 1)]))
    first, second = np.divmod(pairs, max(size, 1))
    pair_text = _to_text(np.stack((alphabet[first], alphabet[second]), 1).ravel())
    return [
        *_TWO_CHARACTERS.findall(pair_text),
        *_to_text(alphabet[singles]),
        *map(words.__getitem__, (numbers - size).tolist()),
    ]


_TWO_CHARACTERS = re.compile(".{2}", re.DOTALL)
_DENSE_TABLE_LIMIT = 1 << 25  # ids; a kana/kanji alphabet of up to about 5,800 characters


def _renumber(ids: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ids in order, and each id's rank among them (int32).

    Through tables over the whole id space (a byte per possible id, and an int32 table
    that is only touched where ids occur) while that space is moderate; otherwise through
    `numpy.unique`, whose sort of every token is several times slower.
    """
    if space > _DENSE_TABLE_LIMIT:
        distinct, ranks = np.unique(ids, return_inverse=True)
        return distinct, ranks.astype(np.int32)
    used = np.zeros(space, dtype=bool)
    used[ids] = True
    distinct = np.flatnonzero(used)
    table = np.empty(space, dtype=np.int32)
    table[distinct] = np.arange(len(distinct), dtype=np.int32)
    return distinct, table[ids]


def _katakana_words(
    codes: np.ndarray, where: np.ndarray, owners: np.ndarray, words: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Runs of three or more katakana (at positions `where`, in texts `owners`), folded to
    hiragana, as words."""
    breaks = np.flatnonzero(where[1:] != where[:-1] + 1) + 1
    firsts = np.concatenate(([0], breaks))
    lasts = np.concatenate((breaks, [len(where)])) - 1
    long_enough = lasts - firsts >= 2
    starts, ends = where[firsts[long_enough]], where[lasts[long_enough]] + 1
    if not len(starts):
        return owners[:0], np.zeros(0, dtype=np.int64)
    text = _to_text(codes)
    table: dict[str, int] = {}
    terms = [
        table[word] if word in table
        else table.setdefault(word, _number(word.translate(_KATAKANA_TO_HIRAGANA), words))
        for word in map(text.__getitem__, map(slice, starts.tolist(), ends.tolist()))
    ]
    return owners[firsts[long_enough]], np.array(terms, dtype=np.int64)
