"""``schakel eval``: ranking, generalisation, clarification and off-topic handling on labelled questions.

The question file is JSONL in the dev-eval shape: ``id``, ``question``,
``relevant`` (record id -> grade 1 or 2), and optionally ``concepts``,
``specifics``, ``vague``, ``missing``, ``blind_spot``, ``off_topic``. A
``question_types.json`` beside it (dev-eval-2 shape:
``{"questions": {id: {"role", "styles": [...]}}}``) gives each question's
styles; without it the styles are read from the label fields.

Every question is asked once per system (full, BM25-only, dense-only) with
ten matches per kind, and scored the way the acceptance tool
``shared/tools/schakel_eval.py`` scores ``POST /api/match`` answers, so both
give the same figures:

- nDCG@5 with gain = grade, pooled over all (question, kind) pairs that have
  labels of that kind (Järvelin & Kekäläinen 2002); per kind as well;
- expert Recall@5 = relevant experts in the top 5 / min(relevant experts, 5);
- theme group in top 3, over questions that are neither vague nor blind spots;
- concept hit@3: an expected label is named by one of the first three
  concepts or the general question, or is a label or synonym of one of them;
- specifics dropped from the general question; vague-question precision,
  recall and F1 (a clarifying question counts as asked);
- off-topic: share of ``off_topic`` questions that get no match at all (any
  match shown is a recommendation), and share of the other questions that do
  get one (so abstaining everywhere does not look good);
- blind spots: share of ``blind_spot`` questions that show no expert (no
  expert covers the topic, so the nearest one is not a match).

Records the engine derives itself (literature from Kennisrotonde source lines)
carry no label and are left out of the ranking before scoring.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.analysis import content_words, fold, stem
from indexer.errors import InvalidInput
from indexer.records import KINDS

from .engine import Engine, Options
from .questions import read_jsonl

SYSTEMS = ("full", "bm25", "dense")
DEPTH = 10            # matches asked per kind, as the acceptance tool asks /api/match
RANKED_KINDS = ("expert", "themegroup", "literature", "product", "kennisrotonde")


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
    off_topic: bool = False
    styles: list[str] = field(default_factory=list)
    position: int = 0     # 1-based place in its file: odd and even halves


@dataclass
class Outcome:
    """What one system answered to one question, reduced to what is scored."""

    ranked: dict[str, list[str]]            # kind -> labelled-record ids, best first (derived left out)
    concepts: list[tuple[str, str]]         # first three (id, label) of the general question's concepts
    general: str
    clarified: bool
    matched: int                            # matches shown over all kinds (derived included)


def load_questions(path: str | Path) -> list[Question]:
    """Questions of a JSONL file, with styles from a ``question_types.json`` beside it when present.

    Raises ``InvalidInput`` naming the file and line for a malformed line or label."""
    out = []
    for n, d in read_jsonl(path, "QUESTIONS"):
        rel = d.get("relevant") or {}
        if not isinstance(rel, dict):
            raise InvalidInput(f"{path}:{n}: 'relevant' must map record ids to grades", field="QUESTIONS")
        try:
            grades = {str(k): int(v) for k, v in rel.items()}
        except (TypeError, ValueError):
            raise InvalidInput(f"{path}:{n}: grades in 'relevant' must be whole numbers", field="QUESTIONS") from None
        out.append(Question(str(d.get("id", n)), d["question"], grades, list(d.get("concepts") or []),
                            list(d.get("specifics") or []), bool(d.get("vague")), list(d.get("missing") or []),
                            bool(d.get("blind_spot")), bool(d.get("off_topic")), position=len(out) + 1))
    types = _question_types(Path(path).with_name("question_types.json"))
    for q in out:
        q.styles = types.get(q.id) or _styles_from_fields(q)
    return out


def _question_types(path: Path) -> dict[str, list[str]]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
        return {str(k): list(v.get("styles") or []) for k, v in (data.get("questions") or {}).items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise InvalidInput(f"{path}: expected {{'questions': {{id: {{'styles': [...]}}}}}} ({exc})",
                           field="question_types") from None


def _styles_from_fields(q: Question) -> list[str]:
    styles = [s for s, on in (("vague", q.vague), ("blind_spot", q.blind_spot), ("off_topic", q.off_topic)) if on]
    return styles or ["other"]


# --- single measures ------------------------------------------------------------

def dcg(gains: list[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    """nDCG@k with gain = grade (as the acceptance tool); 0 when nothing is relevant."""
    ideal = dcg(sorted(relevant.values(), reverse=True)[:k])
    return dcg([relevant.get(r, 0) for r in ranked[:k]]) / ideal if ideal else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    rel = [r for r, g in relevant.items() if g >= 1]
    return sum(1 for r in ranked[:k] if r in relevant) / len(rel) if rel else 0.0


def _stems(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}


def concept_matches(expected: str, candidates: list[list[str]], general_question: str) -> bool:
    """Lenient check: an expected label matches a concept (label or synonym) after folding and
    stemming, or occurs in the general question."""
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


def concept_hit(q: Question, out: Outcome, names: dict[str, str]) -> float:
    """The acceptance tool's concept hit@3: a label named, or a thesaurus name of a top-3 concept."""
    labels = " | ".join(label.lower() for _, label in out.concepts) + " | " + out.general.lower()
    ids = {cid for cid, _ in out.concepts}
    return 1.0 if any(c.lower() in labels or names.get(c.lower()) in ids for c in q.concepts) else 0.0


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def measures(pairs: list[tuple[Question, Outcome]], kind_of: dict[str, str], names: dict[str, str]) -> dict[str, Any]:
    """The headline figures over (question, outcome) pairs: see the module docstring.

    ``kind_of`` maps labelled record ids to their kind; ``names`` maps lower-cased thesaurus labels
    and synonyms to concept ids. Figures without a question to measure them on are None."""
    per_kind: dict[str, list[float]] = {k: [] for k in RANKED_KINDS}
    ex_rec, tg3, conc, spec, off, on, blind = [], [], [], [], [], [], []
    tp = fp = fn = 0
    for q, out in pairs:
        for kind in RANKED_KINDS:
            rel = {r: g for r, g in q.relevant.items() if kind_of.get(r) == kind}
            if not rel:
                continue
            ids = out.ranked.get(kind, [])
            per_kind[kind].append(ndcg(ids, rel, 5))
            if kind == "expert":
                ex_rec.append(sum(1 for r in ids[:5] if r in rel) / min(len(rel), 5))
            if kind == "themegroup" and not q.vague and not q.blind_spot:
                tg3.append(1.0 if any(r in rel for r in ids[:3]) else 0.0)
        if q.concepts:
            conc.append(concept_hit(q, out, names))
        if q.specifics:
            gq = out.general.lower()
            spec.append(1.0 if gq and not any(s.lower() in gq for s in q.specifics) else 0.0)
        (off if q.off_topic else on).append(1.0 if (out.matched == 0) == q.off_topic else 0.0)
        if q.blind_spot:
            blind.append(0.0 if out.ranked.get("expert") else 1.0)
        tp += q.vague and out.clarified
        fn += q.vague and not out.clarified
        fp += (not q.vague) and out.clarified
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    pooled = [v for vs in per_kind.values() for v in vs]
    return {"n": len(pairs), "ndcg5": _mean(pooled),
            "ndcg5_per_kind": {k: _mean(v) for k, v in per_kind.items() if v},
            "expert_recall5": _mean(ex_rec), "themegroup_top3": _mean(tg3), "concept_hit3": _mean(conc),
            "specifics_dropped": _mean(spec), "vague_precision": p, "vague_recall": r,
            "vague_f1": 2 * p * r / (p + r) if p and r else (0.0 if tp + fp + fn else None),
            "off_topic_no_match": _mean(off), "on_topic_answered": _mean(on), "blind_spot_no_expert": _mean(blind)}



