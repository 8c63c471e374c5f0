"""matcher.retrieval: fusion of BM25 and dense evidence (weighted CombSUM and RRF)."""
from __future__ import annotations

import numpy as np
import pytest

from indexer.store import Home
from matcher.knobs import K
from matcher.retrieval import RecordScores, fuse, rrf


def _scores(lexical, dense):
    n = len(lexical)
    return RecordScores(np.array(lexical, np.float32), np.array(dense, np.float32), np.full(n, -1),
                        np.zeros(0, np.float32), np.zeros(0, np.float32))


def test_rrf_ranks_within_each_kind():
    kinds = np.array(["expert", "expert", "literature", "literature"])
    out = rrf(np.array([0.2, 0.9, 0.5, 0.1], np.float32), kinds)
    assert out[1] == 1 / (K.rrf_k + 1) and out[0] == 1 / (K.rrf_k + 2)
    assert out[2] == 1 / (K.rrf_k + 1) and out[3] == 1 / (K.rrf_k + 2)


def test_rrf_mask_gives_no_credit_to_records_without_evidence():
    kinds = np.array(["expert"] * 3)
    out = rrf(np.array([0.0, 0.5, 0.0], np.float32), kinds, mask=np.array([False, True, False]))
    assert out[0] == 0 and out[2] == 0 and out[1] > 0


def test_baselines_use_one_signal_only():
    rs = _scores([1.0, 0.0, 0.5], [0.1, 0.9, 0.5])
    kinds = np.array(["expert"] * 3)
    assert np.argmax(fuse(rs, kinds, "bm25")) == 0
    assert np.argmax(fuse(rs, kinds, "dense")) == 1


def test_weighted_fusion_needs_both_signals_to_win():
    rng = np.random.default_rng(0)
    lexical = [1.0, 0.0, 0.8] + [0.0] * 20
    dense = [0.80, 0.90, 0.89] + list(0.80 + 0.01 * rng.standard_normal(20))
    out = fuse(_scores(lexical, dense), np.array(["expert"] * 23), "weighted", 0.5)
    assert np.argmax(out) == 2          # strong on both beats strong on one
    assert out.shape == (23,)


def test_adaptive_dense_weight_rises_only_below_the_ramp():
    from matcher.retrieval import adaptive_dense_weight

    assert adaptive_dense_weight(0.5, 0.9, 0.5) == 0.5
    assert adaptive_dense_weight(0.5, 0.0, 0.5) == 1.0
    assert 0.5 < adaptive_dense_weight(0.5, 0.25, 0.5) < 1.0
    assert adaptive_dense_weight(0.5, 0.0, 0.0) == 0.5     # ramp 0: off


def test_vocabulary_coverage_is_low_for_words_the_corpus_does_not_know():
    from types import SimpleNamespace

    from matcher.retrieval import vocabulary_coverage

    index = SimpleNamespace(passage_text=["x"] * 100, bm25=SimpleNamespace(vocab_dict={"toets": 0, "feedback": 1}),
                            df_ratio=lambda t: {"toets": 0.1, "feedback": 0.05}.get(t, 0.0))
    assert vocabulary_coverage(index, ["toets", "feedback"]) == 1.0
    assert vocabulary_coverage(index, ["nursing", "simulation"]) == 0.0
    assert 0.0 < vocabulary_coverage(index, ["toets", "nursing"]) < 0.5
    assert vocabulary_coverage(index, []) == 0.0


def _layout_index(owner: np.ndarray, n_records: int):
    """A stand-in LoadedIndex with only what max_per_record reads."""
    from types import SimpleNamespace

    from matcher.loaded import LoadedIndex

    index = SimpleNamespace(record_list=[None] * n_records, passage_record=owner)
    index._has_passages = LoadedIndex._has_passages.func(index)
    index._record_groups = LoadedIndex._record_groups.func(index)
    index.max_per_record = lambda values: LoadedIndex.max_per_record(index, values)
    return index


