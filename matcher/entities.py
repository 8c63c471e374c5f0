"""Entity-level ranking: people and groups are scored with the work linked to them.

An expert's score combines their own profile with the records they are linked
to (theme groups they belong to or are the contact of, products of those
groups, answers they are named in): the document-centric "Model 2" of Balog,
Azzopardi & De Rijke (2006), p(q|e) = sum_d p(q|d) p(d|e), with p(d|e) a
weight per relation. Theme groups gain from their products, contact and
members; literature from the Kennisrotonde answers that cite it; a derived
literature record (a cited source line) hands its score to the corpus record
of the same work.
"""
from __future__ import annotations

import numpy as np

from .loaded import LoadedIndex

# p(d|e): how much a linked record's score says about this one, by (kind, relation).
RELATION_WEIGHTS = {
    ("expert", "member_of"): 0.30,      # expert -> theme group
    ("expert", "contact_of"): 0.40,     # expert is the contact of a theme group
    ("expert", "author_of"): 0.40,      # expert wrote a report, product or answer
    ("expert", "mentioned_in"): 0.20,   # expert is named in a document
    ("themegroup", "made"): 0.35,       # group -> its products
    ("themegroup", "contact"): 0.30,    # group -> contact expert
    ("themegroup", "has_member"): 0.25, # group <- member experts
    ("product", "made_by"): 0.30,
    ("literature", "cited_by"): 0.35,
    ("literature", "same_as_of"): 1.0,  # the corpus record takes its derived twin's evidence
    ("kennisrotonde", "cites"): 0.15,
}
INACTIVE_FACTOR = 0.8


def neighbours(index: LoadedIndex, rid: str) -> list[tuple[str, str]]:
    """(other id, relation seen from rid) for every link touching rid; see ``LoadedIndex.neighbours``."""
    return index.neighbours(rid)


def weighted_links(index: LoadedIndex) -> list[tuple[int, list[tuple[int, float, str]]]]:
    """Per record with links: (row, [(neighbour row, p(d|e) weight, neighbour id)]) for the
    relations that carry evidence to that record's kind (``RELATION_WEIGHTS``)."""
    out = []
    for row, edges in index.neighbour_rows:
        kind = index.record_list[row].kind
        weighted = [(o, RELATION_WEIGHTS[(kind, rel)], oid) for o, rel, oid in edges
                    if RELATION_WEIGHTS.get((kind, rel))]
        if weighted:
            out.append((row, weighted))
    return out


def propagate(index: LoadedIndex, own: np.ndarray, strength: float = 1.0) -> tuple[np.ndarray, dict[str, list[str]]]:
    """Final score per record and, per record, the linked ids that added to it."""
    final = own.copy()
    via: dict[str, list[str]] = {}
    for row, edges in weighted_links(index):
        contrib = [(w * float(own[o]), other) for o, w, other in edges if own[o] > 0]
        if not contrib:
            continue
        contrib.sort(reverse=True)
        # strongest link counts fully, the rest with diminishing weight (a group with many weak links
        # should not beat one strong match)
        add = sum(c * (0.5 ** i) for i, (c, _) in enumerate(contrib[:4]))
        final[row] += strength * add
        via[index.record_list[row].id] = [other for c, other in contrib[:3] if c > 0.05]
    rows = index.inactive_rows
    if len(rows):
        final[rows] *= INACTIVE_FACTOR
    return final, via


PEOPLE_KINDS = ("expert", "themegroup")
SUPPORTED_KINDS = ("expert", "themegroup", "literature", "product")   # measured: kr and reports do not gain
DOC_DEPTH = 8
SUPPORT_CANDIDATES = 400


def concept_support(index: LoadedIndex, scores: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """Topic-level association: experts, theme groups, literature and products gain from the best
    documents that share their concepts, even without an explicit link (an adviser on learning
    analytics supports a question whose best answer is about early warning from study-progress data).

    bonus(e) = strength * sum_d s_d * cos(C(e), C(d)) / DOC_DEPTH over the top documents d, where s_d
    is the document's own score (so weak documents give little) and cos the idf-weighted cosine of
    the two concept sets (so a record with many concepts gets no free ride).
    """
    out = np.zeros_like(scores)
    if strength <= 0 or not len(scores):
        return out
    docs = np.nonzero(~np.isin(index.kinds, PEOPLE_KINDS))[0]
    if not len(docs):
        return out
    top = docs[np.argsort(-scores[docs])[:DOC_DEPTH]]
    best = float(scores[top[0]])
    if best <= 0:
        return out
    profile = np.zeros(len(index.concepts), np.float32)
    for d in top:
        if scores[d] >= 0.5 * best:
            profile += float(scores[d]) * index.record_concept_vector(int(d))
    if not profile.any():
        return out
    supported = np.nonzero(np.isin(index.kinds, SUPPORTED_KINDS))[0]
    if len(supported) > SUPPORT_CANDIDATES:  # large corpora: only the records already in the running
        supported = supported[np.argsort(-scores[supported])[:SUPPORT_CANDIDATES]]
    if not len(supported):
        return out
    matrix = np.stack([index.record_concept_vector(int(r)) for r in supported])
    out[supported] = strength * (matrix @ profile) / DOC_DEPTH
    return out


CORE_MIN_LEXICAL = 0.8


def uncovered_concepts(index: LoadedIndex, hits: list) -> list:
    """The question's core concepts (``Concept``) when no expert covers any of them; else [].

    Core concepts are the top two ``ConceptHit``s found by their words (not only by embedding).
    An expert covers a concept when the concept or a narrower one occurs in the expert's own
    profile or in work they wrote (``LoadedIndex.expert_concepts``); a theme group that merely
    mentions the topic does not count. When knowledge exists but no expert covers the core,
    Schakel says so instead of presenting the nearest expert as a match.
    """
    core = [h for h in hits[:2] if h.lexical >= CORE_MIN_LEXICAL]
    if not core:
        return []
    covered = index.expert_concepts
    if not covered:
        return []
    for h in core:
        wanted = {h.index} | {i for i, c in enumerate(index.concepts) if h.concept.id in c.broader}
        if covered & wanted:
            return []
    return [h.concept for h in core]
