"""Links between records made at index time: a cited work and its corpus record (``same_as``), experts and
the documents they wrote or are named in (Model 2's p(d|e), Balog et al. 2006), a theme group's contact,
and the theme groups named in an expert's profile (document expansion)."""
from __future__ import annotations

import re

from .records import Record


PARTICLES = {"van", "der", "den", "de", "het", "ten", "ter", "von", "le", "la", "du", "et", "al", "and", "en"}


def _name_words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[^\W\d_]{3,}", text) if w.lower() not in PARTICLES]


def link_same_as(records: list[Record]) -> None:
    """Link literature made from Kennisrotonde source lines to a corpus record of the same work:
    same year and the citation's first surname among the words of the record's first author."""
    by_year: dict[int, list[tuple[set[str], str]]] = {}
    for r in records:
        if r.kind == "literature" and not r.derived_from and r.fields.get("year") and r.fields.get("authors"):
            by_year.setdefault(int(r.fields["year"]), []).append((set(_name_words(r.fields["authors"][0])), r.id))
    for r in records:
        if not r.derived_from or not r.fields.get("year"):
            continue
        words = _name_words(r.fields.get("citation", ""))
        if not words:
            continue
        for names, target in by_year.get(int(r.fields["year"]), []):
            if words[0] in names:
                r.fields["same_as"] = target
                r.links.append((target, "same_as"))
                break


def link_people(records: list[Record]) -> None:
    """Associate experts with the documents they wrote or are named in (Model 2's p(d|e)),
    and resolve a theme group's free-text contact to an expert of that name."""
    experts = [r for r in records if r.kind == "expert" and len(str(r.fields.get("name", "")).split()) >= 2]
    if not experts:
        return
    by_name = {str(e.fields["name"]).strip().lower(): e for e in experts}
    ids = {r.id for r in records}
    for r in records:
        if r.kind == "themegroup" and r.fields.get("contact") and str(r.fields["contact"]) not in ids:
            e = by_name.get(str(r.fields["contact"]).strip().lower())
            if e:
                r.links.append((e.id, "contact"))
        if r.kind == "expert":
            continue
        authors = {a.strip().lower() for a in r.fields.get("authors", []) if isinstance(a, str)}
        body = r.body.lower()
        for name, e in by_name.items():
            if name in authors:
                e.links.append((r.id, "author_of"))
            elif name in body:
                e.links.append((r.id, "mentioned_in"))


def add_group_context(records: list[Record]) -> None:
    """Document expansion: an expert's profile names the theme groups they belong to, with their focus,
    so a question about the group's topic also finds its members."""
    groups = {r.id: r for r in records if r.kind == "themegroup"}
    for r in records:
        if r.kind != "expert":
            continue
        for gid in r.fields.get("themegroups", []):
            g = groups.get(gid)
            if g is not None:
                focus = str(g.fields.get("focus") or "").strip()
                r.context.append(f"{g.title}" + (f" ({focus})" if focus else ""))