def _score_arrays(rng, n: int) -> list[np.ndarray]:
    return [rng.random(n).astype(np.float32),                                          # dense everywhere
            np.where(rng.random(n) < 0.05, rng.random(n), 0.0).astype(np.float32),     # mostly zero
            np.where(rng.random(n) < 0.1, rng.random(n), -0.3).astype(np.float32),     # a floor
            np.round(rng.random(n) * 3).astype(np.float32),                            # many ties
            np.zeros(n, np.float32),
            np.where(rng.random(n) < 0.1, np.nan, 0.0).astype(np.float32)]


def _layouts(rng):
    """Consecutive passages per record (as builds write them: the reduceat path) and shuffled (the
    scatter path); some records get no passage."""
    owner = np.sort(rng.integers(0, 300, 2000)).astype(np.int32)
    return [owner, rng.permutation(owner)]


def test_max_per_record_equals_a_scatter_maximum_for_floors_ties_and_empty_records():
    from matcher.loaded import LoadedIndex

    rng = np.random.default_rng(4)
    for owner in _layouts(rng):
        index = _layout_index(owner, 300)
        assert (index._record_groups is not None) == bool(np.all(np.diff(owner) >= 0))
        for values in _score_arrays(rng, 2000):
            want = np.full(300, -np.inf, np.float32)
            with np.errstate(invalid="ignore"):   # the NaN case
                np.maximum.at(want, owner, values)
                got = LoadedIndex.max_per_record(index, values)
            assert got.tobytes() == want.tobytes()


def test_dense_passages_give_the_found_cosines_and_one_floor_below_them():
    """Reference: the found cosines at their rows, NaN elsewhere filled with the lowest found minus the knob
    ``dense_missing_gap``; FAISS' -1 rows (fewer results than k) are skipped."""
    from types import SimpleNamespace

    from matcher.knobs import K
    from matcher.retrieval import dense_passages

    rng = np.random.default_rng(8)
    n = 50
    for found in (10, 0):
        sims = np.sort(rng.random(K.dense_k).astype(np.float32))[::-1].copy()
        rows = np.full(K.dense_k, -1, np.int64)
        rows[:found] = rng.choice(n, found, replace=False)
        sims[found:] = -3.4e38
        index = SimpleNamespace(passage_text=[""] * n, passage_matrix=None, quantized=None, rerank_vectors=None,
                                vectors=SimpleNamespace(
            search=lambda x, k, s=sims, r=rows: (s[None, :k], r[None, :k])))
        want = np.full(n, np.nan, np.float32)
        want[rows[:found]] = sims[:found]
        floor = float(np.nanmin(want)) if found else 0.0
        want[np.isnan(want)] = floor - K.dense_missing_gap
        got = dense_passages(index, np.ones(4, np.float32))
        assert got.dtype == np.float32 and got.tobytes() == want.tobytes()


def test_bm25_from_the_first_pass_equals_bm25_from_scratch(demo_engine):
    from matcher.retrieval import bm25_passages, expansion_tokens

    index = demo_engine.index()
    tokens = index.analyzer.tokens("feedback geven op stage met een rubric")
    weighted = expansion_tokens(index, tokens, [(c, 0.7) for c in index.concepts[:3]], 0.4)
    assert len(weighted) > 1
    first = bm25_passages(index, weighted[:1])
    assert bm25_passages(index, weighted, first).tobytes() == bm25_passages(index, weighted).tobytes()
    assert first.tobytes() == bm25_passages(index, weighted[:1]).tobytes()   # not changed in place


def test_record_concept_vectors_are_the_idf_weighted_unit_vectors_row_by_row(demo_engine):
    """Gathered from the per-index rows (made on first use; in any order, with repeats) they equal the vector made
    for one record at a time, to the bit."""
    index = demo_engine.index()
    idf = index.concept_idf()
    rows = np.r_[np.arange(len(index.record_list))[::-1], [0, 0, 3]]
    got = index.record_concept_vectors(rows)
    assert got.shape == (len(rows), len(index.concepts)) and got.dtype == np.float32
    for row, vec in zip(rows, got):
        want = np.zeros(len(index.concepts), np.float32)
        found = list(index.record_concepts(index.record_list[int(row)].id))
        if found:
            want[found] = idf[found]
            want /= np.linalg.norm(want)
        assert vec.tobytes() == want.tobytes()
        assert index.record_concept_vector(int(row)).tobytes() == want.tobytes()
    assert any(v.any() for v in got)
    assert index.record_concept_vectors(np.zeros(0, np.int64)).shape == (0, len(index.concepts))


