"""The Q&A engine: lexical recall over both languages, one calibrated confidence, honest abstention.

One index holds each entry's texts in both languages. Japanese runs become character bigrams
and English runs stemmed words, so the two never collide, and a question that mixes scripts
("昨日 wrong screen 開いたら customer list 出た") finds every word it has wherever it is written.

Each candidate gets a few features, and one logistic model, fitted on the dev half of the
chat evaluation set (tests/eval/calibrate.py), turns them into the confidence that both orders
the candidates and decides whether to answer. The strongest lexical feature is absolute, not
relative to the other candidates: the share of the question's information (idf mass) that the
entry's phrasings and keywords contain. A question about the guest wifi password shares
"password" with the password rules, but "guest" and "wifi" carry most of its weight and are
nowhere in the base, so its confidence stays low and the bot abstains instead of guessing.
Answer text widens recall and is one feature among others; it cannot outrank the phrasings.

An optional semantic feature (bot/search/semantic.py) adds how close the question's meaning is
to the entry's phrasings; the model has weights with and without it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from bot.kb.loader import KnowledgeBase, OutOfScope
from bot.kb.schema import LANGUAGES, Entry
from bot.search.bm25 import BM25Index, count_postings
from bot.search.semantic import Embedder, EntryVectors
from bot.search.spelling import Speller
from bot.search.synonyms import Synonyms
from bot.search.text import detect_lang, normalize, tokenize, tokenize_many

# The features of a (question, entry) pair, in the order of the model's weights.
FEATURES = (
    "coverage",  # idf share of the question found in the entry's phrasings and keywords
    "answer_coverage",  # the same over the whole entry (answer and topic descriptions too)
    "known_share",  # idf share of the question the base uses anywhere (same for every entry)
    "closeness",  # string similarity to the nearest phrasing (rapidfuzz), 0..1
    "relative_bm25",  # BM25 over phrasings, divided by the best candidate's
    "unseen_names",  # Latin/katakana words the base never uses (names of other subjects)
    "long_question",  # log2 of the question's token count: long questions cover less
    "semantic",  # cosine to the nearest phrasing (0 without a model)
    "semantic_top2",  # mean cosine to the two nearest phrasings (0 without a model)
    "semantic_gap",  # semantic minus the best candidate's: is this the closest in meaning?
)


@dataclass(frozen=True)
class Model:
    """Logistic weights over FEATURES: confidence = sigmoid(bias + weights . features), and
    the thresholds calibrated with them: answer at `answer_at`, suggest at `suggest_at`."""

    bias: float
    weights: tuple[float, ...]
    answer_at: float = 0.5
    suggest_at: float = 0.15

    def confidence(self, features: np.ndarray) -> np.ndarray:
        logit = self.bias + features @ np.asarray(self.weights)
        confidence: np.ndarray = 1.0 / (1.0 + np.exp(-logit))
        return confidence


# Fitted on tests/eval/chat/dev.yaml by tests/eval/calibrate.py; refit after a large change to
# the knowledge base or the features. LEXICAL is used when no embedding model is installed.
LEXICAL = Model(
    -9.7664, (0.0, 2.8617, 3.285, 1.4657, 3.757, 0.1258, 0.3295, 0.0, 0.0, 0.0),
    answer_at=0.32, suggest_at=0.18,
)
SEMANTIC = Model(
    -42.0808, (0.0, 2.5033, 1.8777, 0.0, 2.6854, 0.169, 0.0199, 0.0, 40.994, 4.7824),
    answer_at=0.32, suggest_at=0.156,
)


@dataclass(frozen=True)
class Tuning:
    candidates: int = 20
    min_score: float | None = None  # answer at or above this confidence (None: the model's)
    suggest_floor: float | None = None  # below min_score, offer candidates at or above this
    suggest_margin: float = 0.25  # beside an answer, runners-up within this of it
    max_suggestions: int = 3
    lexical: Model = LEXICAL
    semantic: Model = SEMANTIC


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
    # Every candidate scored, best first (for `kb eval` and the suggestions).
    ranked: list[Match] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.best.score if self.best else 0.0


@dataclass(frozen=True)
class _Document:
    """What the index reads of an entry, or of an out-of-scope subject (no answer, no topic)."""

    phrasings: tuple[tuple[str, str], ...]  # (language, question as written)
    keywords: tuple[str, ...]
    answer: str
    topics: tuple[str, ...]

    @classmethod
    def of_entry(cls, entry: Entry) -> _Document:
        return cls(
            tuple((lang, text) for lang in LANGUAGES for text in entry.question.get(lang)),
            tuple(word for lang in LANGUAGES for word in entry.keywords.get(lang)),
            "\n".join(entry.answer.get(lang) for lang in LANGUAGES),
            tuple(entry.topics),
        )

    @classmethod
    def of_subject(cls, subject: OutOfScope) -> _Document:
        phrasings = tuple((lang, text) for lang in LANGUAGES for text in subject.question[lang])
        return cls(phrasings, (), "\n".join(subject.about.values()), ())


class _Index:
    """Recall over the whole entry, coverage over its phrasings and keywords; both languages."""

    def __init__(self, documents: list[_Document], topics: dict[str, dict[str, str]]) -> None:
        self.documents = documents
        size = len(documents)
        # One batch: text n < size is document n's phrasings and keywords in both languages (a
        # line break ends every token run, so joining them changes no token), size + n its
        # answers, 2 * size + t the descriptions of topic t.
        names = list(topics)
        batch = tokenize_many([
            *("\n".join((*(text for _, text in doc.phrasings), *doc.keywords))
              for doc in documents),
            *(doc.answer for doc in documents),
            *("\n".join(text.values()) for text in topics.values()),
        ])
        in_entry = batch.texts < 2 * size
        topic_docs, topic_terms = _topic_postings(
            documents, names, batch.texts[~in_entry] - 2 * size, batch.terms[~in_entry])
        texts = batch.texts[in_entry]
        whole, asked = count_postings(
            np.concatenate((texts % max(size, 1), topic_docs)),
            np.concatenate((batch.terms[in_entry], topic_terms)),
            size,
            inner=np.concatenate((texts < size, np.zeros(len(topic_docs), dtype=bool))),
        )
        self.recall = BM25Index(whole, size, batch.vocabulary)
        self.phrased = BM25Index(asked, size, batch.vocabulary)
        self._choices: dict[int, dict[str, list[str]]] = {}

    def choices(self, number: int) -> dict[str, list[str]]:
        """A document's normalised phrasings per language, made on first use: only
        candidates ever need them."""
        cached = self._choices.get(number)
        if cached is None:
            cached = {lang: [] for lang in LANGUAGES}
            for lang, text in self.documents[number].phrasings:
                cached[lang].append(normalize(text))
            self._choices[number] = cached
        return cached


def _topic_postings(
    entries: list[_Document], names: list[str], texts: np.ndarray, terms: np.ndarray
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


_SENTENCE_END = re.compile(r"(?<=[。？！?!\n])|(?<=\.)\s")


def _asking_sentence(text: str) -> str | None:
    """The last sentence of a question of several, or None for a one-sentence question."""
    sentences = [part.strip() for part in _SENTENCE_END.split(text) if len(part.strip()) > 3]
    return sentences[-1] if len(sentences) > 1 else None


def _is_name(term: str) -> bool:
    """A whole word rather than a character pair: a Latin word or a katakana loanword."""
    return term.isascii() or len(term) > 2


class SearchEngine:
    def __init__(
        self,
        entries: list[Entry],
        tuning: Tuning | None = None,
        topics: dict[str, dict[str, str]] | None = None,
        synonyms: Synonyms | None = None,
        embedder: Embedder | None = None,
        out_of_scope: Sequence[OutOfScope] = (),
    ) -> None:
        """`topics`: topic id -> {"ja": description, "en": description}, from topics.yaml.

        `embedder`: the sentence-embedding model, or None for the lexical model alone.
        `out_of_scope`: subjects to decline. They are indexed as documents after the entries
        (numbers from len(entries) on), so a question about expense claims finds its closest
        match there and the engine declines, instead of answering from the one conduct-rule
        entry that shares a word with it (the "negative examples" of intent classifiers).
        """
        self.entries = list(entries)
        self.tuning = tuning or Tuning()
        self.synonyms = synonyms or Synonyms()
        documents = [*map(_Document.of_entry, self.entries),
                     *map(_Document.of_subject, out_of_scope)]
        self._index = _Index(documents, topics or {})
        self._speller = Speller(text for doc in documents for text in (
            *(text for lang, text in doc.phrasings if lang == "en"), *doc.keywords, doc.answer))
        self._vectors = EntryVectors(embedder, [[text for _, text in doc.phrasings]
                                                for doc in documents]) if embedder else None
        self.model = self.tuning.semantic if self._vectors else self.tuning.lexical

    @classmethod
    def for_base(
        cls, base: KnowledgeBase, tuning: Tuning | None = None, embedder: Embedder | None = None
    ) -> SearchEngine:
        """The engine over everything a loaded knowledge base holds, as the bot runs it."""
        topics = {t.id: {"ja": t.ja, "en": t.en} for t in base.topics.values()}
        return cls(base.entries, tuning, topics, base.synonyms, embedder, base.out_of_scope)

    @property
    def semantic(self) -> bool:
        return self._vectors is not None

    def search(self, question: str, lang: str | None = None) -> SearchResult:
        lang = lang or detect_lang(question)
        features, numbers = self.features(question)
        if not len(numbers):
            return SearchResult(question, lang, None, False)
        confidence = self.model.confidence(features)
        order = np.argsort(-confidence, kind="stable").tolist()
        size = len(self.entries)
        ranked = [Match(self.entries[numbers[i]], round(float(confidence[i]), 4))
                  for i in order if numbers[i] < size]
        declined = numbers[order[0]] >= size
        if not ranked:
            return SearchResult(question, lang, None, False)
        return self._decide(question, lang, ranked, declined)

    def _decide(
        self, question: str, lang: str, ranked: list[Match], declined: bool
    ) -> SearchResult:
        """Answer from the best entry if it is confident enough and no out-of-scope subject
        came closer; otherwise offer the candidates above the suggestion floor."""
        tuning = self.tuning
        answer_at = self.model.answer_at if tuning.min_score is None else tuning.min_score
        suggest_at = self.model.suggest_at if tuning.suggest_floor is None \
            else tuning.suggest_floor
        best = ranked[0]
        answered = best.score >= answer_at and not declined
        if answered:
            floor = max(suggest_at, best.score - tuning.suggest_margin)
            suggestions = [m for m in ranked[1:] if m.score >= floor]
        else:
            suggestions = [m for m in ranked if m.score >= suggest_at]
        return SearchResult(question, lang, best, answered,
                            suggestions[: tuning.max_suggestions], ranked)

    def features(self, question: str) -> tuple[np.ndarray, list[int]]:
        """The feature rows (FEATURES order) of the question's candidates, and their entries."""
        text = self.synonyms.rewrite(self._speller.correct(question))
        terms = list(dict.fromkeys(tokenize(text)))
        index = self._index
        if not terms or not index.documents:
            return np.zeros((0, len(FEATURES))), []
        recall, answer_covered = index.recall.score(terms)
        phrased, covered = index.phrased.score(terms)
        total = sum(index.phrased.term_weight(term, _is_name(term)) for term in terms)
        # How much of the question speaks the knowledge base's language at all: an off-topic
        # question brings words (cafeteria, parking, wifi) that no entry uses anywhere.
        weights = [index.recall.term_weight(term, _is_name(term)) for term in terms]
        known = sum(w for w, t in zip(weights, terms, strict=True) if t in index.recall)
        known_share = known / sum(weights)
        # Loanwords and Latin-script words name the thing asked about (ゲストWi-Fi, projector):
        # one the base never uses means another subject.
        unseen = sum(1 for term in terms if _is_name(term) and term not in index.recall)
        count = min(self.tuning.candidates, len(index.documents))
        top = np.argpartition(-recall, count - 1)[:count]
        top = top[recall[top] > 0]
        semantic = None
        if self._vectors is not None:
            semantic, semantic_top2 = self._vectors.similarity(question)
            near = np.argpartition(-semantic, count - 1)[:count]
            top = np.union1d(top, near)
        if len(top) == 0:
            return np.zeros((0, len(FEATURES))), []
        numbers = top.tolist()
        best_phrased = float(phrased[top].max()) or 1.0
        normalised = normalize(text)
        rows = np.zeros((len(numbers), len(FEATURES)))
        rows[:, 0] = covered[top] / total
        rows[:, 1] = answer_covered[top] / total
        # A long question tells its situation first and asks last: the asking sentence's
        # coverage counts too, so the situation's words do not dilute it.
        focus = _asking_sentence(text)
        if focus is not None:
            focus_terms = list(dict.fromkeys(tokenize(focus)))
            focus_total = sum(index.phrased.term_weight(t, _is_name(t)) for t in focus_terms)
            if focus_terms and focus_total:
                _, focus_covered = index.phrased.score(focus_terms)
                _, focus_answer = index.recall.score(focus_terms)
                rows[:, 0] = np.maximum(rows[:, 0], focus_covered[top] / focus_total)
                rows[:, 1] = np.maximum(rows[:, 1], focus_answer[top] / focus_total)
        rows[:, 2] = known_share
        rows[:, 3] = [self._closeness(number, normalised) for number in numbers]
        rows[:, 4] = phrased[top] / best_phrased
        rows[:, 5] = unseen
        rows[:, 6] = math.log2(len(terms))
        if semantic is not None:
            rows[:, 7] = semantic[top]
            rows[:, 8] = semantic_top2[top]
            rows[:, 9] = semantic[top] - semantic[top].max()
        return rows, numbers

    def _closeness(self, number: int, text: str) -> float:
        """Similarity of spelling to the nearest phrasing in either language: character-level
        for Japanese, word sets for English (word order varies freely in chat)."""
        best = 0.0
        for lang, phrasings in self._index.choices(number).items():
            scorer = fuzz.ratio if lang == "ja" else fuzz.token_set_ratio
            found = process.extractOne(text, phrasings, scorer=scorer, score_cutoff=best)
            if found:
                best = found[1]
        return best / 100.0
