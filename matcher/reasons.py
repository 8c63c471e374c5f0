"""Why a record matched, in one short Dutch line, and which words to mark."""
from __future__ import annotations

import numpy as np

from indexer.analysis import Marker, stem
from indexer.conceptterms import GENERIC

from .loaded import LoadedIndex, RecordInfo

RELATION_PHRASES = {
    "member_of": "lid van {}", "contact_of": "contactpersoon van {}", "made": "maakte {}",
    "made_by": "gemaakt door {}", "contact": "contact: {}", "has_member": "met lid {}",
    "cited_by": "aangehaald in {}", "author_of": "schreef {}", "mentioned_in": "genoemd in {}",
    "has_author": "geschreven door {}", "mentions": "noemt {}", "cites": "haalt {} aan",
}


def highlights(index: LoadedIndex, row: int, marker: Marker) -> list[tuple[int, int]]:
    """Merged (start, end) character offsets in passage ROW of the words whose stems MARKER marks
    (``Analyzer.marker``: one per question, shared by the passages it shows)."""
    if not marker.stems:
        return []
    spans = marker.spans(index.passage_text[row])
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def matched_terms(rec: RecordInfo, term_postings: list[tuple[str, np.ndarray]]) -> list[str]:
    """Question words (as the user typed them) that occur in the record. TERM_POSTINGS: (word, the passage
    rows with its stem, ``LoadedIndex.stem_postings``) per question word, looked up once per question."""
    return [w for w, rows in term_postings if LoadedIndex.record_in_postings(rec, rows)]


def expertise_hits(rec: RecordInfo, query_stems: set[str], concept_terms: set[str]) -> list[str]:
    """The expert's ``expertise`` items that share a stem with the question or its concepts."""
    items = rec.fields.get("expertise") or []
    hits = []
    for item in items:
        item_stems = {stem(w) for w in item.lower().split()}
        if item_stems & query_stems or item_stems & concept_terms:
            hits.append(item)
    return hits


#: Question words too common to be evidence on their own ("noemt ‘blijft’ en ‘vak’" explains nothing).
FILLER = frozenset("""blijft blijven vak vakken doen maken gaan krijgen komen zetten werken willen kunnen moeten
staan houden geven nemen zien vinden goed beter veel meer nieuwe eigen andere manier vraag vragen iets echt""".split())


def _evidence(terms: list[str]) -> list[str]:
    return [t for t in terms if len(t) > 3 and t.lower() not in FILLER and t.lower() not in GENERIC]


def why(rec: RecordInfo, concepts: list[str], terms: list[str], expertise: list[str],
        via: list[tuple[str, str]], status: str | None) -> str:
    """One short Dutch sentence: expertise, concepts or (failing those) telling question words, then at most two
    linked records with their titles in quotes. The record's own status, if any, comes first, as a sentence of
    its own (so it cannot be read as the status of the last linked record), and for an unavailable expert or a
    stopped group also that its score was lowered for that reason."""
    terms = _evidence(terms)
    parts = []
    if expertise:
        parts.append("expertise: " + ", ".join(expertise[:3]))
    if concepts:
        parts.append("gaat over " + _join(concepts[:3]))
    elif terms:
        parts.append("noemt " + _join([f"‘{t}’" for t in terms[:4]]))
    for title, rel in via[:2]:
        phrase = RELATION_PHRASES.get(rel)
        if phrase:
            parts.append(phrase.format(f"‘{title}’"))
    if not parts:
        parts.append("inhoudelijk verwant aan de vraag (betekenis, niet dezelfde woorden)")
    text = "; ".join(parts)
    text = text[0].upper() + text[1:]
    if status:
        # an inactive record's score is lowered on purpose (entities.availability): say so. Not "ranked lower":
        # with much more evidence than the active ones it can still come first (the demo's kennisclips question)
        lead = f"{status}: score daarom verlaagd." if not rec.active else f"{status}."
        text = lead[0].upper() + lead[1:] + " " + text
    return text


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " en " + items[-1]