def test_best_passages_are_made_per_record_when_asked_for_and_are_the_combined_evidence_maxima(demo_engine):
    from matcher.knobs import K
    from matcher.retrieval import score_records

    index = demo_engine.index()
    qv = demo_engine.embed_query("feedback op stageverslagen")
    rs = score_records(index, qv, [(index.analyzer.tokens("feedback op stageverslagen"), 1.0)])
    assert callable(rs._best_passage)               # made per record shown: a first pass never pays for it
    p_comb = rs.passage_lex / rs.passage_lex.max() + K.passage_dense_weight * rs.passage_dense
    want = np.full(len(index.record_list), -1, np.int64)
    for rec in index.record_list:
        if rec.passages:
            vals = p_comb[rec.passages]
            want[rec.row] = rec.passages[int(np.flatnonzero(vals == vals.max())[-1])]
    assert [rs.best_passage_of(r) for r in range(len(index.record_list))] == want.tolist()


def test_passage_concepts_are_the_builds_own_and_equal_matching_the_words_now(demo_engine):
    """The build stores each passage's concepts (``build.passage_concepts``); they equal what matching the
    passage's words at query time gives, in the same order."""
    index = demo_engine.index()
    assert index._stored_passage_concepts is not None
    named = 0
    for row, text in enumerate(index.passage_text):
        want = {i: sc for i, (sc, _) in index.concept_matcher.lexical(text).items()}
        got = index.passage_concepts(row)
        assert got == want and list(got) == list(want), row
        named += bool(got)
    assert named > len(index.passage_text) // 2


def test_a_build_without_stored_passage_concepts_finds_them_per_passage(demo_home, tmp_path):
    """A build made before passage concepts were stored still loads and gives the same concepts; a file that
    does not hold one row per passage is refused with the file named."""
    import shutil

    from indexer.errors import CorruptIndex
    from indexer.index_format import PASSAGE_CONCEPTS, write_passage_concepts
    from matcher.loaded import LoadedIndex

    build = tmp_path / "build"
    shutil.copytree(LoadedIndex(Home(demo_home).current()).build, build)
    full = LoadedIndex(build, verify=False)
    (build / PASSAGE_CONCEPTS).unlink()
    old = LoadedIndex(build, verify=False)
    assert old._stored_passage_concepts is None
    for row in range(len(old.passage_text)):
        assert old.passage_concepts(row) == full.passage_concepts(row)
    write_passage_concepts(build, np.zeros(3, np.int64), np.zeros(0, np.int32), np.zeros(0))
    try:
        LoadedIndex(build, verify=False)
    except CorruptIndex as exc:
        assert PASSAGE_CONCEPTS in str(exc) and "rebuild" in str(exc)
    else:
        raise AssertionError("passage concepts of another build must be refused")


def test_passage_concepts_are_kept_for_the_last_passages_only(demo_engine, monkeypatch):
    """Without stored passage concepts (an older build) they are found per passage and the last ones kept."""
    from matcher import loaded

    index = demo_engine.index()
    monkeypatch.setattr(index, "_stored_passage_concepts", None)
    monkeypatch.setattr(loaded, "PASSAGE_CONCEPT_CACHE", 3)
    index._passage_concepts.clear()   # the index is shared by the session's tests: start from what this test asks
    rows = list(range(min(8, len(index.passage_text))))
    for row in rows + rows:
        want = {i: sc for i, (sc, _) in index.concept_matcher.lexical(index.passage_text[row]).items()}
        assert index.passage_concepts(row) == want
        assert len(index._passage_concepts) <= 3
    assert list(index._passage_concepts) == rows[-3:]


