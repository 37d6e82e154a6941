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
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Posting:
    idf: float
    docs: np.ndarray  # int32 document numbers
    impacts: np.ndarray  # float32 BM25 term weight of each document (idf included)


class BM25Index:
    def __init__(self, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        self.size = len(documents)
        lengths = np.array([len(doc) for doc in documents], dtype=np.float32)
        average = float(lengths.mean()) if self.size and lengths.sum() else 1.0
        by_term: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for number, doc in enumerate(documents):
            for term, count in Counter(doc).items():
                by_term[term].append((number, count))
        # A term the index has never seen is rare, but not rarer than one seen once: weighing
        # it as df=0 would let one ordinary word ("day") outweigh the whole question.
        self._unknown_idf = self._idf(1)
        self.postings: dict[str, Posting] = {}
        norms = k1 * (1 - b + b * lengths / average)
        for term, pairs in by_term.items():
            docs = np.fromiter((number for number, _ in pairs), dtype=np.int32, count=len(pairs))
            counts = np.fromiter((count for _, count in pairs), dtype=np.float32, count=len(pairs))
            idf = self._idf(len(pairs))
            impacts = idf * counts * (k1 + 1) / (counts + norms[docs])
            self.postings[term] = Posting(idf, docs, impacts.astype(np.float32))

    def _idf(self, df: int) -> float:
        # The "plus one" variant (Lucene's) never goes negative for very common terms.
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def term_weight(self, term: str, unseen_word: bool = False) -> float:
        """How much a query term says. An unseen whole word (not a character pair) is the
        strongest sign of a subject the index knows nothing about, so it weighs as df=0."""
        posting = self.postings.get(term)
        if posting:
            return posting.idf
        return self._idf(0) if unseen_word else self._unknown_idf

    def score(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 score and the idf mass of the query terms each document contains."""
        unique = list(dict.fromkeys(terms))
        known = [self.postings[term] for term in unique if term in self.postings]
        if not known or self.size == 0:
            zeros = np.zeros(self.size, dtype=np.float64)
            return zeros, zeros
        docs = np.concatenate([posting.docs for posting in known])
        impacts = np.concatenate([posting.impacts for posting in known])
        idfs = np.repeat([posting.idf for posting in known], [len(p.docs) for p in known])
        bm25 = np.bincount(docs, weights=impacts, minlength=self.size)
        covered = np.bincount(docs, weights=idfs, minlength=self.size)
        return bm25, covered
