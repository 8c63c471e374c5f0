"""Explain: the ranked records of each kind become ``Match`` objects with the passage that
matched, the words to mark, the concepts and links that carried them, and their status."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.analysis import Marker, content_words, stem
from indexer.records import KINDS

from .loaded import LoadedIndex, RecordInfo
from .query import Query
from .reasons import expertise_hits, highlights, matched_terms, why
from .results import Match, PassageHit
from .topk import top_k_stable

DETAIL_FIELDS = {
    "expert": ("organisation", "role", "expertise", "email", "region", "available", "themegroups"),
    "themegroup": ("status", "focus", "open", "contact", "members", "products"),
    "literature": ("authors", "year", "publisher", "journal", "doi", "citation", "same_as"),
    "product": ("type", "made_by"),
    "kennisrotonde": ("question", "date", "short_answer"),
    "report": ("authors", "year"),
}


@dataclass
class Marks:
    """The question's words as the explanation uses them (all stems as made by ``indexer.analysis``)."""

    query_stems: set[str]           # every stem of the question
    concept_stems: set[str]         # stems of the terms of the question's best concepts
    mark_stems: set[str]            # stems worth highlighting in a passage
    query_words: dict[str, str]     # stem -> the word as the asker typed it
    term_words: dict[str, str]      # the query_words a reason may name: 3+ letters, not a number, distinctive
    term_postings: list[tuple[str, np.ndarray]]   # (word, passage rows with its stem) of the term_words in any passage
    marker: Marker                  # marks the mark_stems in the passages shown (``Analyzer.marker``)

    @classmethod
    def of(cls, index: LoadedIndex, q: Query) -> "Marks":
        """The marks of a prepared and understood ``Query``."""
        query_stems = set(q.tokens)
        concept_stems = {stem(w) for h in q.hits[:4] for t in h.concept.terms() for w in content_words(t)}
        # mark only words that say something: not those found in most passages ("studenten", "zetten")
        mark_stems = {st for st in query_stems if index.stem_is_distinctive(st)} | \
            {stem(w) for h in q.hits[:3] for t in h.terms for w in content_words(t)}
        # the reason names the concept ('gaat over ...'): its label is marked where a passage uses it, and a
        # concept found without the question's words (by embedding or in the best records) also by its
        # synonyms; their distinctive words of four letters or more ('les' of 'online lessen' would also
        # mark every 'lespraktijk')
        mark_stems |= {st for h in q.hits[:3] for t in (h.concept.terms() if not h.terms else [h.concept.label])
                       for w in content_words(t) if len(w) >= 4 for st in [stem(w)] if index.stem_is_distinctive(st)}
        query_words: dict[str, str] = {}
        for w in content_words(q.text):
            query_words.setdefault(stem(w), w)
        # checked once per question rather than per shown record (stem(w) is st: no second stemming)
        term_words = {st: w for st, w in query_words.items()
                      if len(w) >= 3 and not w.isdigit() and index.stem_is_distinctive(st)}
        term_postings = [(w, rows) for st, w in term_words.items() for rows in [index.stem_postings(st)]
                         if rows is not None]
        return cls(query_stems, concept_stems, mark_stems, query_words, term_words, term_postings,
                   index.analyzer.marker(mark_stems))


def collect(index: LoadedIndex, q: Query) -> dict[str, list[Match]]:
    """Per kind (``KINDS`` order), at most ``q.top`` matches in order of ``q.final``.

    A kind's list stops at the first record scoring at or below 0, below ``min_absolute`` or
    below ``min_relative`` times the kind's best score. A derived literature record whose corpus
    twin exists is skipped: the twin carries the score."""
    opts = q.options
    marks = Marks.of(index, q)
    out: dict[str, list[Match]] = {k: [] for k in KINDS}
    for kind in KINDS:
        rows = index.kind_rows.get(kind)
        if rows is None or not len(rows):
            continue
        scores = q.final[rows].astype(np.float64)
        best = float(scores.max())
        # only the rows the loop below can reach, in the same (stable) order
        rows = rows[(scores > 0) & (scores >= opts.min_absolute) & (scores >= opts.min_relative * best)]
        for row in _best_first(rows, q.final[rows], q.top):
            rec = index.record_list[int(row)]
            score = float(q.final[row])
            if score <= 0 or score < opts.min_absolute or score < opts.min_relative * best:
                break
            if rec.derived_from and rec.fields.get("same_as") in index.records:
                continue
            out[kind].append(make_match(index, q, marks, rec, score))
            if len(out[kind]) >= q.top:
                break
    return out


def _best_first(rows: np.ndarray, scores: np.ndarray, wanted: int):
    """ROWS in order of SCORES (same shape), highest first and equal scores in ROWS' order, as the stable sort of
    all of them gives; sorts a few more than WANTED at a time (``top_k_stable``), for a caller that usually
    stops after WANTED (each kind has up to 80,000 rows at 10^6 passages, and a full sort took 3.5 ms)."""
    done, size = 0, max(1, 2 * wanted)
    while done < len(rows):
        size = min(len(rows), size)
        order = top_k_stable(scores, size)     # its first DONE are the ones already given, in the same order
        yield from rows[order[done:]]
        done, size = size, 2 * size


def make_match(index: LoadedIndex, q: Query, marks: Marks, rec: RecordInfo, score: float) -> Match:
    """One record as a ``Match``: its best passage with highlights, the question words and concepts
    it shares, the linked records that added to its score, its status and a one-line reason."""
    prow = q.scores.best_passage_of(rec.row)
    passages = []
    if prow >= 0:
        passages.append(PassageHit(text=index.passage_text[prow], source=rec.source, page=index.passage_page[prow],
                                   heading=index.passage_heading[prow],
                                   highlights=highlights(index, prow, marks.marker)))
    terms = matched_terms(rec, marks.term_postings)
    rec_concepts = index.record_concepts(rec.id)
    concepts = [h.concept.label for h in q.hits[:5] if h.index in rec_concepts]
    via = q.via.get(rec.id, [])
    linked, seen_links = [], set()
    for o, rel in index.neighbours(rec.id):
        if o in via and o not in seen_links:
            seen_links.add(o)
            if rel == "same_as_of":
                # the derived twin is this same work as an answer cites it: name that answer, not the work again
                linked += [(index.records[a].title, "cited_by") for a, r in index.neighbours(o)
                           if r == "cited_by" and a in index.records][:1]
            else:
                linked.append((index.records[o].title, rel))
    status = rec.status
    expertise = expertise_hits(rec, marks.query_stems, marks.concept_stems) if rec.kind == "expert" else []
    return Match(id=rec.id, kind=rec.kind, title=rec.title, score=score,
                 why=why(rec, concepts, terms, expertise, linked, status), url=rec.url,
                 passages=passages, concepts=concepts, terms=terms, status=status,
                 details=details(rec), via=list(via))


def details(rec: RecordInfo) -> dict:
    """The kind's display fields (``DETAIL_FIELDS``) present in the record, plus ``derived_from``."""
    d = {k: rec.fields[k] for k in DETAIL_FIELDS.get(rec.kind, ()) if k in rec.fields}
    if rec.derived_from:
        d["derived_from"] = rec.derived_from
    return d
