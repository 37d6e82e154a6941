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

import numpy as np


class BM25Index:
    """Postings in compressed-sparse-row form: term t's documents are docs[start[t]:start[t+1]].

    Built with whole-array numpy operations (one sort of term*N+doc keys) rather than a Python
    loop per term, so a 10,000-entry base indexes in a fraction of a second.
    """

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        self.size = size = len(documents)
        flat = list(chain.from_iterable(documents))
        self.vocabulary = {term: number for number, term in enumerate(dict.fromkeys(flat))}
        lengths = np.fromiter(map(len, documents), dtype=np.int64, count=size)
        terms = np.fromiter(map(self.vocabulary.__getitem__, flat), dtype=np.int64, count=len(flat))
        keys, counts = np.unique(terms * max(size, 1) + np.repeat(np.arange(size), lengths),
                                 return_counts=True)
        term_of, self.docs = np.divmod(keys, max(size, 1))
        self.docs = self.docs.astype(np.int32)
        df = np.bincount(term_of, minlength=len(self.vocabulary))
        self.start = np.concatenate(([0], np.cumsum(df)))
        self.idf = np.log1p((size - df + 0.5) / (df + 0.5))
        average = float(lengths.mean()) if size and lengths.sum() else 1.0
        norms = k1 * (1 - b + b * lengths / average)
        tf = counts.astype(np.float64)
        self.impacts = (self.idf[term_of] * tf * (k1 + 1) / (tf + norms[self.docs])).astype(
            np.float32)
        # A term the index has never seen is rare, but not rarer than one seen once: weighing
        # it as df=0 would let one ordinary word ("day") outweigh the whole question.
        self._unknown_idf = self._idf(1)

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