def _count_scans(monkeypatch, index) -> list[int]:
    """Count the passes over the passage vectors: exact scans (``ann.inner_products``) and FAISS searches."""
    from indexer import ann

    calls: list[int] = []
    real_scan, real_search = ann.inner_products, index.vectors.search
    monkeypatch.setattr(ann, "inner_products", lambda *a: calls.append(1) or real_scan(*a))
    monkeypatch.setattr(index.vectors, "search", lambda *a, **k: calls.append(1) or real_search(*a, **k))
    return calls


def test_a_question_without_expansion_searches_the_vectors_once(demo_engine, monkeypatch):
    """Without expansion concepts the second pass's vector is the question's own: the first pass's cosines
    are reused, and the scores equal those of a fresh search."""
    from matcher import retrieval
    from matcher.query import BASELINES, Query

    index = demo_engine.index()
    calls = _count_scans(monkeypatch, index)
    q = Query("asdfgh qwerty zxcvbn", {}, 5, None, BASELINES["full"])
    demo_engine.prepare(index, q)
    demo_engine.understand(index, q)
    assert not q.expansion
    before = len(calls)
    demo_engine.retrieve(index, q)
    assert before >= 1 and len(calls) == before                 # no second search
    fresh = retrieval.score_records(index, q.vector, [(q.tokens, 1.0)])
    assert q.scores.dense.tobytes() == fresh.dense.tobytes()
    assert q.scores.passage_dense.tobytes() == fresh.passage_dense.tobytes()


def test_the_expanded_pass_derives_its_cosines_from_the_first_pass_without_another_scan(demo_engine, monkeypatch):
    """On an exact index the concept-expanded vector's cosines come from the first pass's and the concepts'
    rows (linearity of the inner product): no second pass over the vectors, and the same cosines, nearest
    passages and record scores as scoring the moved vector from scratch."""
    from matcher import retrieval
    from matcher.query import BASELINES, Query

    index = demo_engine.index()
    assert index.passage_matrix is not None          # the demo index is exact (IndexFlatIP)
    calls = _count_scans(monkeypatch, index)
    q = Query("Hoe zet ik kennisclips in zodat studenten in hun eigen tempo leren?", {}, 5, None,
              BASELINES["full"])
    demo_engine.prepare(index, q)
    demo_engine.understand(index, q)
    assert q.expansion and q.asked.passage_cosines is not None
    before = len(calls)
    demo_engine.retrieve(index, q)
    assert len(calls) == before
    moved = retrieval.expanded_vector(index, q.vector, q.expansion, q.options.concept_vector_weight)
    direct = index.passage_matrix @ moved
    assert np.allclose(q.scores.passage_cosines, direct, atol=1e-6)
    k = min(len(direct), K.dense_k)
    assert set(np.flatnonzero(q.scores.passage_dense >= q.scores.passage_dense.min() + K.dense_missing_gap / 2)) \
        == set(np.argsort(-direct)[:k]) or k == len(direct)
    fresh = retrieval.score_records(index, moved, retrieval.expansion_tokens(
        index, q.tokens, q.expansion, q.options.expansion_weight))
    assert np.allclose(q.scores.dense, fresh.dense, atol=1e-6)
    assert all(q.scores.best_passage_of(r) == fresh.best_passage_of(r) for r in range(len(index.record_list)))


