"""The intake brief: one stored intake question, re-matched, as a connector's working document.

``build_brief`` turns an intake row (``AppStore.intake``) and an ``Engine``
result into a ``Brief``; the HTML page, ``to_markdown`` and ``to_pdf`` all
render that same object, so the three show the same content.

All question and corpus text is inserted as plain text: escaped by Jinja in
HTML, backslash-escaped in Markdown (so no renderer turns it into HTML, links
or emphasis), and written as text (no markup, no links) in the PDF.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.errors import IndexMissing, InvalidInput
from indexer.records import KIND_LABELS, KINDS

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

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
FONT_REGULAR = "DejaVuSans.ttf"
FONT_BOLD = "DejaVuSans-Bold.ttf"

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
    similar: list[str]
    matches: list[tuple[str, str, list[BriefMatch]]]   # (kind, Dutch label, matches)
    notices: list[str]
    checklist: tuple = CHECKLIST
    notes: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None                   # why the question could not be matched again

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
                  notes=list(intake.get("notes") or []), followups=list(intake.get("followups") or []))
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
        brief.organisation = [o.get("question") or o.get("label", "") for o in g.organisation]
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


# --- Markdown ---------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~&])")


def md(text: Any) -> str:
    """Plain text for Markdown: one line, every character a renderer could act on backslash-escaped."""
    text = " ".join(str(text or "").split())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = re.sub(r"^([-+=])", r"\\\1", text)  # a list item, or a heading underline
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)  # "1." at the start would begin a list


def to_markdown(brief: Brief) -> str:
    out: list[str] = []
    add = out.append
    add(f"# Intakebrief: vraag {brief.intake_id}")
    add("")
    add(f"- Ontvangen: {md(datum(brief.created))}")
    add(f"- Status: {md(brief.status)}")
    add(f"- Opvolgverzoeken: {len(brief.followups)} (contactgegevens staan in Schakel, niet in deze download)")
    add("")
    add("## De vraag")
    add("")
    add(f"> {md(brief.question)}")
    add("")
    if brief.answers:
        add("### Antwoorden op de verheldering")
        add("")
        out += [f"- {md(label)}: {md(value)}" for label, value in brief.answers]
        add("")
    if brief.problem:
        add(f"**Let op:** {md(brief.problem)}")
        add("")
    add("## Algemener gesteld")
    add("")
    add(md(brief.general) if brief.general else "_Geen algemene vraag gevonden._")
    add("")
    if brief.ladder:
        add("### Ladder (van specifiek naar algemeen)")
        add("")
        for step in brief.ladder:
            text = step["question"] if step["level"] == 0 else ", ".join(step["concepts"]) or step["question"]
            add(f"{step['level'] + 1}. {md(step['name'].capitalize())}: {md(text)}")
        add("")
    add("## Concepten")
    add("")
    out += [f"- {md(level)}: {md(label)}" for level, label in brief.concepts] or ["_Geen concepten herkend._"]
    add("")
    if brief.dropped:
        add("## Weggelaten details")
        add("")
        out += [f"- {md(d)}" for d in brief.dropped]
        add("")
    add("## Nog open: vragen om te stellen")
    add("")
    if brief.open_facets:
        for f in brief.open_facets:
            line = f"- **{md(f.label)}**: {md(f.question)}"
            if f.options:
                line += f" (bijvoorbeeld: {md(', '.join(f.options[:5]))})"
            add(line)
    else:
        add("_Alle facetten zijn al in de vraag beantwoord._")
    add("")
    if brief.organisation:
        add("## Organisatievragen")
        add("")
        out += [f"- {md(o)}" for o in brief.organisation]
        add("")
    add("## Matches")
    add("")
    for n in brief.notices:
        add(f"> {md(n)}")
        add("")
    for _, label, items in brief.matches:
        add(f"### {md(label)} ({len(items)})")
        add("")
        if not items:
            add("_Geen passende resultaten._")
        for i, m in enumerate(items, start=1):
            status = f" ({md(m.status)})" if m.status else ""
            add(f"{i}. **{md(m.title)}**{status}")
            if m.meta:
                add(f"   {md(' · '.join(m.meta))}")
            add(f"   Waarom: {md(m.why)}")
            if m.url:
                add(f"   Bron: {md(m.url)}")
        add("")
    add("## Checklist voor het intakegesprek")
    add("")
    out += [f"- [ ] **{md(label)}**: {md(hint)}" for _, label, hint in brief.checklist]
    add("")
    add("## Notities")
    add("")
    if brief.notes:
        for n in brief.notes:
            add(f"- {md(datum(n.get('created', '')))}, {md(n.get('author', ''))}: {md(n.get('text', ''))}")
    else:
        add("_Nog geen notities._")
    add("")
    return "\n".join(out)


# --- PDF --------------------------------------------------------------------

_LATIN1 = {"–": "-", "—": "-", "‘": "'", "’": "'", "‚": ",", "“": '"', "”": '"', "„": '"', "…": "...",
           "→": "->", "←": "<-", "⇄": "<->", "☐": "[ ]", "•": "-", "·": "-", "€": "EUR", "\u00a0": " ",
           "≥": ">=", "≤": "<=", "×": "x"}


def latin1(text: str) -> str:
    """Text the PDF core fonts can show: common punctuation mapped, accents kept, the rest decomposed or '?'."""
    out = []
    for ch in str(text):
        if ch in _LATIN1:
            out.append(_LATIN1[ch])
            continue
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


def _font_files() -> tuple[Path, Path | None] | None:
    for folder in FONT_DIRS:
        regular = folder / FONT_REGULAR
        if regular.is_file():
            bold = folder / FONT_BOLD
            return regular, bold if bold.is_file() else None
    return None


def to_pdf(brief: Brief) -> bytes:
    """The brief as an A4 PDF (fpdf2): plain text only, no links, no markup."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(18, 18, 18)
    pdf.set_title(f"Intakebrief vraag {brief.intake_id}")
    pdf.set_author("Schakel")
    pdf.set_creator("Schakel")
    pdf.set_lang("nl")
    fonts = _font_files()
    if fonts:
        family, clean, box = "DejaVu", (lambda s: str(s)), "☐"
        pdf.add_font(family, "", str(fonts[0]))
        pdf.add_font(family, "B", str(fonts[1] or fonts[0]))
    else:
        family, clean, box = "Helvetica", latin1, "[ ]"
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def text(value: str, size: float = 10.5, bold: bool = False, indent: float = 0, gap: float = 1.2) -> None:
        pdf.set_font(family, "B" if bold else "", size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(width - indent, size * 0.5, clean(value), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    def need(mm: float) -> None:
        """Start a new page unless ``mm`` of height is left (no heading alone at the bottom of a page)."""
        if pdf.get_y() + mm > pdf.h - pdf.b_margin:
            pdf.add_page()

    def heading(value: str, size: float = 13, keep: float = 25) -> None:
        need(keep)
        pdf.ln(2.5)
        text(value, size=size, bold=True, gap=1.5)

    def bullets(items: list[str], mark: str = "-") -> None:
        for item in items:
            text(f"{mark} {item}".strip(), indent=3, gap=0.6)

    text(f"Intakebrief: vraag {brief.intake_id}", size=17, bold=True, gap=2)
    text(f"Ontvangen: {datum(brief.created)}   Status: {brief.status}   "
         f"Opvolgverzoeken: {len(brief.followups)} (contactgegevens staan in Schakel)", size=9.5)
    heading("De vraag")
    text(brief.question)
    if brief.answers:
        bullets([f"{label}: {value}" for label, value in brief.answers])
    if brief.problem:
        text(f"Let op: {brief.problem}", bold=True)
    heading("Algemener gesteld")
    text(brief.general or "Geen algemene vraag gevonden.")
    if brief.ladder:
        text("Ladder (van specifiek naar algemeen)", bold=True)
        bullets([f"{s['level'] + 1}. {s['name'].capitalize()}: "
                 f"{s['question'] if s['level'] == 0 else ', '.join(s['concepts']) or s['question']}"
                 for s in brief.ladder], mark="")
    heading("Concepten")
    bullets([f"{level}: {label}" for level, label in brief.concepts] or ["Geen concepten herkend."])
    if brief.dropped:
        heading("Weggelaten details")
        bullets(brief.dropped)
    heading("Nog open: vragen om te stellen")
    if brief.open_facets:
        bullets([f"{f.label}: {f.question}" + (f" (bijvoorbeeld: {', '.join(f.options[:5])})" if f.options else "")
                 for f in brief.open_facets])
    else:
        text("Alle facetten zijn al in de vraag beantwoord.")
    if brief.organisation:
        heading("Organisatievragen")
        bullets(brief.organisation)
    heading("Matches")
    for n in brief.notices:
        text(n, size=9.5)
    for _, label, items in brief.matches:
        need(20)
        text(f"{label} ({len(items)})", size=11.5, bold=True, gap=0.8)
        if not items:
            text("Geen passende resultaten.", indent=3, size=9.5)
        for i, m in enumerate(items, start=1):
            text(f"{i}. {m.title}" + (f" ({m.status})" if m.status else ""), bold=True, indent=3, gap=0.3)
            if m.meta:
                text(" - ".join(m.meta), size=9.5, indent=7, gap=0.3)
            text(f"Waarom: {m.why}", size=9.5, indent=7, gap=0.3)
            if m.url:
                text(f"Bron: {m.url}", size=9.5, indent=7, gap=0.3)
            pdf.ln(1)
    heading("Checklist voor het intakegesprek", keep=60)  # the checklist stays on one page
    for _, label, hint in brief.checklist:
        text(f"{box} {label}", bold=True, indent=3, gap=0.2)
        text(hint, size=9.5, indent=9, gap=1)
    heading("Notities")
    if brief.notes:
        bullets([f"{datum(n.get('created', ''))}, {n.get('author', '')}: {n.get('text', '')}" for n in brief.notes])
    else:
        text("Nog geen notities.")
    return bytes(pdf.output())
