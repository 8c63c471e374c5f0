"""The coverage report: record coverage, question demand and blind spots put together."""
from __future__ import annotations

import logging

import numpy as np

from indexer.errors import InvalidInput

from ..loaded import LoadedIndex
from .blind_spots import MAX_QUESTIONS, MIN_LISTED, blind_spots
from .demand import AskedQuestion, concept_demand, detect_questions
from .records import WEAK, RecordCoverage, record_coverage
from .results import ConceptCoverage, CoverageReport, ExpertStrength, GroupStrength, rounded

log = logging.getLogger(__name__)

MAX_LISTED = 10         # experts / theme groups listed per concept (with at least ``MIN_LISTED``)


def _check(questions, weak) -> None:
    if isinstance(weak, bool) or not isinstance(weak, (int, float)) or not 0 < weak <= 1:
        raise InvalidInput("'weak' must be a number above 0 and at most 1", field="weak")
    if not isinstance(questions, list):
        raise InvalidInput("'questions' must be a list of objects with a 'question' text", field="questions")


def coverage_report(engine, questions: list[dict], *, weak: float = WEAK) -> CoverageReport:
    """The coverage report of ENGINE's index for QUESTIONS (dicts with 'question' and optional 'date'
    YYYY-MM-DD; other items are skipped). WEAK (0..1] is the expert strength from which a topic is covered.

    Raises InvalidInput (field 'weak' or 'questions') for a bad threshold or a QUESTIONS that is not a list;
    IndexMissing / CorruptIndex when there is no usable index.
    """
    _check(questions, weak)
    index = engine.index()
    rc = record_coverage(index, float(weak))
    asked = detect_questions(engine, questions)
    report = build_report(index, rc, asked, weak=float(weak))
    log.info("coverage: %d questions, %d concepts, %d blind spots", len(asked), len(report.concepts),
             len(report.blind_spots))
    return report


def compute(engine, questions: list[dict], *, weak: float = WEAK) -> dict:
    """``coverage_report`` as JSON-able dicts (``CoverageReport.to_json``): what the API and the CLI print."""
    return coverage_report(engine, questions, weak=weak).to_json()


def _listed(matrix: np.ndarray, recs: list, ok: np.ndarray, ci: int, kind: type) -> list:
    """The strongest (at most ``MAX_LISTED``, at least ``MIN_LISTED``) of RECS for concept CI, as KIND
    (``ExpertStrength`` with availability or ``GroupStrength`` with activity from OK)."""
    if not len(recs):
        return []
    col = matrix[:, ci]
    order = np.argsort(-col, kind="stable")[:MAX_LISTED]
    return [kind(recs[i].id, rounded(col[i]), bool(ok[i])) for i in order if col[i] >= MIN_LISTED]


def build_report(index: LoadedIndex, rc: RecordCoverage, asked: list[AskedQuestion], *,
                 weak: float = WEAK) -> CoverageReport:
    """The report from record coverage RC and the detected questions ASKED. A concept is a blind spot when it
    has demand or sources and no available expert reaches WEAK."""
    concepts = index.concepts
    n_c = len(concepts)
    usable = rc.expert * rc.available[:, None] if len(rc.experts) else np.zeros((0, n_c), np.float32)
    covered = (usable.max(0) if len(rc.experts) else np.zeros(n_c, np.float32)) >= weak
    demand = concept_demand(asked, usable, [c.label for c in concepts])
    out_concepts = []
    blind = np.zeros(n_c, bool)
    for ci, c in enumerate(concepts):
        n_src, n_demand = len(rc.sources[ci]), len(demand.questions[ci])
        blind[ci] = (n_demand > 0 or n_src > 0) and not covered[ci]
        out_concepts.append(ConceptCoverage(
            c.id, c.label, c.group, _listed(rc.expert, rc.experts, rc.available, ci, ExpertStrength),
            _listed(rc.group, rc.groups, rc.active, ci, GroupStrength), n_src, n_demand, bool(blind[ci])))
    unmatched = list(dict.fromkeys(q.text for q in asked if not q.concepts))
    return CoverageReport(
        concepts=out_concepts, blind_spots=blind_spots(index, rc, asked, demand, blind, weak),
        unmatched_count=sum(1 for q in asked if not q.concepts), unmatched=unmatched[:MAX_QUESTIONS],
        months={m: dict(demand.months[m].most_common()) for m in sorted(demand.months)},
        questions=len(asked), weak=weak)
