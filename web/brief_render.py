"""The intake brief laid out once (``sections``) and rendered as Markdown and as a tagged PDF.

The HTML page renders the same sections with ``templates/connector/_sections.html``;
the PDF is that HTML printed by WeasyPrint, which writes a tagged PDF/UA-1 document
(structure tree, language, title, headings, lists) with page numbers from the CSS
``@page`` rule. fpdf2, used before, can tag only images, links and outline entries, not
paragraphs, headings and lists, so it cannot produce PDF/UA.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .brief import Brief, BriefMatch, datum


@dataclass
class Block:
    """One piece of a section. ``kind``: "p", "meta", "quote", "notice", "empty", "h3", "list" (``items`` are
    (label, text) pairs; label may be ""), "olist", "matches" (``items`` are BriefMatch, ``text`` the kind label),
    "checklist" (``items`` are (key, label, hint, ticked)), "notes" (``items`` are note rows), "followups",
    "earlier" (similar stored intakes, ``items`` are {"id", "question", "date"})."""
    kind: str
    text: str = ""
    items: list[Any] = field(default_factory=list)


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block]
    screen_only: bool = False      # contact details and other people's questions stay out of downloads


def _ladder_text(step: dict) -> str:
    return step["question"] if step["level"] == 0 else step["question"] or ", ".join(step["concepts"])


def sections(brief: Brief) -> list[Section]:
    """The brief's sections, in order: the one layout the page, the Markdown and the PDF share."""
    out = [Section("vraag", "De vraag", [Block("quote", brief.question)]
                   + ([Block("h3", "Antwoorden op de verheldering"), Block("list", items=list(brief.answers))]
                      if brief.answers else [])
                   + ([Block("notice", brief.problem)] if brief.problem else []))]
    if brief.followups:
        out.append(Section("opvolging", "Opvolgverzoeken", [Block("followups", items=brief.followups)],
                           screen_only=True))
    general = [Block("p", brief.general or "Geen algemene vraag gevonden.")]
    if brief.ladder:
        general += [Block("h3", "Ladder (van specifiek naar algemeen)"),
                    Block("olist", items=[(s["name"].capitalize(), _ladder_text(s)) for s in brief.ladder])]
    general += [Block("h3", "Concepten"),
                Block("list", items=[(level, label) for level, label in brief.concepts]) if brief.concepts
                else Block("empty", "Geen concepten herkend.")]
    if brief.dropped:
        general += [Block("h3", "Weggelaten details"), Block("list", items=[("", d) for d in brief.dropped])]
    out.append(Section("algemeen", "Algemener gesteld", general))
    open_blocks = [Block("list", items=[(f.label, f.question + (f" Bijvoorbeeld: {', '.join(f.options[:5])}."
                                                               if f.options else ""))
                                        for f in brief.open_facets])] if brief.open_facets \
        else [Block("empty", "Alle facetten zijn al in de vraag beantwoord.")]
    if brief.organisation:
        open_blocks += [Block("h3", "Organisatievragen"), Block("list", items=[("", o) for o in brief.organisation])]
    out.append(Section("open", "Nog open: vragen om te stellen", open_blocks))
    if brief.similar:
        out.append(Section("kennisrotonde", "Vergelijkbare vragen aan de Kennisrotonde",
                           [Block("list", items=[("", q) for q in brief.similar])]))
    if brief.earlier:
        out.append(Section("eerder", "Vergelijkbare eerdere vragen (alleen voor schakelaars)",
                           [Block("earlier", items=brief.earlier)], screen_only=True))
    matches = [Block("notice", n) for n in brief.notices]
    matches += [Block("matches", label, items) for _, label, items in brief.matches]
    out.append(Section("matches", f"Matches ({brief.match_count})", matches))
    out.append(Section("checklist", "Checklist voor het intakegesprek", [
        Block("meta", "Wat volgens de evaluatie van de CoP leren en ict in een intake geregeld moet zijn."),
        Block("checklist", items=[(k, label, hint, k in brief.ticked) for k, label, hint in brief.checklist])]))
    out.append(Section("notities", "Notities", [Block("notes", items=brief.notes)] if brief.notes
                       else [Block("empty", "Nog geen notities.")]))
    return out


