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

from collections.abc import Mapping

import numpy as np

from .knobs import K, relation_weights
from .loaded import LoadedIndex
from .topk import top_k

# p(d|e): how much a linked record's score says about this one, by (kind, relation): the knobs link_*.


def neighbours(index: LoadedIndex, rid: str) -> list[tuple[str, str]]:
    """(other id, relation seen from rid) for every link touching rid; see ``LoadedIndex.neighbours``."""
    return index.neighbours(rid)


def weighted_links(index: LoadedIndex) -> list[tuple[int, list[tuple[int, float, str]]]]:
    """Per record with links: (row, [(neighbour row, association weight, neighbour id)]).

    Model 2's association a(d, e) (Balog, Azzopardi & De Rijke 2006) by kind of relation
    (``knobs.relation_weights``, the knobs ``link_*``: author, maker, member, mention, ...). A record linked to the same
    neighbour by several relations (member and contact of one group) keeps the strongest one:
    one document is one piece of evidence. Each weight is then divided by the neighbour's spread,
    (number of records of this kind it is associated with) ** knob ``link_spread_power``: the document-
    centric normalisation p(e|d) of Model 2 (for documents; experts and groups pass their
    evidence on whole), so a report that mentions fourteen people lends each
    of them less than a product made by one.
    """
    weights = relation_weights()
    best: dict[int, dict[int, tuple[float, str]]] = {}
    for row, edges in index.neighbour_rows:
        kind = index.record_list[row].kind
        for o, rel, oid in edges:
            w = weights.get((kind, rel), 0.0)
            if w and w > best.setdefault(row, {}).get(o, (0.0, ""))[0]:
                best[row][o] = (w, oid)
    spread: dict[tuple[int, str], int] = {}
    for row, edges in best.items():
        kind = index.record_list[row].kind
        for o in edges:
            spread[(o, kind)] = spread.get((o, kind), 0) + 1
    out = []
    for row, edges in best.items():
        kind = index.record_list[row].kind
        out.append((row, [(o, w / _spread(index, spread, o, kind), oid) for o, (w, oid) in edges.items()]))
    return out


def _spread(index: LoadedIndex, spread: dict[tuple[int, str], int], o: int, kind: str) -> float:
    # people and groups pass on what they are about whole; a document shares it among its candidates
    if index.record_list[o].kind in PEOPLE_KINDS:
        return 1.0
    return spread[(o, kind)] ** K.link_spread_power


def document_prior(index: LoadedIndex) -> np.ndarray:
    """p(d) per record row, 0..1: 1 for a record about a few topics, lower for a hub that spans many.

    prior = min(1, (doc_prior_span * median concepts per record / the record's concepts) ** 0.5); a
    long report touching eighty thesaurus concepts in a corpus whose median record has seven gets
    about 0.4. The prior weighs what a record lends to linked people and groups, not its own rank.
    Computed once per index and value of the knob (``_memo``).
    """
    return _memo(index, ("document_prior", K.doc_prior_span), lambda: _document_prior(index))


def _document_prior(index: LoadedIndex) -> np.ndarray:
    counts = np.array([len(index.record_concepts(r.id)) for r in index.record_list], np.float32)
    if not len(counts):
        return counts
    typical = max(1.0, float(np.median(counts))) * K.doc_prior_span
    return np.minimum(1.0, np.sqrt(typical / np.maximum(counts, 1.0))).astype(np.float32)


def _memo(index: LoadedIndex, key: tuple, make):
    """``make()`` computed once per loaded index and KEY (which names the knob values it depends on), kept
    on the index object itself, so a new build starts afresh. Concurrent first calls may both compute;
    the results are equal."""
    memo = index.__dict__.setdefault("_entities_memo", {})
    value = memo.get(key)
    if value is None:
        value = memo[key] = make()
    return value


class LinkTable:
    """``weighted_links`` as flat arrays, one entry per (record, neighbour): ``rows`` (record row),
    ``others`` (neighbour row), ``weights`` (float64 association) and ``order_key`` (per record row,
    int64: the rank of its id among all ids, to order equal contributions as a sort of (score, id)
    tuples does)."""

    def __init__(self, index: LoadedIndex):
        rows, others, weights = [], [], []
        for row, edges in weighted_links(index):
            for o, w, _ in edges:
                rows.append(row)
                others.append(o)
                weights.append(w)
        self.rows = np.array(rows, np.int64)
        self.others = np.array(others, np.int64)
        self.weights = np.array(weights, np.float64)
        ids = [r.id for r in index.record_list]
        self.order_key = np.empty(len(ids), np.int64)
        self.order_key[np.argsort(np.array(ids, dtype=object), kind="stable")] = np.arange(len(ids))
        self.ids = ids


def link_table(index: LoadedIndex) -> LinkTable:
    """The index's ``LinkTable`` for the current link knobs, built once per index and knob values."""
    key = ("links", tuple(sorted(relation_weights().items())), K.link_spread_power)
    return _memo(index, key, lambda: LinkTable(index))


