"""English typos corrected against the knowledge base's own words.

"how often do they cheack the acess logs" has two words no entry contains, so lexical matching
loses exactly the words that matter. A word the base does not know is replaced by the base's
word within one edit (two for words of eight letters or more; swapping two neighbouring
letters is one edit), when exactly one such word is nearest. Only English: Japanese typos are
wrong kanji (移動 for 異動), which edit distance cannot tell from another real word; kanji
unigrams and the semantic signal cover those.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz.distance import OSA
from rapidfuzz.process import extract

from bot.search.text import ENGLISH_STOPWORDS

_WORD = re.compile(r"[a-z]+")
_MIN_LENGTH = 4  # shorter words have too many neighbours one edit away


class Speller:
    def __init__(self, texts: Iterable[str]) -> None:
        # One search over all texts joined: a regex call per text costs more than the search.
        words: set[str] = set(_WORD.findall("\n".join(texts).lower()))
        self.words = words - ENGLISH_STOPWORDS
        self._choices = sorted(w for w in self.words if len(w) >= _MIN_LENGTH - 1)

    def correct(self, text: str) -> str:
        """The text with each unknown English word replaced by its single nearest known one."""
        return _WORD.sub(self._fix, text) if self._choices else text

    def _fix(self, match: re.Match[str]) -> str:
        word = match.group()
        if len(word) < _MIN_LENGTH or word in self.words or word in ENGLISH_STOPWORDS:
            return word
        limit = 1 if len(word) < 8 else 2
        near = extract(word, self._choices, scorer=OSA.distance, score_cutoff=limit,
                       limit=2)
        if not near:
            return word
        if len(near) > 1 and near[1][1] == near[0][1]:
            return word  # two equally near words: no way to tell which was meant
        return near[0][0]
