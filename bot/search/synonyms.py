"""Curator-edited synonyms: the words employees type, rewritten to the words the entries use.

Chat questions say バレたら, 貸し借り or "snoop" where the entries say 発覚, 貸与 and "view". A
rewrite of the question before tokenising lets one line in knowledge/synonyms.yaml fix every
entry at once, where adding the slang to each entry's phrasings would not scale.

Japanese aliases match anywhere in the question as typed (NFKC and lower case: half-width
katakana and full-width letters folded, hiragana and katakana not, because a short hiragana
alias would hide inside unrelated words: ばれ in 呼ばれる). English aliases match whole words after
stemming, so "snoop" also rewrites "snooping" and "snooped".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.search.text import ENGLISH_STOPWORDS, stem

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class SynonymGroup:
    term: str  # the word the knowledge base uses
    aliases: tuple[str, ...]  # what employees type instead


@dataclass(frozen=True)
class Synonyms:
    ja: tuple[SynonymGroup, ...] = ()
    en: tuple[SynonymGroup, ...] = ()
    _ja_pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False,
                                                compare=False)
    _ja_terms: dict[str, str] = field(default_factory=dict, init=False, repr=False,
                                      compare=False)
    _en_aliases: dict[tuple[str, ...], str] = field(default_factory=dict, init=False,
                                                    repr=False, compare=False)

    def __post_init__(self) -> None:
        terms = {fold(alias): group.term for group in self.ja for alias in group.aliases}
        terms.pop("", None)
        # Longest alias first, so バレたら wins over バレ where both are listed.
        alternatives = sorted(terms, key=len, reverse=True)
        pattern = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None
        object.__setattr__(self, "_ja_pattern", pattern)
        object.__setattr__(self, "_ja_terms", terms)
        aliases = {}
        for group in self.en:
            for alias in group.aliases:
                stems = english_stems(alias)
                if stems:
                    aliases[stems] = group.term
        object.__setattr__(self, "_en_aliases", aliases)

    def rewrite(self, text: str) -> str:
        """The question with every alias replaced by its term (unchanged if none matches)."""
        text = fold(text)
        if self._ja_pattern is not None:
            text = self._ja_pattern.sub(lambda m: self._ja_terms[m.group()], text)
        if self._en_aliases:
            text = self._rewrite_english(text)
        return text

    def _rewrite_english(self, text: str) -> str:
        words = [(m.start(), m.end(), stem(m.group())) for m in _WORD.finditer(text)
                 if m.group() not in ENGLISH_STOPWORDS]
        longest = max(map(len, self._en_aliases))
        parts, cursor, index = [], 0, 0
        while index < len(words):
            for size in range(min(longest, len(words) - index), 0, -1):
                key = tuple(word[2] for word in words[index:index + size])
                term = self._en_aliases.get(key)
                if term is not None:
                    parts += [text[cursor:words[index][0]], term]
                    cursor = words[index + size - 1][1]
                    index += size
                    break
            else:
                index += 1
        return "".join([*parts, text[cursor:]])


def english_stems(text: str) -> tuple[str, ...]:
    """The stems of an English phrase's meaningful words, as the tokenizer sees them."""
    return tuple(stem(w) for w in _WORD.findall(text.lower()) if w not in ENGLISH_STOPWORDS)


def fold(text: str) -> str:
    """What Japanese aliases match against: NFKC and lower case, kana left as typed."""
    return unicodedata.normalize("NFKC", text).lower()
