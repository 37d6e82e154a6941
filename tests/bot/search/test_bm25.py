"""The hand-written BM25 index scores as the textbook formula says, however it is built."""

import math

import numpy as np
import pytest

from bot.search.bm25 import BM25Index, count_postings

DOCUMENTS = [
    ["password", "share", "password", "id"],
    ["id", "transfer", "login"],
    ["guest", "room"],
    [],
    ["password", "reset", "desk", "desk", "desk"],
]


def _textbook(documents, query, k1=1.2, b=0.75):
    """Okapi BM25 with Lucene's never-negative idf, term by term in plain Python."""
    size = len(documents)
    average = sum(map(len, documents)) / size
    scores = []
    for document in documents:
        score = 0.0
        for term in query:
            df = sum(term in d for d in documents)
            tf = document.count(term)
            idf = math.log1p((size - df + 0.5) / (df + 0.5))
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(document) / average))
        scores.append(score)
    return scores


@pytest.mark.parametrize("query", [["password"], ["desk", "id"], ["nothing"], ["room", "guest"]])
def test_scores_follow_the_formula(query):
    bm25, covered = BM25Index.from_documents(DOCUMENTS).score(query)
    assert bm25 == pytest.approx(_textbook(DOCUMENTS, query), rel=1e-6)
    index = BM25Index.from_documents(DOCUMENTS)
    idf_mass = [sum(index.term_weight(t) for t in query if t in d) for d in DOCUMENTS]
    assert covered == pytest.approx(idf_mass)


def _tokens(documents):
    names = sorted({t for d in documents for t in d})
    docs = np.array([n for n, d in enumerate(documents) for _ in d], dtype=np.int64)
    terms = np.array([names.index(t) for d in documents for t in d], dtype=np.int64)
    return docs, terms, names


def test_inner_postings_are_an_index_of_the_flagged_tokens_alone():
    # The engine's phrasings index is the flagged part of its recall index, from one sort.
    docs, terms, names = _tokens(DOCUMENTS)
    inner = np.isin(terms, [names.index("password"), names.index("desk"), names.index("id")])
    inner[0] = False  # one "password" of document 0 is outside
    _, part = count_postings(docs, terms, len(DOCUMENTS), inner)
    alone, _ = count_postings(docs[inner], terms[inner], len(DOCUMENTS))
    for got, expected in zip(part, alone, strict=True):
        assert got.tolist() == expected.tolist()
    found = {(names[t], d): c for t, d, c in zip(*(a.tolist() for a in part), strict=True)}
    assert found == {("desk", 4): 3, ("id", 0): 1, ("id", 1): 1, ("password", 0): 1,
                     ("password", 4): 1}


def test_wide_keys_give_the_same_postings_as_narrow_ones():
    docs, terms, _ = _tokens(DOCUMENTS)
    narrow, _ = count_postings(docs, terms, len(DOCUMENTS))
    wide, _ = count_postings(docs, terms * 10**9, len(DOCUMENTS))  # > 32-bit keys
    assert wide.terms.tolist() == [term * 10**9 for term in narrow.terms.tolist()]
    assert wide.docs.tolist() == narrow.docs.tolist()
    assert wide.counts.tolist() == narrow.counts.tolist()
    with pytest.raises(ValueError):
        count_postings(docs, terms + 2**62, len(DOCUMENTS))


def test_unknown_terms_score_nothing_and_weigh_as_rare():
    index = BM25Index.from_documents(DOCUMENTS)
    bm25, covered = index.score(["cafeteria"])
    assert not bm25.any() and not covered.any()
    assert "cafeteria" not in index
    assert index.term_weight("cafeteria") == pytest.approx(index._idf(1))
    assert index.term_weight("cafeteria", unseen_word=True) > index.term_weight("cafeteria")
