"""An inverted-index BM25 with precomputed per-posting impacts.

Written by hand because the libraries at hand do not fit: `rank_bm25` scores every document
for every query term in Python (tens of milliseconds at 10,000 entries, see
tests/benchmarks/kb_search.py), and the full-text engines (Tantivy, Whoosh, Lucene) bring
their own tokenisation and storage where we need our Japanese n-grams and an in-memory index
rebuilt in well under a second when curators edit a file. BM25's per-document term weight
does not depend on the query, so it is computed once at build time; a query is then a
weighted `numpy.bincount` over the postings of its terms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import chain
from typing import Any, NamedTuple

import numpy as np


class Postings(NamedTuple):
    """(term, document) pairs sorted by term then document, each once, with its count."""

    terms: np.ndarray
    docs: np.ndarray
    counts: np.ndarray


def count_postings(
    docs: np.ndarray, terms: np.ndarray, size: int, inner: np.ndarray | None = None
) -> tuple[Postings, Postings]:
    """Postings of all tokens, and of the `inner` ones only, from a single sort.

    Token k is term number `terms[k]` (dense, from 0) in document `docs[k]`. Each token
    becomes one integer key (term, document, inner flag), so one `numpy.sort` groups
    everything: no Python loop per token, and no second sort for the inner index (the
    engine's phrasings index is the inner part of its recall index). The keys are uint32
    whenever they fit, which sorts nearly twice as fast as int64.
    """
    shift = max(size - 1, 0).bit_length()
    width = (int(terms.max()) + 1 if len(terms) else 1).bit_length() + shift + 1
    if width > 63:
        raise ValueError(f"{width}-bit posting keys: too many terms or documents")
    kind: type[np.integer[Any]] = np.uint32 if width <= 32 else np.int64
    keys = (terms.astype(kind) << kind(shift + 1)) | (docs.astype(kind) << kind(1))
    if inner is not None:
        keys |= inner.astype(kind)
    keys.sort()
    starts = np.flatnonzero(_firsts(keys >> kind(1)))
    counts = np.diff(starts, append=len(keys)).astype(np.int32)
    inner_counts = np.add.reduceat(keys & kind(1), starts).astype(np.int32) if len(starts) \
        else counts
    pairs = keys[starts] >> kind(1)
    terms, docs = pairs >> kind(shift), pairs & kind((1 << shift) - 1)
    flagged = inner_counts > 0
    return (Postings(terms, docs, counts),
            Postings(terms[flagged], docs[flagged], inner_counts[flagged]))


def _firsts(ordered: np.ndarray) -> np.ndarray:
    """True where a value differs from the one before it (and at 0)."""
    first = np.empty(len(ordered), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return first


class BM25Index:
    """Postings in compressed-sparse-row form: term t's documents are docs[start[t]:start[t+1]].

    Built from `Postings` with whole-array numpy operations, so a 10,000-entry base indexes in
    a fraction of a second. `vocabulary[t]` is the string of term number t.
    """

    def __init__(
        self,
        postings: Postings,
        size: int,
        vocabulary: Sequence[str],
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        self.size = size
        first = _firsts(postings.terms)
        starts = np.flatnonzero(first)
        names = map(vocabulary.__getitem__, postings.terms[starts].tolist())
        self.vocabulary = dict(zip(names, range(len(starts)), strict=True))
        self.docs = postings.docs.astype(np.int32)
        self.start = np.append(starts, len(first))
        df = np.diff(self.start)
        self.idf = np.log1p((size - df + 0.5) / (df + 0.5))
        tf = postings.counts.astype(np.float64)
        lengths = np.bincount(self.docs, weights=tf, minlength=size)
        average = float(lengths.mean()) if size and lengths.sum() else 1.0
        norms = k1 * (1 - b + b * lengths / average)
        term_of = np.cumsum(first) - 1
        self.impacts = (self.idf[term_of] * tf * (k1 + 1) / (tf + norms[self.docs])).astype(
            np.float32)
        # A term the index has never seen is rare, but not rarer than one seen once: weighing
        # it as df=0 would let one ordinary word ("day") outweigh the whole question.
        self._unknown_idf = self._idf(1)

    @classmethod
    def from_documents(
        cls, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75
    ) -> BM25Index:
        """An index over documents given as token lists (small bases, tests)."""
        flat = list(chain.from_iterable(documents))
        numbers = {term: number for number, term in enumerate(dict.fromkeys(flat))}
        terms = np.fromiter(map(numbers.__getitem__, flat), dtype=np.int64, count=len(flat))
        lengths = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
        docs = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)
        postings, _ = count_postings(docs, terms, len(documents))
        return cls(postings, len(documents), list(numbers), k1, b)

    def _idf(self, df: int) -> float:
        # The "plus one" variant (Lucene's) never goes negative for very common terms.
        return math.log1p((self.size - df + 0.5) / (df + 0.5))

    def __contains__(self, term: str) -> bool:
        return term in self.vocabulary

    def term_weight(self, term: str, unseen_word: bool = False) -> float:
        """How much a query term says. An unseen whole word (not a character pair) is the
        strongest sign of a subject the index knows nothing about, so it weighs as df=0."""
        number = self.vocabulary.get(term)
        if number is not None:
            return float(self.idf[number])
        return self._idf(0) if unseen_word else self._unknown_idf

    def score(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 score and the idf mass of the (unique) query terms each document contains."""
        numbers = [self.vocabulary[term] for term in terms if term in self.vocabulary]
        if not numbers:
            zeros = np.zeros(self.size, dtype=np.float64)
            return zeros, zeros
        spans = [slice(self.start[n], self.start[n + 1]) for n in numbers]
        docs = np.concatenate([self.docs[span] for span in spans])
        impacts = np.concatenate([self.impacts[span] for span in spans])
        idfs = np.repeat(self.idf[numbers], [span.stop - span.start for span in spans])
        bm25 = np.bincount(docs, weights=impacts, minlength=self.size)
        covered = np.bincount(docs, weights=idfs, minlength=self.size)
        return bm25, covered