# --- running the systems -----------------------------------------------------------

class Evaluator:
    """Asks an ``Engine`` every question once per system and scores the answers.

    ``options`` maps a system name to its ``Options`` (default: ``BASELINES``)."""

    def __init__(self, engine: Engine, options: dict[str, Options] | None = None):
        from .engine import BASELINES

        self.engine = engine
        self.options = options or BASELINES

    def outcome(self, q: Question, system: str, kind_of: dict[str, str]) -> Outcome:
        full = system == "full"
        res = self.engine.match(q.question, top=DEPTH, options=self.options[system], clarify=full)
        ranked = {k: [m.id for m in res.matches.get(k, []) if m.id in kind_of] for k in KINDS}
        concepts = [(c.id, c.label) for c in res.general.concepts[:3]] if full else []
        return Outcome(ranked, concepts, res.general.question if full else "", bool(res.clarify),
                       sum(len(v) for v in res.matches.values()))

    def run(self, questions: list[Question], systems=SYSTEMS) -> dict[str, Any]:
        """{"systems": {system: measures}, "halves": {"odd"|"even": {system: measures}},
        "styles": {style: {system: measures}}, "questions": [per-question detail]}.

        Generalisation and clarification figures are those of the full system; the baselines
        do not generalise or clarify."""
        index = self.engine.index()
        kind_of = {r.id: r.kind for r in index.record_list if not r.derived_from}
        names: dict[str, str] = {}
        for c in index.concepts:
            for n in c.terms():
                names.setdefault(n.lower(), c.id)
        outcomes = {s: [self.outcome(q, s, kind_of) for q in questions] for s in systems}
        return summarise(questions, outcomes, kind_of, names)


