"""Typed match results; JSON is made from them in one place (``to_json``)."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from indexer.records import KINDS


@dataclass
class PassageHit:
    """A passage shown with a match; ``highlights`` are character offsets into ``text``."""

    text: str
    source: str
    page: int | None = None
    heading: str | None = None
    highlights: list[tuple[int, int]] = field(default_factory=list)   # char offsets of matched words in text


@dataclass
class Match:
    """One ranked record of a kind with its score (fused, about 0..3), reason and evidence."""

    id: str
    kind: str
    title: str
    score: float
    why: str
    url: str | None
    passages: list[PassageHit] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)      # concept labels this record matched on
    terms: list[str] = field(default_factory=list)         # question words found in the record
    status: str | None = None                              # 'niet beschikbaar', 'gestopt', ...
    details: dict[str, Any] = field(default_factory=dict)  # kind-specific display fields
    via: list[str] = field(default_factory=list)           # linked records that added to the score


@dataclass
class ConceptRef:
    """A concept on the abstraction ladder of a question."""

    id: str
    label: str
    level: int           # 0 = the question itself, 1 = matched concept, 2.. = broader
    score: float = 0.0


@dataclass
class General:
    """The general question, its concepts and ladder, the specifics left out, organisation
    questions and similar earlier questions."""

    question: str
    concepts: list[ConceptRef]
    ladder: list[dict[str, Any]]
    dropped: list[str]
    organisation: list[dict[str, str]]
    similar: list[dict[str, Any]]


@dataclass
class Clarification:
    """A clarifying question about one facet, with answer options."""

    facet: str
    question: str
    options: list[str] = field(default_factory=list)


@dataclass
class MatchResult:
    """Everything ``Engine.match`` returns; ``to_json`` is the one JSON form (API, CLI)."""

    question: str
    matches: dict[str, list[Match]]
    general: General | None = None
    clarify: list[Clarification] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    level: int = 1
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self, include_timings: bool = False) -> dict[str, Any]:
        """The result as JSON-ready dicts; scores rounded to 4 decimals, timings in milliseconds."""
        out: dict[str, Any] = {
            "question": self.question,
            "matches": {k: [_match_json(m) for m in self.matches.get(k, [])] for k in KINDS},
            "general": plain(self.general) if self.general else None,
            "clarify": [plain(c) for c in self.clarify],
            "notices": self.notices,
            "level": self.level,
        }
        if include_timings:
            out["timings_ms"] = {k: round(v * 1000, 2) for k, v in self.timings.items()}
        return out


_ATOMS = (str, int, float, bool, type(None))


def plain(obj: Any) -> Any:
    """``dataclasses.asdict`` without its cost: dataclasses become dicts of their fields, lists, tuples and
    dicts are copied with their items converted, and anything else is deep-copied; strings, numbers, booleans
    and None are returned as they are (immutable: the copy asdict makes of them is the same value). About
    five times faster on a result of thirty matches."""
    if isinstance(obj, _ATOMS):
        return obj
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, (list, tuple)):
        items = [plain(v) for v in obj]
        if type(obj) is list:
            return items
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)   # a namedtuple takes fields
    if isinstance(obj, dict):
        return type(obj)((plain(k), plain(v)) for k, v in obj.items())
    return copy.deepcopy(obj)


def _match_json(m: Match) -> dict[str, Any]:
    """One match as ``plain`` makes it, with the score rounded and highlights as lists, built field by field:
    thirty matches of a question are most of a result, and ``plain``'s generic walk over them cost about as
    much as explaining them (``tests/test_results_json.py`` holds the two equal)."""
    return {"id": m.id, "kind": m.kind, "title": m.title, "score": round(float(m.score), 4), "why": m.why,
            "url": m.url,
            "passages": [{"text": p.text, "source": p.source, "page": p.page, "heading": p.heading,
                          "highlights": [[s, e] for s, e in p.highlights]} for p in m.passages],
            "concepts": list(m.concepts), "terms": list(m.terms), "status": m.status,
            "details": plain(m.details), "via": list(m.via)}
