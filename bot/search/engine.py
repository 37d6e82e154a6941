"""The Q&A engine: BM25 recall over the knowledge base, rapidfuzz re-ranking, honest abstention.

The confidence is absolute, not relative to the other candidates: the share of the question's
information (idf mass) that the entry's phrasings and keywords contain, blended with how close
the question is to the nearest phrasing. A question about the guest wifi password shares
"password" with the password rules, but "guest" and "wifi" carry most of its weight and are
nowhere in the base, so its confidence stays low and the bot abstains instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from bot.kb.schema import LANGUAGES, Entry
from bot.search.bm25 import BM25Index, count_postings
from bot.search.text import detect_lang, normalize, tokenize, tokenize_many


@dataclass(frozen=True)
class Tuning:
    candidates: int = 20
    coverage_weight: float = 0.4
    known_weight: float = 0.4
    fuzzy_weight: float = 0.2
    rank_bm25_weight: float = 1.0
    unseen_name_factor: float = 0.7
    min_score: float = 0.39
    suggest_margin: float = 0.12
    max_suggestions: int = 3


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float


@dataclass(frozen=True)
class SearchResult:
    question: str
    lang: str
    best: Match | None  # None: nothing came near
    answered: bool
    suggestions: list[Match] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.best.score if self.best else 0.0


class _LanguageIndex:
    """Everything one language needs: recall over the whole entry, confidence over phrasings."""

    def __init__(self, entries: list[Entry], lang: str, topics: dict[str, str]) -> None:
        self.lang = lang
        self._choices: dict[int, list[str]] = {}
        self.entries = entries
        size = len(entries)
        # Recall reads the whole entry (phrasings, answer, its topics' descriptions);
        # confidence reads only the phrasings and keywords, which say what the entry is about.
        # All texts go through one batch: text n < size is entry n's phrasings and keywords
        # (a line break ends every token run, so joining them changes no token), size + n its
        # answer, 2 * size + t the description of topic t.
        names = list(topics)
        batch = tokenize_many([
            *("\n".join((*entry.question.get(lang), *entry.keywords.get(lang)))
              for entry in entries),
            *(entry.answer.get(lang) for entry in entries),
            *topics.values(),
        ])
        in_entry = batch.texts < 2 * size
        topic_docs, topic_terms = _topic_postings(
            entries, names, batch.texts[~in_entry] - 2 * size, batch.terms[~in_entry])
        texts = batch.texts[in_entry]
        whole, asked = count_postings(
            np.concatenate((texts % max(size, 1), topic_docs)),
            np.concatenate((batch.terms[in_entry], topic_terms)),
            size,
            inner=np.concatenate((texts < size, np.zeros(len(topic_docs), dtype=bool))),
        )
        self.recall = BM25Index(whole, size, batch.vocabulary)
        self.phrased = BM25Index(asked, size, batch.vocabulary)

    def choices(self, number: int) -> list[str]:
        """The entry's phrasings, normalised on first use: only candidates ever need them."""
        cached = self._choices.get(number)
        if cached is None:
            cached = [normalize(text) for text in self.entries[number].question.get(self.lang)]
            self._choices[number] = cached
        return cached


def _topic_postings(
    entries: list[Entry], names: list[str], texts: np.ndarray, terms: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(entry, term) tokens giving each entry a copy of its topics' description tokens.

    `texts`/`terms` are the descriptions' tokens, topic t's being those with texts == t.
    """
    number = {name: n for n, name in enumerate(names)}
    pairs = [(e, number[topic]) for e, entry in enumerate(entries) for topic in entry.topics
             if topic in number]
    if not pairs or not len(terms):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    owners, topics = np.array(pairs, dtype=np.int64).T
    order = np.argsort(texts, kind="stable")
    terms = terms[order]
    counts = np.bincount(texts, minlength=len(names))
    starts = np.cumsum(counts) - counts
    lengths = counts[topics]
    # Positions in `terms` of each pair's tokens, laid end to end.
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(owners, lengths), terms[offsets + np.repeat(starts[topics], lengths)]


class SearchEngine:
    def __init__(
        self,
        entries: list[Entry],
        tuning: Tuning | None = None,
        topics: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """`topics`: topic id -> {"ja": description, "en": description}, from topics.yaml."""
        self.entries = list(entries)
        self.tuning = tuning or Tuning()
        topics = topics or {}
        self._indexes = {
            lang: _LanguageIndex(
                self.entries, lang, {tid: text[lang] for tid, text in topics.items()}
            )
            for lang in LANGUAGES
        }

    def search(self, question: str, lang: str | None = None) -> SearchResult:
        lang = lang or detect_lang(question)
        text = normalize(question)
        terms = tokenize(question)
        index = self._indexes[lang]
        if not terms or not self.entries:
            return SearchResult(question, lang, None, False)
        unique = list(dict.fromkeys(terms))
        recall, _ = index.recall.score(unique)
        _, covered = index.phrased.score(unique)
        total = sum(index.phrased.term_weight(term) for term in unique)
        # How much of the question speaks the knowledge base's language at all: an off-topic
        # question brings words (cafeteria, parking, wifi) that no entry uses anywhere.
        weights = [index.recall.term_weight(term, len(term) > 2 or term.isascii())
                   for term in unique]
        known = sum(w for w, t in zip(weights, unique, strict=True) if t in index.recall)
        known_share = known / sum(weights)
        # In Japanese, loanwords (katakana) and Latin-script words name the thing asked about
        # (ゲストWi-Fi, プロジェクター): one the base never uses means another subject.
        unseen_names = sum(
            1 for term in unique
            if lang == "ja" and (len(term) > 2 or term.isascii()) and term not in index.recall
        )
        damping = self.tuning.unseen_name_factor ** unseen_names
        count = min(self.tuning.candidates, len(self.entries))
        top = np.argpartition(-recall, count - 1)[:count]
        top = top[recall[top] > 0]
        if len(top) == 0:
            return SearchResult(question, lang, None, False)
        best_recall = float(recall[top].max())
        ranked: list[tuple[float, float, int]] = []
        for number in top.tolist():
            closeness = self._closeness(index, number, text)
            confidence = damping * (
                self.tuning.coverage_weight * float(covered[number]) / total
                + self.tuning.known_weight * known_share
                + self.tuning.fuzzy_weight * closeness
            )
            order = confidence + self.tuning.rank_bm25_weight * float(recall[number]) / best_recall
            ranked.append((order, confidence, number))
        ranked.sort(reverse=True)
        matches = [Match(self.entries[number], round(conf, 4)) for _, conf, number in ranked]
        best = matches[0]
        answered = best.score >= self.tuning.min_score
        suggestions = []
        if answered:
            floor = max(self.tuning.min_score, best.score - self.tuning.suggest_margin)
            suggestions = [m for m in matches[1:] if m.score >= floor]
            suggestions = suggestions[: self.tuning.max_suggestions]
        return SearchResult(question, lang, best, answered, suggestions)

    @staticmethod
    def _closeness(index: _LanguageIndex, number: int, text: str) -> float:
        scorer = fuzz.ratio if index.lang == "ja" else fuzz.token_set_ratio
        best = process.extractOne(text, index.choices(number), scorer=scorer)
        return best[1] / 100.0 if best else 0.0