def test_exact_scans_equal_the_faiss_search_and_hnsw_has_none(monkeypatch):
    """``ann.inner_products`` gives IndexFlatIP's own scores for every vector, in one slice or split over
    threads (also when the pool is busy); an HNSW index has no stored matrix to scan (``stored_vectors``
    None), so retrieval searches its graph."""
    import threading

    from indexer import ann

    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 16)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    flat = ann.build(X, exact_limit=1000)
    q = X[7] + 0.1 * rng.standard_normal(16).astype(np.float32)
    sims, rows = flat.search(q[None].astype(np.float32), 300)
    got = ann.inner_products(flat, q)
    assert got.shape == (300,) and np.array_equal(got[rows[0]], sims[0])
    assert np.array_equal(ann.stored_vectors(flat), X)
    monkeypatch.setattr(ann, "SCAN_SPLIT_MIN", 10)
    monkeypatch.setattr(ann, "SCAN_THREADS", 3)
    monkeypatch.setattr(ann, "_scan_pool", None)
    assert np.array_equal(ann.inner_products(flat, q), got)          # split over three slices
    release = threading.Event()
    blocker = ann._pool().submit(release.wait)                      # the pool is busy with another scan
    try:
        assert np.array_equal(ann.inner_products(flat, q), got)      # the caller scans the slices itself
    finally:
        release.set()
        blocker.result()
    hnsw = ann.build(X, exact_limit=100)
    assert ann.stored_vectors(hnsw) is None and ann.inner_products(hnsw, q) is None
    try:
        ann.inner_products(flat, q[:8])
    except ValueError as exc:
        assert "dimension 16" in str(exc)
    else:
        raise AssertionError("a query of the wrong dimension must be refused")


def test_concept_rows_beyond_the_budget_are_made_per_call(demo_engine, monkeypatch):
    """Concept x passage cosine rows that would not fit ``CONCEPT_COSINE_BUDGET`` are computed per call, with
    the same values as the kept table."""
    from matcher import loaded

    index = demo_engine.index()
    kept = index.concept_passage_cosines([3, 0, 3])
    monkeypatch.setattr(loaded, "CONCEPT_COSINE_BUDGET", 0)
    monkeypatch.delitem(index.__dict__, "_concept_cosine_rows")
    assert index._concept_cosine_rows is None
    assert np.allclose(index.concept_passage_cosines([3, 0, 3]), kept, atol=1e-6)
    assert np.allclose(kept[1], index.passage_matrix @ index.concept_vectors[0], atol=1e-6)


def test_passage_texts_are_read_from_the_build_when_asked(demo_engine):
    """``LoadedIndex.passage_text`` reads texts from records.db by row: the same texts as the stored passages,
    by index, negative index, slice and iteration; a row out of range is an IndexError; only the last
    ``cache`` texts read are kept."""
    from indexer.index_format import IndexReader, PassageTexts

    index = demo_engine.index()
    with IndexReader(index.build, immutable=True) as db:
        stored = [p.text for p in db.passages()]
    texts = PassageTexts(index.build, len(stored), cache=3)
    assert len(texts) == len(index.passage_text) == len(stored)
    assert list(texts) == stored and list(index.passage_text) == stored
    assert [texts[i] for i in range(len(stored))] == stored
    assert texts[-1] == stored[-1] and texts[1:4] == stored[1:4]
    assert len(texts._cache) == 3
    for bad in (len(stored), -len(stored) - 1):
        try:
            texts[bad]
        except IndexError as exc:
            assert "out of range" in str(exc)
        else:
            raise AssertionError(f"row {bad} must be refused")


def test_a_loaded_index_keeps_the_bodies_it_reads_whole_and_reads_the_others_when_asked(demo_engine):
    """Profiles, groups, products and answers keep their body in memory; a report's or a source's is None
    there and ``record_body`` reads it from records.db (the same text the build stored)."""
    from indexer.index_format import IndexReader
    from matcher.loaded import BODY_KINDS

    index = demo_engine.index()
    kinds = {rec.kind for rec in index.record_list}
    assert {"report", "expert"} <= kinds
    with IndexReader(index.build, immutable=True) as db:
        for rec in index.record_list:
            assert (rec.body is not None) == (rec.kind in BODY_KINDS), rec.id
            assert index.record_body(rec.id) == db.record(rec.id).body
    assert any(index.record_body(r.id) for r in index.record_list if r.kind == "report")


