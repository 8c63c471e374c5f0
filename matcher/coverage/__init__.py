"""Blind spots: where the network has demand or knowledge but no expert.

For every thesaurus concept the report gives expert coverage (per expert a 0..1 strength from their own
profile, strengthened by linked work and dense similarity: ``records``), theme groups scored alike,
sources naming the concept, and demand (the questions whose top concepts include it: ``demand``). A
concept is a blind spot when it has demand or sources and no available expert reaches ``weak``; close
blind-spot concepts merge into one ranked entry (``blind_spots``) with a Dutch reason line (``text``).

Modules, one idea each:

- ``records``: record coverage (``record_coverage``, ``RecordCoverage``), independent of the questions;
- ``demand``: concept detection per question (``detect_questions``) and best BM25 sources (``top_sources``);
- ``blind_spots``: merging (connected components, SciPy) and ranking of blind spots;
- ``text``: the Dutch reason line;
- ``results``: typed results, made into JSON in one place (``CoverageReport.to_json``);
- ``report``: the entry points ``coverage_report`` (typed) and ``compute`` (JSON);
- ``output``: CSV and SVG heatmap of the JSON form;
- ``cache``: what is kept per loaded index (``LoadedIndex.coverage_cache``), in memory only.
"""
from __future__ import annotations

from ..loaded import LoadedIndex
from .blind_spots import source_factor
from .demand import TOP_CONCEPTS, AskedQuestion, detect_questions, top_sources
from .output import heatmap_svg, safe_cell, to_csv
from .records import WEAK, RecordCoverage, record_coverage
from .report import build_report, compute, coverage_report
from .results import BlindSpot, ConceptCoverage, CoverageReport, ExpertStrength, GroupStrength
from .text import plural


def clear_caches(index: LoadedIndex) -> None:
    """Forget the cached question vectors, detections, BM25 sources and record coverage of INDEX
    (for benchmarks and tests)."""
    index.coverage_cache.clear()


__all__ = ["WEAK", "TOP_CONCEPTS", "AskedQuestion", "BlindSpot", "ConceptCoverage", "CoverageReport",
           "ExpertStrength", "GroupStrength", "RecordCoverage", "build_report", "clear_caches", "compute",
           "coverage_report", "detect_questions", "heatmap_svg", "plural", "record_coverage", "safe_cell",
           "source_factor", "to_csv", "top_sources"]