def propagate(index: LoadedIndex, own: np.ndarray, strength: float = 1.0) -> tuple[np.ndarray, "Via"]:
    """Model 2 evidence from linked records: (final score per record row, shape (n records,);
    record id -> ids of the linked records that added to it, a read-only mapping).

    score(e) = own(e) + strength * sum_i 0.5**i * c_i over the four largest contributions
    c = min(link_doc_cap, a(d, e) * p(d) * own(d)) of linked records d (``weighted_links``,
    ``document_prior``); ``own`` are the records' fused scores (0..~1.5). The cap keeps one
    document from carrying a candidate on its own; the halving keeps many weak links from beating
    one strong match. Source: Balog, Azzopardi & De Rijke (2006), Formal models for expert finding
    in enterprise corpora, SIGIR (Model 2, document-centric).

    Vectorised over the links whose document scores above 0 (``LinkTable``): the contributions are
    sorted per record as (score, id) tuples would be, and summed per record in that order
    (``np.bincount``), so the result equals a Python loop over the links.
    """
    final = own.copy()
    table = link_table(index)
    prior = document_prior(index)
    own_linked = own[table.others]
    live = own_linked > 0
    rows, others = table.rows[live], table.others[live]
    contrib = np.minimum(K.link_doc_cap, table.weights[live] * prior[others].astype(np.float64)
                         * own_linked[live].astype(np.float64))
    order = np.lexsort((-table.order_key[others], -contrib, rows))
    rows, others, contrib = rows[order], others[order], contrib[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else np.zeros(0, np.int64)
    rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    top = rank < K.link_max
    add = np.bincount(rows[top], weights=contrib[top] * K.link_decay ** rank[top].astype(np.float64),
                      minlength=len(own))
    linked = rows[starts]
    final[linked] += (strength * add[linked]).astype(final.dtype)
    return final, Via(table.ids, index.records, rows[rank < 3], others[rank < 3], contrib[rank < 3])


class Via(Mapping):
    """Record id -> ids of at most three linked records that added more than 0.05 to its score (best
    first), for every record that gained from a link (possibly []). Built per question from
    ``propagate``'s sorted contributions; a record's list is made when asked for."""

    def __init__(self, ids: list[str], records: dict, rows: np.ndarray, others: np.ndarray, contrib: np.ndarray):
        self._ids, self._records = ids, records
        self._rows, self._others, self._contrib = rows, others, contrib

    def __getitem__(self, rid: str) -> list[str]:
        rec = self._records.get(rid)
        if rec is None:
            raise KeyError(rid)
        lo, hi = np.searchsorted(self._rows, [rec.row, rec.row + 1])
        if lo == hi:
            raise KeyError(rid)
        return [self._ids[o] for o, c in zip(self._others[lo:hi], self._contrib[lo:hi]) if c > 0.05]

    def __iter__(self):
        return iter([self._ids[r] for r in np.unique(self._rows)])

    def __len__(self) -> int:
        return len(np.unique(self._rows))


def availability(index: LoadedIndex, scores: np.ndarray) -> np.ndarray:
    """Scores with unavailable experts and stopped theme groups (``LoadedIndex.inactive_rows``)
    multiplied by knob ``inactive_factor``, after all evidence is in: they stay findable, but an active
    record with comparable evidence ranks above them."""
    rows = index.inactive_rows
    if not len(rows):
        return scores
    out = scores.copy()
    out[rows] *= K.inactive_factor
    return out


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
    docs = _memo(index, ("docs",), lambda: np.nonzero(~np.isin(index.kinds, PEOPLE_KINDS))[0])
    if not len(docs):
        return out
    top = docs[top_k(scores[docs], K.support_doc_depth)]
    best = float(scores[top[0]])
    if best <= 0:
        return out
    profile = np.zeros(len(index.concepts), np.float32)
    for d in top:
        if scores[d] >= K.support_doc_share * best:
            profile += float(scores[d]) * index.record_concept_vector(int(d))
    if not profile.any():
        return out
    supported = _memo(index, ("supported",), lambda: np.nonzero(np.isin(index.kinds, SUPPORTED_KINDS))[0])
    if len(supported) > K.support_candidates:  # large corpora: only the records already in the running
        supported = supported[top_k(scores[supported], K.support_candidates)]
    if not len(supported):
        return out
    matrix = np.stack([index.record_concept_vector(int(r)) for r in supported])
    out[supported] = strength * (matrix @ profile) / K.support_doc_depth
    return out


def uncovered_concepts(index: LoadedIndex, hits: list) -> list:
    """The question's core concepts (``Concept``) when no expert covers any of them; else [].

    Core concepts are the top two ``ConceptHit``s found by their words (not only by embedding).
    An expert covers a concept when the concept or a narrower one occurs in the expert's own
    profile or in work they wrote (``LoadedIndex.expert_concepts``); a theme group that merely
    mentions the topic does not count. When knowledge exists but no expert covers the core,
    Schakel says so instead of presenting the nearest expert as a match.
    """
    core = [h for h in hits[:2] if h.lexical >= K.core_min_lexical]
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
