"""Incremental indexing: unchanged text is never embedded twice, changed text is, deleted files leave.

A counting wrapper around the hash embedder is registered in the embedder
factory's cache under the spec ``counting``, so ``build_index(embedder="counting")``
uses it and the test sees exactly which texts were embedded.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import build_index, embedders
from indexer.embedders import HashEmbedder
from indexer.index_format import read_manifest
from indexer.store import Home
from matcher import Engine
from matcher.loaded import LoadedIndex


class CountingEmbedder(HashEmbedder):
    """The hash embedder, recording every passage text it is asked to embed."""

    def __init__(self, dim: int = 256):
        super().__init__(dim)
        self.name = f"counting:{dim}"
        self.embedded: list[str] = []

    def embed_passages(self, texts):
        self.embedded.extend(texts)
        return super().embed_passages(texts)

    def reset(self) -> list[str]:
        out, self.embedded = self.embedded, []
        return out


@pytest.fixture
def counting(monkeypatch) -> CountingEmbedder:
    emb = CountingEmbedder()
    monkeypatch.setitem(embedders._CACHE, "counting", emb)
    return emb


def build(corpus, home, **kw):
    return build_index([corpus], home, embedder="counting", progress=False, **kw)


def passages_of(build_dir: Path, record_id: str) -> list[str]:
    db = sqlite3.connect(build_dir / "records.db")
    try:
        return [t for (t,) in db.execute("SELECT text FROM passages WHERE record_id = ? ORDER BY ordinal",
                                         [record_id])]
    finally:
        db.close()


def total_texts(build_dir: Path) -> int:
    m = read_manifest(build_dir)
    return m["counts"]["passages"] + m["counts"]["concepts"]


def test_first_build_embeds_every_passage_once(tmp_path, copy_corpus, counting):
    from indexer.corpus import read_corpus

    corpus = copy_corpus()
    report = build(corpus, tmp_path / "h")
    texts = counting.reset()
    assert report.changed
    # each distinct text once: passages and concept texts, counted apart
    assert report.embedded + report.concepts_embedded == len(texts) == len(set(texts))
    assert report.concepts_embedded == total_texts(report.build) - report.passages
    assert set(passages_all(report.build)) <= set(texts)
    assert len(texts) <= total_texts(report.build)
    assert report.files == {"new": len(read_corpus(corpus).files), "changed": 0, "unchanged": 0, "deleted": 0}


def passages_all(build_dir: Path) -> list[str]:
    db = sqlite3.connect(build_dir / "records.db")
    try:
        return [t for (t,) in db.execute("SELECT text FROM passages")]
    finally:
        db.close()


def test_unchanged_corpus_embeds_nothing_and_publishes_nothing(tmp_path, copy_corpus, counting):
    corpus = copy_corpus()
    home = tmp_path / "h"
    first = build(corpus, home)
    counting.reset()
    again = build(corpus, home)
    assert counting.reset() == []
    assert again.embedded == 0
    assert again.changed is False
    assert again.build == first.build == Home(home).current()
    assert again.files["unchanged"] == sum(first.files.values()) and again.files["changed"] == 0
    # touching a file without changing its bytes is not a change either
    (corpus / "experten" / "ecbo.md").touch()
    third = build(corpus, home)
    assert (third.embedded, third.changed) == (0, False)
    assert counting.reset() == []


def test_a_limit_that_changes_the_vector_index_builds_again_from_the_cache(tmp_path, copy_corpus, counting):
    """An unchanged corpus under an ``exact_search_limit`` that asks for the other kind of vector index (exact
    <-> HNSW) is built again, embedding nothing; a limit that keeps the kind is no reason to."""
    from indexer import settings
    from indexer.index_format import PASSAGE_VECTORS

    corpus = copy_corpus()
    home = tmp_path / "h"
    first = build(corpus, home)
    assert read_manifest(first.build)["faiss_index"] == "flat"
    counting.reset()
    hnsw = build(corpus, home, config=settings.resolve({"home": home, "exact_search_limit": 0}))
    assert hnsw.changed is not False and hnsw.build != first.build
    assert read_manifest(hnsw.build)["faiss_index"] == "hnsw" and (hnsw.build / PASSAGE_VECTORS).exists()
    assert counting.reset() == []                       # every vector came from the cache
    same = build(corpus, home, config=settings.resolve({"home": home, "exact_search_limit": 0}))
    assert (same.changed, same.build) == (False, hnsw.build)
    back = build(corpus, home, config=settings.resolve({"home": home, "exact_search_limit": 10**6}))
    assert read_manifest(back.build)["faiss_index"] == "flat"
    assert build(corpus, home, config=settings.resolve({"home": home, "exact_search_limit": 10**7})).changed is False


def test_changed_file_is_re_embedded_alone_and_found(tmp_path, copy_corpus, counting):
    corpus = copy_corpus()
    home = tmp_path / "h"
    first = build(corpus, home)
    old_ecbo = passages_of(first.build, "exp-ecbo")
    counting.reset()

    path = corpus / "experten" / "ecbo.md"
    path.write_text(path.read_text("utf-8") + "\nNieuw: ECBO onderzoekt ook zwerfkatten-didactiek in de bakkerij.\n",
                    "utf-8")
    second = build(corpus, home)
    embedded = counting.reset()
    assert second.changed and second.build != first.build
    assert second.files["changed"] == 1 and second.files["deleted"] == 0
    new_ecbo = passages_of(second.build, "exp-ecbo")
    changed = [t for t in new_ecbo if t not in old_ecbo]
    assert changed, "the edit must change at least one passage"
    assert 0 < second.embedded == len(embedded)
    assert sorted(embedded) == sorted(changed)                   # only the changed passages of that record
    assert second.cached == second.passages - len(changed)

    res = Engine(home, embedder=counting).match("zwerfkatten-didactiek in de bakkerij")
    top = res.matches["expert"][0]
    assert top.id == "exp-ecbo"
    assert "zwerfkatten" in top.passages[0].text


def test_new_file_is_the_only_thing_embedded(tmp_path, copy_corpus, counting):
    corpus = copy_corpus()
    home = tmp_path / "h"
    build(corpus, home)
    counting.reset()
    (corpus / "producten" / "nieuw.md").write_text(
        "---\nid: prod-nieuw\ntitle: Kaartspel over feedback\ntype: instrument\n---\nEen kaartspel.\n", "utf-8")
    report = build(corpus, home)
    embedded = counting.reset()
    assert report.files["new"] == 1
    assert len(embedded) == report.embedded == len(passages_of(report.build, "prod-nieuw")) == 1
    assert "Kaartspel over feedback" in embedded[0]


def test_deleted_file_leaves_the_index(tmp_path, copy_corpus, counting):
    corpus = copy_corpus()
    home = tmp_path / "h"
    first = build(corpus, home)
    before = LoadedIndex(first.build)
    assert "exp-ecbo" in before.records
    answer = "kr-kennisclips-eigen-tempo"
    derived = {r.id for r in before.record_list if r.derived_from == answer}
    assert answer in before.records and derived

    (corpus / "experten" / "ecbo.md").unlink()
    (corpus / "kennisrotonde" / "kennisclips-eigen-tempo.md").unlink()
    counting.reset()
    second = build(corpus, home)
    assert counting.reset() == []                                # deleting embeds nothing
    assert second.changed and second.files["deleted"] == 2
    after = LoadedIndex(second.build)
    assert "exp-ecbo" not in after.records
    assert answer not in after.records
    # literature derived only from the deleted answer goes too; one cited elsewhere would stay
    for rid in derived:
        if rid in after.records:
            assert after.records[rid].derived_from != answer
    assert all(r.source != "experten/ecbo.md" for r in after.record_list)
    assert len(after.passage_text) < len(before.passage_text)
    assert after.vectors.ntotal == len(after.passage_text)
    assert len(after.record_list) == len(before.record_list) - 2 - sum(1 for r in derived if r not in after.records)

    res = Engine(home, embedder=counting).match("Canon van het beroepsonderwijs ECBO")
    assert all(m.id != "exp-ecbo" for ms in res.matches.values() for m in ms)


def test_deleted_folder_of_a_second_corpus(tmp_path, copy_corpus, counting):
    corpus = copy_corpus()
    extra = tmp_path / "extra"
    (extra / "experten").mkdir(parents=True)
    (extra / "experten" / "zelda.md").write_text("---\nid: exp-zelda\nname: Zelda\n---\nZelda.\n", "utf-8")
    home = tmp_path / "h"
    build_index([corpus, extra], home, embedder="counting", progress=False)
    assert "exp-zelda" in LoadedIndex(Home(home).current()).records
    shutil.rmtree(extra / "experten")
    (extra / "leeg.txt").write_text("", "utf-8")
    report = build_index([corpus, extra], home, embedder="counting", progress=False)
    assert report.files["deleted"] == 1
    assert "exp-zelda" not in LoadedIndex(report.build).records


def test_rebuild_re_embeds_everything(tmp_path, copy_corpus, counting):
    corpus = copy_corpus()
    home = tmp_path / "h"
    first = build(corpus, home)
    counting.reset()
    again = build(corpus, home, rebuild=True)
    embedded = counting.reset()
    assert again.changed and again.build != first.build
    assert again.embedded == first.embedded and again.concepts_embedded == first.concepts_embedded
    assert again.embedded + again.concepts_embedded == len(embedded)
    assert again.cached == 0 and again.concepts_cached == 0
    assert set(embedded) >= set(passages_all(again.build))


def test_cli_rebuild_re_embeds_everything(tmp_path, copy_corpus):
    from schakel.cli import main

    corpus = copy_corpus()
    home = tmp_path / "h"
    runner = CliRunner()
    args = ["index", str(corpus), "--home", str(home), "--embedder", "hash:256", "--json"]
    first = json.loads(runner.invoke(main, args).stdout)
    second = json.loads(runner.invoke(main, args).stdout)
    third = json.loads(runner.invoke(main, args + ["--rebuild"]).stdout)
    assert first["embedded"] > 0 and first["changed"] is True
    assert second["embedded"] == 0 and second["changed"] is False
    assert third["embedded"] == first["embedded"] and third["changed"] is True and third["cached"] == 0
    assert third["build"] != first["build"]


def test_repeated_boilerplate_is_collapsed():
    from indexer.build import collapse_duplicates
    from indexer.records import Passage

    boiler = "Dit document is gemaakt door het netwerk en mag vrij worden gedeeld met bronvermelding, zie de website."
    ps = [Passage("a", 0, "Profiel A"), Passage("a", 1, boiler), Passage("b", 0, "Profiel B"),
          Passage("b", 1, boiler.upper().replace(",", " ;")), Passage("b", 2, "Eigen tekst van B over toetsen.")]
    kept = collapse_duplicates(ps)
    assert [(p.record_id, p.ordinal) for p in kept] == [("a", 0), ("a", 1), ("b", 0), ("b", 2)]


def test_warm_rebuild_embeds_no_concept_text(tmp_path, copy_corpus, counting):
    corpus = copy_corpus()
    home = tmp_path / "h"
    first = build(corpus, home)
    assert first.concepts_embedded == first.concepts > 0
    assert first.definitions_embedded == first.concepts   # the detection vectors (definitions as queries)
    counting.reset()
    path = corpus / "experten" / "ecbo.md"
    path.write_text(path.read_text("utf-8") + "\nECBO werkt ook aan leesbevordering in de entree-opleiding.\n", "utf-8")
    warm = build(corpus, home)
    embedded = counting.reset()
    concepts = builtin_concept_texts()
    assert len(concepts) > 100
    assert warm.changed and warm.concepts_embedded == 0 and warm.concepts_cached == warm.concepts
    assert warm.definitions_embedded == 0 and warm.definitions_cached == warm.concepts
    assert not set(embedded) & concepts and 0 < len(embedded) == warm.embedded

    extra = tmp_path / "extra.yaml"                  # one new concept: only its text is embedded
    extra.write_text("version: 1\nconcepts:\n  - id: zzz-proefbegrip\n    label: zzz proefbegrip\n"
                     "    group: didactiek\n    synonyms: [kennisclipsproef]\n", "utf-8")
    more = build(corpus, home, thesaurus=extra)
    embedded = counting.reset()
    assert more.concepts == warm.concepts + 1 and more.concepts_embedded == 1 and more.embedded == 0
    assert embedded == ["zzz proefbegrip.  kennisclipsproef"]


def builtin_concept_texts() -> set[str]:
    from indexer import thesaurus

    return {c.embed_text() for c in thesaurus.load([]).values()}
