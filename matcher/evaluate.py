"""``schakel eval``: retrieval, generalisation and clarification measured on labelled questions.

The question file is JSONL in the dev-eval shape: ``id``, ``question``,
``relevant`` (record id -> grade 1 or 2), and optionally ``concepts``,
``specifics``, ``vague``, ``missing``, ``blind_spot``. Every run reports the
full system and its BM25-only and dense-only baselines side by side.

Conventions (dev-eval README): gains are 2^grade - 1; vague questions weigh
half in ranking metrics; literature records the engine made from Kennisrotonde
source lines are dropped from the rankings (their corpus twins are scored);
a report counts as hit when any of its passages is returned (records are
ranked as a whole, so this holds by construction).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.analysis import content_words, fold, stem
from indexer.errors import InvalidInput
from indexer.records import KINDS

from .engine import BASELINES, Engine
from .questions import read_jsonl


@dataclass
class Question:
    id: str
    question: str
    relevant: dict[str, int]
    concepts: list[str] = field(default_factory=list)
    specifics: list[str] = field(default_factory=list)
    vague: bool = False
    missing: list[str] = field(default_factory=list)
    blind_spot: bool = False


def load_questions(path: str | Path) -> list[Question]:
    out = []
    for n, d in read_jsonl(path, "QUESTIONS"):
        rel = d.get("relevant") or {}
        if not isinstance(rel, dict):
            raise InvalidInput(f"{path}:{n}: 'relevant' must map record ids to grades", field="QUESTIONS")
        out.append(Question(str(d.get("id", n)), d["question"], {str(k): int(v) for k, v in rel.items()},
                            list(d.get("concepts") or []), list(d.get("specifics") or []), bool(d.get("vague")),
                            list(d.get("missing") or []), bool(d.get("blind_spot"))))
    return out


def dcg(grades: list[int]) -> float:
    return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(grades))


def ndcg(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    ideal = dcg(sorted(relevant.values(), reverse=True)[:k])
    return dcg([relevant.get(r, 0) for r in ranked[:k]]) / ideal if ideal else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    rel = [r for r, g in relevant.items() if g >= 1]
    return sum(1 for r in ranked[:k] if r in relevant) / len(rel) if rel else 0.0


def mrr(ranked: list[str], relevant: dict[str, int]) -> float:
    for i, r in enumerate(ranked):
        if r in relevant:
            return 1.0 / (i + 1)
    return 0.0


def _stems(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}


def concept_matches(expected: str, candidates: list[list[str]], general_question: str) -> bool:
    """An expected label matches a concept (label or synonym) after folding and stemming, or
    occurs in the general question."""
    e = _stems(expected)
    if not e:
        return False
    if fold(expected) in fold(general_question) or e <= _stems(general_question):
        return True
    for terms in candidates:
        for t in terms:
            ts = _stems(t)
            if ts and (e <= ts or ts <= e) and len(e & ts) >= max(1, min(len(e), len(ts))):
                return True
    return False


class Evaluator:
    def __init__(self, engine: Engine):
        self.engine = engine

    def ranking(self, questions: list[Question], system: str) -> dict[str, Any]:
        opts = BASELINES[system]
        index = self.engine.index()
        per_kind: dict[str, dict[str, list[tuple[float, float]]]] = {k: {"ndcg5": [], "ndcg10": [], "recall5": [],
                                                                          "mrr": []} for k in KINDS}
        expert_recall, tg_top3 = [], []
        for q in questions:
            ranked = self.engine.ranked_ids(q.question, opts, depth=30)
            weight = 0.5 if q.vague else 1.0
            for kind in KINDS:
                rel = {r: g for r, g in q.relevant.items() if r in index.records and index.records[r].kind == kind}
                if not rel:
                    continue
                ids = [r for r in ranked[kind] if not index.records[r].derived_from][:10]
                per_kind[kind]["ndcg5"].append((ndcg(ids, rel, 5), weight))
                per_kind[kind]["ndcg10"].append((ndcg(ids, rel, 10), weight))
                per_kind[kind]["recall5"].append((recall(ids, rel, 5), weight))
                per_kind[kind]["mrr"].append((mrr(ids, rel), weight))
                if kind == "expert":
                    expert_recall.append((recall(ids, rel, 5), weight))
                if kind == "themegroup" and not q.vague:
                    tg_top3.append((1.0 if any(r in rel for r in ids[:3]) else 0.0, 1.0))
        table = {k: {m: _wmean(v) for m, v in ms.items()} for k, ms in per_kind.items() if ms["ndcg5"]}
        macro = {m: sum(t[m] for t in table.values()) / len(table) for m in ("ndcg5", "ndcg10", "recall5", "mrr")} \
            if table else {}
        return {"per_kind": table, "overall": macro, "expert_recall5": _wmean(expert_recall),
                "themegroup_top3": _wmean(tg_top3)}

    def generalisation(self, questions: list[Question]) -> dict[str, Any]:
        hits, dropped, tp, fp, fn, facet_cov, blind_ok, examples = [], [], 0, 0, 0, [], [], []
        index = self.engine.index()
        for q in questions:
            res = self.engine.match(q.question)
            g = res.general
            top = [c for c in g.concepts if c.level == 1][:3]
            cands = []
            for c in top:
                concept = index.concept_by_id.get(c.id)
                cands.append(concept.terms() if concept else [c.label])
            if q.concepts:
                hits.append(1.0 if any(concept_matches(e, cands, g.question) for e in q.concepts) else 0.0)
            if q.specifics:
                gq = fold(g.question)
                dropped.append(1.0 if not any(fold(s) in gq for s in q.specifics) else 0.0)
            asked = bool(res.clarify)
            tp += asked and q.vague
            fp += asked and not q.vague
            fn += (not asked) and q.vague
            if q.vague and q.missing:
                facets = {c.facet.split()[0] for c in res.clarify}
                facet_cov.append(sum(1 for m in q.missing if m.split()[0] in facets) / len(q.missing))
            if q.blind_spot:
                blind_ok.append(1.0 if not res.matches.get("expert") else 0.0)
            examples.append({"id": q.id, "question": q.question, "general": g.question,
                             "concepts": [c.label for c in top], "dropped": g.dropped,
                             "ladder": [s["question"] for s in g.ladder],
                             "clarify": [c.question for c in res.clarify]})
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return {"concept_hit3": _mean(hits), "specifics_dropped": _mean(dropped),
                "clarify_precision": p, "clarify_recall": r, "clarify_f1": 2 * p * r / (p + r) if p + r else 0.0,
                "clarify_facet_coverage": _mean(facet_cov), "blind_spot_no_expert": _mean(blind_ok),
                "n": len(questions), "examples": examples}

    def run(self, questions: list[Question], systems=("full", "bm25", "dense")) -> dict[str, Any]:
        return {"systems": {s: self.ranking(questions, s) for s in systems},
                "generalisation": self.generalisation(questions)}


def _wmean(values: list[tuple[float, float]]) -> float:
    w = sum(x[1] for x in values)
    return sum(v * wt for v, wt in values) / w if w else 0.0


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def format_report(report: dict[str, Any]) -> str:
    systems = report["systems"]
    names = list(systems)
    lines = []
    kinds = sorted({k for s in systems.values() for k in s["per_kind"]}, key=KINDS.index)
    header = f"{'kind':<14}{'metric':<9}" + "".join(f"{n:>9}" for n in names)
    lines += [header, "-" * len(header)]
    for kind in kinds + ["overall"]:
        for m in ("ndcg5", "ndcg10", "recall5", "mrr"):
            vals = []
            for n in names:
                src = systems[n]["overall"] if kind == "overall" else systems[n]["per_kind"].get(kind, {})
                vals.append(src.get(m, float("nan")))
            label = kind if m == "ndcg5" else ""
            lines.append(f"{label:<14}{m:<9}" + "".join(f"{v:>9.3f}" for v in vals))
    lines.append("-" * len(header))
    lines.append(f"{'expert R@5':<23}" + "".join(f"{systems[n]['expert_recall5']:>9.3f}" for n in names))
    lines.append(f"{'group in top 3':<23}" + "".join(f"{systems[n]['themegroup_top3']:>9.3f}" for n in names))
    g = report.get("generalisation")
    if g:
        lines += ["", f"concept hit@3        {g['concept_hit3']:.3f}",
                  f"specifics dropped    {g['specifics_dropped']:.3f}",
                  f"clarify P/R/F1       {g['clarify_precision']:.3f} / {g['clarify_recall']:.3f} / "
                  f"{g['clarify_f1']:.3f}",
                  f"clarify facets asked {g['clarify_facet_coverage']:.3f}",
                  f"blind spot: no expert shown {g['blind_spot_no_expert']:.3f}"]
    return "\n".join(lines)