def test_a_concept_found_without_the_questions_words_is_marked_by_its_own_words(demo_engine):
    """Highlights: a concept the question names marks the question's words and its label; one found by
    embedding or feedback (no question terms) marks its own label's and synonyms' distinctive words in the
    passages, so the passage shows why the reason says 'gaat over ...'."""
    from indexer.analysis import content_words, stem
    from matcher.concepts import ConceptHit
    from matcher.explain import Marks
    from matcher.query import BASELINES, Query
    from matcher.reasons import highlights

    index = demo_engine.index()
    concept = index.concept_by_id["kennisclips"]
    row = index.concept_matcher.by_id["kennisclips"]
    q = Query("Hoe krijg ik mijn groep zover dat ze thuis de stof doornemen?", {}, 5, None, BASELINES["full"])
    q.tokens = index.analyzer.tokens(q.text)
    inferred = [ConceptHit(row, concept, 1.0, 0.0, 0.5, [])]
    named = [ConceptHit(row, concept, 1.0, 1.0, 0.5, ["kennisclip"])]
    q.hits = inferred
    marks = Marks.of(index, q)
    own = {st for t in concept.terms() for w in content_words(t) if len(w) >= 4 for st in [stem(w)]
           if index.stem_is_distinctive(st)}
    assert own and own <= marks.mark_stems
    q.hits = named                       # named by the question: the words it used and the label's
    assert stem("kennisclips") in Marks.of(index, q).mark_stems
    assert stem("weblecture") not in Marks.of(index, q).mark_stems
    assert stem("weblecture") in own     # (if distinctive in this corpus; else the line above proves nothing)
    passage = next(r for r, t in enumerate(index.passage_text) if "kennisclip" in t.lower())
    q.hits = inferred
    spans = highlights(index, passage, Marks.of(index, q).marker)
    assert any("kennisclip" in index.passage_text[passage][s:e].lower() for s, e in spans)


def test_an_hnsw_build_keeps_8_bit_codes_and_scores_what_it_finds_with_the_float_vectors(tmp_path):
    """Above ``exact_search_limit`` the graph holds 8-bit codes (a quarter of float32's memory) and the build
    writes the float32 vectors beside it; the matcher memory-maps them and gives each passage the graph finds
    its exact cosine, reading the rows it needs from disk (``VectorRows``: no memory map, whose read-around
    made the whole file resident). A file that does not match the index is refused, naming the file."""
    import faiss

    from indexer import build_index, settings
    from indexer.errors import CorruptIndex
    from indexer.index_format import PASSAGE_VECTORS, VectorRows
    from indexer.store import Home
    from matcher import Engine
    from matcher.loaded import LoadedIndex
    from matcher.retrieval import _dense
    from tests.conftest import DEMO, TEST_EMBEDDER

    home = tmp_path / "home"
    build_index([DEMO], home, embedder=TEST_EMBEDDER, progress=False,
                config=settings.resolve({"home": home, "exact_search_limit": 0}))
    engine = Engine(home, embedder=TEST_EMBEDDER)
    index = engine.index()
    assert isinstance(index.vectors, faiss.IndexHNSWSQ) and index.passage_matrix is None
    floats = index.rerank_vectors
    assert isinstance(floats, VectorRows) and floats.shape == (len(index.passage_text), index.dim)
    build = Home(home).current()
    on_disk = np.load(build / PASSAGE_VECTORS)
    assert floats[np.arange(len(on_disk))[::-1]].tobytes() == on_disk[::-1].tobytes()
    qv = engine.embed_query("feedback op stageverslagen")
    p_dense, rows = _dense(index, qv)
    assert len(rows) == min(len(floats), K.dense_k)
    want = on_disk[rows] @ qv
    assert p_dense[rows].tobytes() == want.astype(np.float32).tobytes()
    approximate = index.vectors.search(qv[None, :], len(rows))[0][0]
    assert not np.array_equal(np.sort(approximate), np.sort(want))    # the codes alone score differently
    assert engine.match("feedback op stageverslagen").matches["report"]
    # a float file of another shape, or cut short, is refused, naming it
    np.save(build / PASSAGE_VECTORS, np.zeros((3, index.dim), np.float32))
    with pytest.raises(CorruptIndex, match=PASSAGE_VECTORS):
        LoadedIndex(build, verify=False)
    np.save(build / PASSAGE_VECTORS, on_disk)
    with open(build / PASSAGE_VECTORS, "r+b") as fh:
        fh.truncate((build / PASSAGE_VECTORS).stat().st_size - 10)
    with pytest.raises(CorruptIndex, match=PASSAGE_VECTORS):
        LoadedIndex(build, verify=False)



