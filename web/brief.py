"""The intake brief: one stored intake question, re-matched, as a connector's working document.

``build_brief`` turns an intake row (``AppStore.intake``) and an ``Engine``
result into a ``Brief``; ``sections(brief)`` lays it out once as titled
sections of blocks. The HTML page (and its print view), ``to_markdown`` and
``to_pdf`` all render those sections, so the three cannot drift apart.

All question and corpus text is inserted as plain text: escaped by Jinja in
HTML, backslash-escaped in Markdown (so no renderer turns it into HTML, links
or emphasis), and shown as text without links in the PDF.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from indexer.errors import IndexMissing, InvalidInput
from indexer.records import KIND_LABELS, KINDS

from .results_view import organisation_question

log = logging.getLogger(__name__)

#: Intake statuses a connector can set; the store starts every intake at "nieuw".
STATUSES = ("nieuw", "in behandeling", "wacht op deelnemer", "doorverwezen", "afgerond")
LEVELS = {1: "Onderwerp", 2: "Breder", 3: "Thema"}
FACET_LABELS = {"doelgroep": "Doelgroep", "opleiding/context": "Opleiding of context", "doel": "Doel",
                "ict-middel": "Ict-middel", "niveau": "Niveau (les, team, organisatie)", "tijdpad": "Tijdpad"}

#: What the evaluation of the CoP leren en ict says an intake should settle before someone joins.
CHECKLIST = (
    ("gedeeld doel", "Gedeeld doel",
     "Wat willen de deelnemer en de themagroep of expert samen bereiken, en past dat bij elkaar?"),
    ("verwachte inzet", "Verwachte inzet",
     "Hoeveel tijd en welke bijdrage verwacht de groep van de deelnemer, en kan die dat leveren?"),
    ("facilitering", "Facilitering in uren door het bestuur",
     "Zijn er uren toegezegd door het bestuur of de leidinggevende, en staat dat ergens vast?"),
    ("tussentijds instappen", "Afspraken over tussentijds instappen in een themagroep",
     "Hoe stapt de deelnemer in een lopende groep in: inwerken, wat al gemaakt is, wie begeleidt?"),
)

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


@dataclass
class BriefMatch:
    id: str
    kind: str
    title: str
    why: str
    status: str | None = None
    url: str | None = None          # only http(s) links survive
    meta: list[str] = field(default_factory=list)
    score: float = 0.0


@dataclass
class OpenFacet:
    facet: str
    label: str
    question: str
    options: list[str] = field(default_factory=list)
    asked: bool = False             # Schakel itself would have asked the participant this


@dataclass
class Brief:
    intake_id: int
    created: str
    status: str
    question: str
    general: str
    answers: list[tuple[str, str]]
    ladder: list[dict[str, Any]]
    concepts: list[tuple[str, str]]              # (level name, label)
    dropped: list[str]
    open_facets: list[OpenFacet]
    organisation: list[str]
    similar: list[str]                           # published (Kennisrotonde) questions close to this one
    matches: list[tuple[str, str, list[BriefMatch]]]   # (kind, Dutch label, matches)
    notices: list[str]
    checklist: tuple = CHECKLIST
    notes: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None                   # why the question could not be matched again
    earlier: list[dict[str, Any]] = field(default_factory=list)   # similar stored intakes (connectors only)
    ticked: list[str] = field(default_factory=list)               # checklist keys ticked by a connector

    @property
    def match_count(self) -> int:
        return sum(len(ms) for _, _, ms in self.matches)


# --- assembly ---------------------------------------------------------------

def http_url(url: Any) -> str | None:
    """A corpus URL, only when it is a plain http(s) address (no javascript:, data: or relative links)."""
    if isinstance(url, str) and re.match(r"^https?://[^\s/?#]+", url.strip(), re.I):
        return url.strip()
    return None


def _meta(m) -> list[str]:
    d = m.details or {}
    out = []
    if m.kind == "expert":
        out += [str(d[k]) for k in ("role", "organisation") if d.get(k)]
        if d.get("region"):
            out.append(f"regio {d['region']}")
        if d.get("email"):
            out.append(f"contact: {d['email']}")
    elif m.kind == "themegroup":
        if d.get("focus"):
            out.append(f"focus: {d['focus']}")
        if "open" in d:
            out.append("neemt nieuwe leden aan" if d["open"] else "neemt geen nieuwe leden aan")
        if d.get("members"):
            out.append(f"{d['members']} leden")
    elif m.kind in ("literature", "report"):
        authors = d.get("authors")
        if authors:
            out.append(", ".join(map(str, authors)) if isinstance(authors, list) else str(authors))
        if d.get("year"):
            out.append(str(d["year"]))
    elif m.kind == "product" and d.get("type"):
        out.append(f"soort: {d['type']}")
    return out


def _open_facets(engine, question: str, answers: dict[str, str], asked: set[str]) -> list[OpenFacet]:
    from matcher import clarify

    index = engine.index()
    text = clarify.with_answers(question, answers)
    try:
        qv = engine.embed_query(text)
    except Exception:  # the brief still helps without the dense part
        log.exception("embedding the intake question failed")
        qv = None
    hits = index.concept_matcher.detect(text, qv)
    present = clarify.facets_present(text, hits) | set(answers)
    return [OpenFacet(f, FACET_LABELS.get(f, f), clarify.QUESTIONS[f], list(clarify.OPTIONS.get(f, [])), f in asked)
            for f in clarify.FACETS if f not in present]


def build_brief(engine, intake: dict, top: int = 5) -> Brief:
    """Re-run the match for a stored intake and collect what a connector needs for the intake talk."""
    answers = {k: v for k, v in (intake.get("answers") or {}).items() if isinstance(v, str)}
    brief = Brief(intake_id=intake["id"], created=intake.get("created") or "", status=intake.get("status") or "nieuw",
                  question=intake.get("question") or "", general=intake.get("general") or "",
                  answers=[(FACET_LABELS.get(k, k), v) for k, v in answers.items()], ladder=[], concepts=[],
                  dropped=[], open_facets=[], organisation=[], similar=[], matches=[], notices=[],
                  notes=list(intake.get("notes") or []), followups=list(intake.get("followups") or []),
                  ticked=list(intake.get("checklist") or []))
    try:
        result = engine.match(brief.question, top=top, answers=answers)
    except (InvalidInput, IndexMissing) as exc:
        brief.problem = f"Schakel kon deze vraag niet opnieuw zoeken: {exc.message}"
        return brief
    g = result.general
    if g:
        brief.general = g.question or brief.general
        brief.ladder = [{"level": s["level"], "name": s["name"], "question": s["question"],
                         "concepts": list(s.get("concepts") or [])} for s in g.ladder]
        brief.concepts = [(LEVELS.get(c.level, str(c.level)), c.label) for c in g.concepts if c.level >= 1]
        brief.dropped = list(g.dropped)
        brief.organisation = [organisation_question(o) for o in g.organisation]
        brief.similar = [s.get("question", "") for s in g.similar]
    brief.notices = list(result.notices)
    try:
        brief.open_facets = _open_facets(engine, result.question, answers, {c.facet for c in result.clarify})
    except Exception:  # never lose the whole brief over the facet analysis
        log.exception("facet analysis failed for intake %s", brief.intake_id)
        brief.open_facets = [OpenFacet(c.facet, FACET_LABELS.get(c.facet, c.facet), c.question, list(c.options),
                                       True) for c in result.clarify]
    for kind in KINDS:
        items = [BriefMatch(id=m.id, kind=m.kind, title=m.title, why=m.why, status=m.status, url=http_url(m.url),
                            meta=_meta(m), score=round(float(m.score), 3)) for m in result.matches.get(kind, [])]
        brief.matches.append((kind, KIND_LABELS.get(kind, kind), items))
    return brief


# --- dates ------------------------------------------------------------------

def local_time(iso: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    try:
        from zoneinfo import ZoneInfo

        return value.astimezone(ZoneInfo("Europe/Amsterdam"))
    except Exception:  # no tz database: show UTC
        return value


def datum(iso: str, with_time: bool = True) -> str:
    """'3 mei 2024, 14:05' (Dutch time) from a stored ISO timestamp; the raw text when it is not one."""
    value = local_time(iso)
    if value is None:
        return str(iso or "")
    text = f"{value.day} {MONTHS[value.month - 1]} {value.year}"
    return f"{text}, {value:%H:%M}" if with_time else text