def summarise(questions: list[Question], outcomes: dict[str, list[Outcome]], kind_of: dict[str, str],
              names: dict[str, str]) -> dict[str, Any]:
    """The report of ``Evaluator.run`` from each system's outcomes (one per question, in order),
    however they were obtained (in process, or from ``/api/match`` answers)."""
    systems = list(outcomes)

    def over(subset: list[int]) -> dict[str, Any]:
        return {s: ranking_only(measures([(questions[i], outcomes[s][i]) for i in subset], kind_of, names),
                                s != "full") for s in systems}

    everything = list(range(len(questions)))
    styles = sorted({st for q in questions for st in q.styles})
    return {"n": len(questions), "systems": over(everything),
            "halves": {"odd": over([i for i in everything if questions[i].position % 2 == 1]),
                       "even": over([i for i in everything if questions[i].position % 2 == 0])},
            "styles": {st: over([i for i in everything if st in questions[i].styles]) for st in styles},
            "questions": [_detail(q, {s: outcomes[s][i] for s in systems}, kind_of)
                          for i, q in enumerate(questions)]}


def ranking_only(m: dict[str, Any], baseline: bool) -> dict[str, Any]:
    """Baselines neither generalise nor clarify: their concept and vague figures are None."""
    if baseline:
        for key in ("concept_hit3", "specifics_dropped", "vague_precision", "vague_recall", "vague_f1"):
            m[key] = None
    return m


def _detail(q: Question, outs: dict[str, Outcome], kind_of: dict[str, str]) -> dict[str, Any]:
    """Per question: each system's nDCG@5 per labelled kind and top five; the full system's reading."""
    d: dict[str, Any] = {"id": q.id, "question": q.question, "styles": q.styles}
    for s, out in outs.items():
        d[s] = {"ndcg5": {k: round(ndcg(out.ranked.get(k, []), rel, 5), 3) for k in RANKED_KINDS
                          if (rel := {r: g for r, g in q.relevant.items() if kind_of.get(r) == k})},
                "top5": {k: v[:5] for k, v in out.ranked.items() if v}, "matched": out.matched}
    full = outs.get("full")
    if full:
        d["general"], d["concepts"], d["clarified"] = full.general, [lab for _, lab in full.concepts], full.clarified
    return d