def test_a_quantized_scan_finds_the_exact_nearest_with_approximate_scores(monkeypatch):
    """``ann.QuantizedScan`` (8-bit codes, in shards scanned like ``inner_products``): its candidates hold the exact
    nearest, with scores near the exact ones; rows of every shard come back as rows of the whole matrix; K beyond
    the matrix gives every row; a query of another dimension is refused."""
    from indexer import ann

    rng = np.random.default_rng(11)
    X = rng.standard_normal((3000, 32)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    monkeypatch.setattr(ann, "SCAN_SPLIT_MIN", 100)
    scan = ann.QuantizedScan(X)
    assert len(scan.shards) == ann.SCAN_THREADS and scan.nbytes == 3000 * 32
    for i in (0, 1499, 1500, 2999):
        q = X[i] + 0.05 * rng.standard_normal(32).astype(np.float32)
        rows, approx = scan.search(q, 100)
        assert len(rows) == len(set(rows.tolist())) == 100 and rows.dtype == np.int64
        exact = X @ q
        assert set(np.argsort(-exact)[:50].tolist()) <= set(rows.tolist())
        assert np.max(np.abs(approx - exact[rows])) < 0.02
        assert i in rows.tolist()
    rows, approx = scan.search(X[0], 5000)
    assert sorted(rows.tolist()) == list(range(3000))
    with pytest.raises(ValueError, match="dimension 32"):
        scan.search(X[0][:8], 10)


def _engine_scanning_codes(home, monkeypatch):
    """An Engine over HOME whose index is searched through 8-bit codes (``ann.QUANTIZED_SCAN_MIN`` lowered)."""
    from indexer import ann
    from matcher import Engine
    from tests.conftest import TEST_EMBEDDER

    monkeypatch.setattr(ann, "QUANTIZED_SCAN_MIN", 1)
    engine = Engine(home, embedder=TEST_EMBEDDER)
    assert engine.index().quantized is not None
    monkeypatch.undo()
    return engine


DEMO_QUESTIONS = ("Hoe zet ik kennisclips in zodat studenten in hun eigen tempo leren?",
                  "Wie weet iets van feedback op stageverslagen?",
                  "Hoe pak ik formatief toetsen aan met digitale middelen?")


def test_an_index_scanned_through_codes_ranks_as_the_exact_scan(demo_home, demo_engine, monkeypatch):
    """With the nearest passages taken from a quantised scan's candidates (scored again with float32 vectors) and
    the concept-expanded pass's from the threshold test of ``expanded_nearest``, every match and score equals
    the exact scan's; also with few nearest passages (knob ``dense_k``), where candidates are a small part of
    the passages and the threshold test has passages to add."""
    from matcher import knobs, retrieval

    coded = _engine_scanning_codes(demo_home, monkeypatch)
    scans = []
    real = retrieval.quantized_candidates
    monkeypatch.setattr(retrieval, "quantized_candidates", lambda *a: scans.append(1) or real(*a))
    for dense_k in (400, 12):
        with knobs.overridden({"dense_k": dense_k}):
            for question in DEMO_QUESTIONS:
                want, got = demo_engine.match(question), coded.match(question)
                for kind, matches in want.matches.items():
                    assert [m.id for m in got.matches[kind]] == [m.id for m in matches], (dense_k, question, kind)
                    assert np.allclose([m.score for m in got.matches[kind]], [m.score for m in matches], atol=1e-4)
    assert scans


def _understood(engine, index):
    """The first demo question, prepared and understood (first pass done) by ENGINE."""
    from matcher.query import BASELINES, Query

    q = Query(DEMO_QUESTIONS[0], {}, 5, None, BASELINES["full"])
    engine.prepare(index, q)
    engine.understand(index, q)
    return q


def test_the_expanded_pass_on_codes_finds_the_exact_nearest_or_scans_again(demo_home, monkeypatch):
    """``expanded_nearest`` gives the moved vector's exact nearest passages and cosines (those of
    ``expanded_cosines`` over every passage) without a scan; when more passages than ``EXPANDED_EXTRA_MAX``
    would have to be scored it gives None, and the engine scans with the moved vector, to the same result."""
    from matcher import knobs, retrieval

    coded = _engine_scanning_codes(demo_home, monkeypatch)
    index = coded.index()
    with knobs.overridden({"dense_k": 12}):
        q = _understood(coded, index)
        assert q.expansion and q.asked.candidates is not None and q.asked.passage_cosines is None
        w = q.options.concept_vector_weight
        rows, cosines = retrieval.expanded_nearest(index, q.asked.candidates, q.vector, q.expansion, w)
        every = retrieval.expanded_cosines(index, index.passage_matrix @ q.vector, q.vector, q.expansion, w)
        assert set(rows.tolist()) == set(np.argsort(-every)[:12].tolist())
        assert np.allclose(cosines, every[rows], atol=1e-5)
        coded.retrieve(index, q)
        kept = q.scores
        monkeypatch.setattr(retrieval, "EXPANDED_EXTRA_MAX", -1)
        assert retrieval.expanded_nearest(index, q.asked.candidates, q.vector, q.expansion, w) is None
        scans = []
        real = retrieval.quantized_candidates
        monkeypatch.setattr(retrieval, "quantized_candidates", lambda *a: scans.append(1) or real(*a))
        coded.retrieve(index, q)
        assert scans and set(q.scores.nearest.tolist()) == set(kept.nearest.tolist())
        assert np.allclose(q.scores.dense, kept.dense, atol=1e-5)


def test_inner_products_at_rows_equal_the_full_scan():
    """``ann.inner_products_at`` gives the full scan's own values for the rows asked, in their order; none for an
    HNSW index; a row out of range or a query of another dimension is refused."""
    from indexer import ann

    rng = np.random.default_rng(5)
    X = rng.standard_normal((500, 24)).astype(np.float32)
    flat = ann.build(X, exact_limit=1000)
    q = rng.standard_normal(24).astype(np.float32)
    rows = np.array([499, 0, 17, 17, 250])
    assert ann.inner_products_at(flat, q, rows).tobytes() == ann.inner_products(flat, q)[rows].tobytes()
    assert ann.inner_products_at(flat, q, np.zeros(0, np.int64)).shape == (0,)
    assert ann.inner_products_at(ann.build(X, exact_limit=100), q, rows) is None
    with pytest.raises(ValueError, match="out of range"):
        ann.inner_products_at(flat, q, np.array([500]))
    with pytest.raises(ValueError, match="dimension 24"):
        ann.inner_products_at(flat, q[:5], rows)


def test_the_expanded_pass_scans_again_where_the_concept_rows_are_not_kept(demo_home, monkeypatch):
    """Beyond ``CONCEPT_COSINE_BUDGET`` a concept's cosine row would cost a scan of every float32 vector per question,
    so ``expanded_nearest`` leaves the expanded pass to one scan through the codes, to the same result."""
    from matcher import knobs, loaded, retrieval

    coded = _engine_scanning_codes(demo_home, monkeypatch)
    index = coded.index()
    with knobs.overridden({"dense_k": 12}):
        q = _understood(coded, index)
        w = q.options.concept_vector_weight
        kept = retrieval.expanded_nearest(index, q.asked.candidates, q.vector, q.expansion, w)
        assert kept is not None and index.keeps_concept_cosines
        coded.retrieve(index, q)
        want = q.scores
        monkeypatch.setattr(loaded, "CONCEPT_COSINE_BUDGET", 0)
        monkeypatch.delitem(index.__dict__, "_concept_cosine_rows")
        assert not index.keeps_concept_cosines
        assert retrieval.expanded_nearest(index, q.asked.candidates, q.vector, q.expansion, w) is None
        coded.retrieve(index, q)
        assert set(q.scores.nearest.tolist()) == set(want.nearest.tolist())
        assert np.allclose(q.scores.dense, want.dense, atol=1e-5)
