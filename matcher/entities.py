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

from .knobs import K, relation_weights
from .loaded import LoadedIndex

# p(d|e): how much a linked record's score says about this one, by (kind, relation): the knobs link_*.


def neighbours(index: LoadedIndex, rid: str) -> list[tuple[str, str]]:
    """(other id, relation seen from rid) for every link touching rid."""
    out = list(index.links_out.get(rid, ()))
    for src, rel in index.links_in.get(rid, ()):
        if rel == "member_of":
            out.append((src, "has_member"))
        elif rel == "contact":
            out.append((src, "contact_of"))
        elif rel == "same_as":
            out.append((src, "same_as_of"))
        elif rel == "made":
            out.append((src, "made_by"))
        elif rel == "made_by":
            out.append((src, "made"))
        elif rel == "cites":
            out.append((src, "cited_by"))
        elif rel == "author_of":
            out.append((src, "has_author"))
        elif rel == "mentioned_in":
            out.append((src, "mentions"))
    return out


def weighted_links(index: LoadedIndex) -> list[tuple[int, list[tuple[int, float, str]]]]:
    """Per record with links: (row, [(neighbour row, p(d|e) weight, neighbour id)]), built once per index."""
    cached = getattr(index, "_weighted_links", None)
    if cached is None:
        cached = []
        weights = relation_weights()
        for rec in index.record_list:
            edges = []
            for other, rel in neighbours(index, rec.id):
                w = weights.get((rec.kind, rel))
                o = index.records.get(other)
                if w and o is not None:
                    edges.append((o.row, w, other))
            if edges:
                cached.append((rec.row, edges))
        index._weighted_links = cached
    return cached


def inactive_rows(index: LoadedIndex) -> np.ndarray:
    cached = getattr(index, "_inactive_rows", None)
    if cached is None:
        cached = index._inactive_rows = np.array([r.row for r in index.record_list if not r.active], dtype=np.int64)
    return cached


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
        add = sum(c * (K.link_decay ** i) for i, (c, _) in enumerate(contrib[:K.link_max]))
        final[row] += strength * add
        via[index.record_list[row].id] = [other for c, other in contrib[:3] if c > 0.05]
    rows = inactive_rows(index)
    if len(rows):
        final[rows] *= K.inactive_factor
    return final, via


PEOPLE_KINDS = ("expert", "themegroup")
SUPPORTED_KINDS = ("expert", "themegroup", "literature", "product")   # measured: kr and reports do not gain


def concept_support(index: LoadedIndex, scores: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """Topic-level association: experts, theme groups, literature and products gain from the best
    documents that share their concepts, even without an explicit link (an adviser on learning
    analytics supports a question whose best answer is about early warning from study-progress data).

    bonus(e) = strength * sum_d s_d * cos(C(e), C(d)) / support_doc_depth over the top documents d, where s_d
    is the document's own score (so weak documents give little) and cos the idf-weighted cosine of
    the two concept sets (so a record with many concepts gets no free ride).
    """
    out = np.zeros_like(scores)
    if strength <= 0 or not len(scores):
        return out
    docs = np.nonzero(~np.isin(index.kinds, PEOPLE_KINDS))[0]
    if not len(docs):
        return out
    top = docs[np.argsort(-scores[docs])[:K.support_doc_depth]]
    best = float(scores[top[0]])
    if best <= 0:
        return out
    profile = np.zeros(len(index.concepts), np.float32)
    for d in top:
        if scores[d] >= K.support_doc_share * best:
            profile += float(scores[d]) * concept_vector(index, int(d))
    if not profile.any():
        return out
    supported = np.nonzero(np.isin(index.kinds, SUPPORTED_KINDS))[0]
    if len(supported) > K.support_candidates:  # large corpora: only the records already in the running
        supported = supported[np.argsort(-scores[supported])[:K.support_candidates]]
    if not len(supported):
        return out
    matrix = np.stack([concept_vector(index, int(r)) for r in supported])
    out[supported] = strength * (matrix @ profile) / K.support_doc_depth
    return out


def concept_vector(index: LoadedIndex, row: int) -> np.ndarray:
    """A record's concepts as an idf-weighted unit vector over the thesaurus; cached per record."""
    cache = getattr(index, "_concept_vectors_by_row", None)
    if cache is None:
        cache = index._concept_vectors_by_row = {}
    vec = cache.get(row)
    if vec is None:
        vec = np.zeros(len(index.concepts), np.float32)
        found = list(index.record_concepts(index.record_list[row].id))
        if found:
            vec[found] = index.concept_idf()[found]
            vec /= np.linalg.norm(vec)
        cache[row] = vec
    return vec
