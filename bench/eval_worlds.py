#!/usr/bin/env python3
"""Tables from the acceptance tool's answers, and the blind-spot check; used by ``bench/eval_worlds.sh``.

``tables``: reads the ``--json`` files that ``shared/tools/schakel_eval.py`` wrote for the full
system, BM25-only and dense-only (served with ``SCHAKEL_KNOBS``), scores the ``/api/match``
answers with ``matcher.evaluate`` (the acceptance tool's definitions, plus per kind, per half,
per style and off-topic), and prints them with ``shared/tools/baselines.py``'s naive baselines.
Record kinds and thesaurus names are read by the acceptance tool's own functions.

``blindspots``: is each planted topic of ``blind_spots.json`` among the top N blind spots of a
``schakel coverage --json`` report? A topic is found when a listed blind spot cites one of the
topic's records as a source, or names one of its keywords.

Usage:
  eval_worlds.py tables --questions Q.jsonl --corpus DIR --tools DIR --thesaurus FILE
                        --answers full=F.json --answers bm25=B.json --answers dense=D.json [--baselines X.json]
  eval_worlds.py blindspots --coverage COV.json --planted blind_spots.json [--top 5]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from indexer.analysis import fold
from matcher.eval_report import format_file
from matcher.evaluate import Outcome, load_questions, summarise


def outcome(answer: dict, kinds: dict[str, str]) -> Outcome:
    """An ``/api/match`` answer reduced to what ``matcher.evaluate.measures`` scores."""
    matches = answer.get("matches") or {}
    ranked = {k: [m.get("id") for m in v if isinstance(m, dict) and m.get("id") in kinds] for k, v in matches.items()}
    general = answer.get("general") or {}
    concepts = [(str(c.get("id")), c.get("label") or "") for c in (general.get("concepts") or [])[:3]
                if isinstance(c, dict)]
    return Outcome(ranked, concepts, general.get("question") or "", bool(answer.get("clarify")),
                   sum(len(v) for v in matches.values()))


def tables(a: argparse.Namespace) -> int:
    sys.path.insert(0, a.tools)
    from schakel_eval import corpus_kinds, thesaurus_names  # the acceptance tool's own readers

    kinds, names = corpus_kinds(a.corpus), thesaurus_names(a.thesaurus)
    questions = load_questions(a.questions)
    outcomes, summaries = {}, {}
    for item in a.answers:
        system, _, path = item.partition("=")
        data = json.loads(Path(path).read_text("utf-8"))
        by_id = {x["q"]: x["ans"] for x in data["answers"]}
        outcomes[system] = [outcome(by_id[q.id], kinds) for q in questions]
        summaries[system] = data["summary"]
    report = summarise(questions, outcomes, kinds, names)
    print(format_file(f"{a.questions} through /api/match", report))
    print("\nthe acceptance tool's own summary lines:")
    for system, summary in summaries.items():
        print(f"  {system:<6}" + json.dumps(summary, ensure_ascii=False))
    if a.baselines:
        base = json.loads(Path(a.baselines).read_text("utf-8"))
        print("\nnaive record-level baselines (shared/tools/baselines.py)")
        keys = ("ndcg@5_per_kind", "expert_recall@5", "themegroup_in_top3")
        print(f"{'':<8}" + "".join(f"{k:>20}" for k in keys))
        for system, m in base.items():
            print(f"{system:<8}" + "".join(f"{m.get(k) if m.get(k) is not None else '-':>20}" for k in keys))
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1, ensure_ascii=False), "utf-8")
    return 0


def blindspots(a: argparse.Namespace) -> int:
    spots = json.loads(Path(a.coverage).read_text("utf-8"))["blind_spots"]
    planted = json.loads(Path(a.planted).read_text("utf-8"))["topics"]
    missing = 0
    print(f"planted blind spots in the top {a.top} of schakel coverage:")
    for topic in planted:
        rank = next((n for n, b in enumerate(spots[:a.top], start=1) if _covers(b, topic)), None)
        missing += rank is None
        print(f"  {'yes' if rank else 'NO ':<4} rank {rank or '-':<3} {topic['topic'].split(':')[0]}")
    print("top: " + "; ".join(f"{n}. {b['label']}" for n, b in enumerate(spots[:a.top], start=1)))
    return 1 if missing else 0


def _covers(spot: dict, topic: dict) -> bool:
    if set(spot.get("source_ids") or []) & set(topic.get("records") or []):
        return True
    text = fold(" ".join([spot.get("label", "")] + list(spot.get("concepts") or [])))
    return any(fold(k) in text for k in topic.get("keywords") or [])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tables")
    t.add_argument("--questions", required=True)
    t.add_argument("--corpus", required=True)
    t.add_argument("--tools", required=True)
    t.add_argument("--thesaurus", required=True)
    t.add_argument("--answers", action="append", required=True, metavar="SYSTEM=FILE")
    t.add_argument("--baselines")
    t.add_argument("--json")
    b = sub.add_parser("blindspots")
    b.add_argument("--coverage", required=True)
    b.add_argument("--planted", required=True)
    b.add_argument("--top", type=int, default=5)
    a = ap.parse_args()
    return tables(a) if a.cmd == "tables" else blindspots(a)


if __name__ == "__main__":
    sys.exit(main())
