"""Kennisrotonde answers: their sections, and a literature record for each consulted source.

An answer has the sections ``## Kort antwoord``, ``## Toelichting`` and ``## Geraadpleegde bronnen``;
every line under the last becomes a ``literature`` record (id ``kr-bron-<hash of the line>``) linked
to the answer, parsed best-effort as an APA-like reference.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

from .readers import strip_list_marker
from .records import Block, Record

KR_SECTIONS = {"kort antwoord": "short_answer", "toelichting": "explanation",
               "geraadpleegde bronnen": "sources"}



_SOURCE_YEAR = re.compile(r"^(?P<authors>.*?)\s*\((?P<year>\d{4})[a-z]?(?:,[^)]*)?\)\.?\s*(?P<rest>.*)$")


# between two authors: ';', '&' / 'en' / 'and' (with or without a comma before it), or the comma after
# someone's initials ("Guo, P. J., Kim, J.")
_AUTHOR_SEP = re.compile(r"\s*;\s*|,?\s+(?:&|en|and)\s+|(?<=\.),\s*(?=[^\W\d_])")


def split_authors(text: str) -> list[str]:
    """'Guo, P. J., Kim, J., & Rubin, R.' -> ['Guo, P. J.', 'Kim, J.', 'Rubin, R.'] (drops 'et al.')."""
    parts = (a.strip().strip(",").strip() for a in _AUTHOR_SEP.split(text))
    return [a for a in parts if a and not re.fullmatch(r"(?i)et\.? al\.?|e\.a\.", a)]


def parse_source_line(line: str) -> dict[str, Any]:
    """Best-effort APA-ish parse: 'Authors (2012). Title. Publisher.'"""
    line = strip_list_marker(line)
    out: dict[str, Any] = {"citation": line}
    m = _SOURCE_YEAR.match(line)
    if m:
        out["year"] = int(m.group("year"))
        authors = m.group("authors").strip().rstrip(",")
        if authors:
            out["authors"] = split_authors(authors)
        rest = m.group("rest")
        title, _, tail = rest.partition(". ")
        out["title"] = title.strip().rstrip(".") or line
        if tail.strip():
            out["publisher"] = tail.strip().rstrip(".")
    else:
        out["title"] = line.rstrip(".")
    return out


def kennisrotonde_parts(record: Record) -> tuple[dict[str, str], list[str]]:
    """({section key: text} for the known sections, the source lines under 'Geraadpleegde bronnen')."""
    sections: dict[str, list[str]] = {}
    for block in record.blocks:
        key = KR_SECTIONS.get((block.heading or "").strip().lower().rstrip(":"))
        if key:
            sections.setdefault(key, []).append(block.text)
    texts = {k: "\n\n".join(v) for k, v in sections.items()}
    sources = []
    for line in texts.get("sources", "").splitlines():
        line = strip_list_marker(line)
        if len(line) >= 8:
            sources.append(line)
    return texts, sources


def derived_literature(answer: Record, warn: list[str]) -> list[Record]:
    """One literature record per source line of a Kennisrotonde answer, linked both ways (cites /
    cited_by); sets the answer's ``short_answer``; a missing section is a warning in ``warn``."""
    texts, sources = kennisrotonde_parts(answer)
    missing = [name for name, key in (("Kort antwoord", "short_answer"), ("Toelichting", "explanation"),
                                      ("Geraadpleegde bronnen", "sources")) if key not in texts]
    if missing:
        warn.append("Kennisrotonde answer lacks section(s): " + ", ".join(f"'## {m}'" for m in missing))
    answer.fields["short_answer"] = texts.get("short_answer", "")
    out = []
    for line in sources:
        parsed = parse_source_line(line)
        digest = hashlib.sha1(re.sub(r"\W+", " ", line.lower()).strip().encode()).hexdigest()[:10]
        rid = f"kr-bron-{digest}"
        fields = {k: v for k, v in parsed.items() if k not in ("title",)}
        fields["title"] = parsed["title"]
        rec = Record(id=rid, kind="literature", title=parsed["title"], source=answer.source,
                     body=line,
                     fields=fields, derived_from=answer.id)
        rec.blocks = [Block(text=rec.body)]
        rec.links.append((answer.id, "cited_by"))
        answer.links.append((rid, "cites"))
        out.append(rec)
    return out


