"""Typed coverage results; JSON is made from them in one place (``CoverageReport.to_json``), like
``matcher.results.MatchResult``. Scores are rounded to 3 decimals when the results are made."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def rounded(x: float) -> float:
    """A score as reported: a Python float rounded to 3 decimals."""
    return round(float(x), 3)


def _strength_json(rid: str, name: str | None, score: float, flag: str, ok: bool) -> dict[str, Any]:
    named = {"name": name} if name is not None else {}
    return {"id": rid, **named, "score": score, flag: ok}


@dataclass
class ExpertStrength:
    """An expert's strength (0..1) for a concept or blind spot; ``name`` is set in blind-spot entries."""

    id: str
    score: float
    available: bool
    name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """{id, name (when set), score, available}."""
        return _strength_json(self.id, self.name, self.score, "available", self.available)


@dataclass
class GroupStrength:
    """A theme group's strength (0..1) for a concept or blind spot; ``active`` is False for a stopped group."""

    id: str
    score: float
    active: bool
    name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """{id, name (when set), score, active}."""
        return _strength_json(self.id, self.name, self.score, "active", self.active)


@dataclass
class ConceptCoverage:
    """One thesaurus concept: who covers it, how many sources name it, how many questions ask about it."""

    id: str
    label: str
    group: str
    experts: list[ExpertStrength]
    themegroups: list[GroupStrength]
    sources: int            # source records naming the concept
    demand: int             # questions that ask about it
    blind_spot: bool

    def to_json(self) -> dict[str, Any]:
        """The concept as JSON: {id, label, group, experts, themegroups, sources, demand, blind_spot}."""
        return {"id": self.id, "label": self.label, "group": self.group,
                "experts": [e.to_json() for e in self.experts],
                "themegroups": [g.to_json() for g in self.themegroups],
                "sources": self.sources, "demand": self.demand, "blind_spot": self.blind_spot}


@dataclass
class BlindSpot:
    """One entry of the blind-spot list: merged concepts without an available expert."""

    label: str                      # the entry's strongest concept
    concepts: list[str]             # labels, strongest first
    concept_ids: list[str]
    demand: int                     # questions asking about it (directly or through their sources)
    questions: list[str]            # example questions, most central first
    sources: int
    source_ids: list[str]
    why: str                        # one Dutch line
    score: float                    # ranking score (weighted demand x source factor)
    clear: bool                     # asked about with sources (or often): not just a possible gap
    experts: list[ExpertStrength] = field(default_factory=list)
    themegroups: list[GroupStrength] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON, in the order of its fields."""
        return {"label": self.label, "concepts": self.concepts, "concept_ids": self.concept_ids,
                "demand": self.demand, "questions": self.questions, "sources": self.sources,
                "source_ids": self.source_ids, "why": self.why, "score": self.score, "clear": self.clear,
                "experts": [e.to_json() for e in self.experts],
                "themegroups": [g.to_json() for g in self.themegroups]}


@dataclass
class CoverageReport:
    """The coverage report: per concept, the ranked blind spots, unmatched questions and demand per month."""

    concepts: list[ConceptCoverage]
    blind_spots: list[BlindSpot]
    unmatched_count: int            # questions without any recognised concept
    unmatched: list[str]            # ... their distinct texts (at most ``MAX_QUESTIONS``)
    months: dict[str, dict[str, int]]   # 'YYYY-MM' -> {concept label: questions}, most asked first
    questions: int                  # usable questions
    weak: float                     # the coverage threshold used (0..1]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-able dicts and lists (the shape of ``/api/coverage`` and ``schakel coverage --json``)."""
        return {
            "concepts": [c.to_json() for c in self.concepts],
            "blind_spots": [b.to_json() for b in self.blind_spots],
            "unmatched": {"count": self.unmatched_count, "questions": self.unmatched},
            "months": self.months,
            "questions": self.questions,
            "weak": self.weak,
        }