def header_facts(brief: Brief) -> list[tuple[str, str]]:
    return [("Ontvangen", datum(brief.created)), ("Status", brief.status),
            ("Opvolgverzoeken", f"{len(brief.followups)} (contactgegevens staan in Schakel, niet in deze download)")]


# --- Markdown ---------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#!|~&])")


def md(text: Any) -> str:
    """Plain text for Markdown: one line, every character a renderer could act on backslash-escaped."""
    text = " ".join(str(text or "").split())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = re.sub(r"^([-+=])", r"\\\1", text)  # a list item, or a heading underline
    return re.sub(r"^(\d+)([.)])", r"\1\\\2", text)  # "1." at the start would begin a list


def _md_item(label: str, text: str) -> str:
    return f"**{md(label)}**: {md(text)}" if label else md(text)


def _md_match(i: int, m: BriefMatch) -> list[str]:
    status = f" ({md(m.status)})" if m.status else ""
    lines = [f"{i}. **{md(m.title)}**{status}"]
    lines += [f"    - {md(' · '.join(m.meta))}"] if m.meta else []
    lines += [f"    - Waarom: {md(m.why)}"]
    lines += [f"    - Bron: {md(m.url)}"] if m.url else []
    return lines


def _md_block(b: Block) -> list[str]:
    if b.kind == "quote":
        return [f"> {md(b.text)}", ""]
    if b.kind in ("p", "meta"):
        return [md(b.text), ""]
    if b.kind == "empty":
        return [f"_{md(b.text)}_", ""]
    if b.kind == "notice":
        return [f"**Let op:** {md(b.text)}", ""]
    if b.kind == "h3":
        return [f"### {md(b.text)}", ""]
    if b.kind == "list":
        return [f"- {_md_item(label, text)}" for label, text in b.items] + [""]
    if b.kind == "olist":
        return [f"{i}. {_md_item(label, text)}" for i, (label, text) in enumerate(b.items, start=1)] + [""]
    if b.kind == "matches":
        out = [f"### {md(b.text)} ({len(b.items)})", ""]
        for i, m in enumerate(b.items, start=1):
            out += _md_match(i, m)
        return out + (["_Geen passende resultaten._"] if not b.items else []) + [""]
    if b.kind == "checklist":
        return [f"- [{'x' if done else ' '}] **{md(label)}**: {md(hint)}" for _, label, hint, done in b.items] + [""]
    if b.kind == "notes":
        return [f"- {md(datum(n.get('created', '')))}, {md(n.get('author', ''))}: {md(n.get('text', ''))}"
                for n in b.items] + [""]
    return []


def to_markdown(brief: Brief) -> str:
    """The brief as Markdown (CommonMark): headings, lists as lists, all text escaped; no screen-only sections."""
    out = [f"# Intakebrief: vraag {brief.intake_id}", ""]
    out += [f"- {label}: {md(value)}" for label, value in header_facts(brief)] + [""]
    for section in sections(brief):
        if section.screen_only:
            continue
        out += [f"## {md(section.title)}", ""]
        for block in section.blocks:
            out += _md_block(block)
    return "\n".join(out).rstrip("\n") + "\n"


# --- PDF --------------------------------------------------------------------

def _no_fetch(url: str, *args, **kwargs):
    """WeasyPrint's URL fetcher: the brief loads nothing (no images, fonts or style sheets from outside)."""
    raise ValueError(f"the PDF of the brief loads no resources ({url[:60]})")


def to_pdf(html: str, title: str) -> bytes:
    """Print the brief's print HTML (rendered from ``sections``) as a tagged PDF/UA-1 document (WeasyPrint).

    ``html`` must be the standalone print page (``connector/brief_pdf.html``): its CSS sets A4 pages with
    "Pagina X van Y". Raises ``ImportError`` with an install hint when WeasyPrint is missing.
    """
    try:
        import weasyprint
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("the PDF of the intake brief needs WeasyPrint: pip install weasyprint") from exc
    doc = weasyprint.HTML(string=html, url_fetcher=_no_fetch, base_url="about:blank")
    return doc.write_pdf(pdf_variant="pdf/ua-1", custom_metadata=False, uncompressed_pdf=False)
