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
from .topk import top_k, top_set

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
    """``weighted_links`` as flat arrays, one entry per (record, neighbour), grouped by record: ``rows``
    (record row, ascending), ``others`` (neighbour row), ``weights`` (float64 association); per group
    ``starts`` (first entry) and ``group_rows`` (its record row), per entry ``group`` (its group)."""

    def __init__(self, index: LoadedIndex):
        rows, others, weights = [], [], []
        for row, edges in weighted_links(index):
            for o, w, _ in edges:
                rows.append(row)
                others.append(o)
                weights.append(w)
        order = np.argsort(np.array(rows, np.int64), kind="stable")
        self.rows = np.array(rows, np.int64)[order]
        self.others = np.array(others, np.int64)[order]
        self.weights = np.array(weights, np.float64)[order]
        self.starts = np.flatnonzero(np.r_[True, self.rows[1:] != self.rows[:-1]]) if len(rows) \
            else np.zeros(0, np.int64)
        self.group_rows = self.rows[self.starts]
        sizes = np.diff(np.r_[self.starts, len(rows)])
        self.group = np.repeat(np.arange(len(self.starts)), sizes)
        self.ids = [r.id for r in index.record_list]
        #: the groups laid out as padded tables, one per width (1, 2, 4, 8, ...: each group in the narrowest that
        #: holds it): (group numbers, (groups, width) entry numbers, len(rows) where padded)
        self.tables: list[tuple[np.ndarray, np.ndarray]] = []
        width, lo = 1, 0
        while lo < (int(sizes.max()) if len(sizes) else 0):
            groups = np.flatnonzero((sizes > lo) & (sizes <= width))
            if len(groups):
                offsets = np.arange(width)
                entries = self.starts[groups][:, None] + offsets
                self.tables.append((groups, np.where(offsets < sizes[groups][:, None], entries, len(rows))))
            lo, width = width, 2 * width


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

    Vectorised over all links at once (``LinkTable``): each record's contributions are laid out as a row of a
    padded table (groups of similar size share one); the ``link_max`` largest per row are taken by
    ``np.partition`` and sorted, and added column by column times decay**i, which is the sum over the sorted
    contributions, term by term, that a loop per record makes (bit-identical: ``tests/test_entities.py``).
    """
    final = own.copy()
    table = link_table(index)
    if not len(table.rows):
        return final, Via(table, np.zeros(0), index.records)
    prior = document_prior(index)
    own_linked = own[table.others]
    contrib = np.minimum(K.link_doc_cap, table.weights * prior[table.others].astype(np.float64)
                         * own_linked.astype(np.float64))
    contrib = np.where(own_linked > 0, contrib, -np.inf)   # a linked record without evidence adds nothing
    padded = np.append(contrib, -np.inf)           # the tables' padding points at the last entry
    add = np.zeros(len(table.starts), np.float64)
    linked = np.zeros(len(table.starts), bool)
    most = K.link_max
    for groups, entries in table.tables:
        values = padded[entries]
        k = min(most, values.shape[1])
        if k <= 0:
            linked[groups] = values.max(axis=1) > -np.inf
            continue
        if k < values.shape[1]:
            values = -np.partition(-values, k - 1, axis=1)[:, :k]
        if k > 1:
            values = -np.sort(-values, axis=1)      # largest first; -inf (none left) last
        linked[groups] = values[:, 0] > -np.inf
        total = np.zeros(len(groups), np.float64)
        for i in range(k):
            column = values[:, i]
            # adding 0.0 where none is left changes no sum (the loop adds nothing there)
            total += np.where(column > -np.inf, column * K.link_decay ** i, 0.0)
        add[groups] = total
    rows = table.group_rows[linked]
    final[rows] += (strength * add[linked]).astype(final.dtype)
    return final, Via(table, contrib, index.records)


class Via(Mapping):
    """Record id -> ids of at most three linked records that added more than 0.05 to its score (best
    first; equal contributions by id, last first), for every record with a linked record that has
    evidence (possibly []). Made per record when asked for, from ``propagate``'s contributions
    (-inf: no evidence), so a question pays only for the records it shows."""

    def __init__(self, table: LinkTable, contrib: np.ndarray, records: dict):
        self._table, self._contrib, self._records = table, contrib, records

    def _group(self, row: int) -> tuple[int, int] | None:
        t = self._table
        g = int(np.searchsorted(t.group_rows, row))
        if g >= len(t.group_rows) or t.group_rows[g] != row:
            return None
        return int(t.starts[g]), int(t.starts[g + 1]) if g + 1 < len(t.starts) else len(t.rows)

    def __getitem__(self, rid: str) -> list[str]:
        rec = self._records.get(rid)
        span = self._group(rec.row) if rec is not None else None
        if span is None:
            raise KeyError(rid)
        t = self._table
        found = [(float(self._contrib[e]), t.ids[t.others[e]]) for e in range(*span) if self._contrib[e] > -np.inf]
        if not found:
            raise KeyError(rid)
        found.sort(reverse=True)
        return [other for c, other in found[:3] if c > 0.05]

    def _keys(self) -> list[str]:
        t = self._table
        if not len(self._contrib):
            return []
        live = np.maximum.reduceat(self._contrib, t.starts) > -np.inf
        return [t.ids[r] for r in t.group_rows[live]]

    def __iter__(self):
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


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


def concept_support(index: LoadedIndex, scores: np.ndarray, strength: float = 0.5,
                    hits: list | None = None) -> np.ndarray:
    """Topic-level association: experts, theme groups, literature and products gain from the best
    documents that share their concepts, even without an explicit link (an adviser on learning
    analytics supports a question whose best answer is about early warning from study-progress data).

    bonus(e) = strength * sum_d s_d * cos(C(e), C(d)) / support_doc_depth over the top documents d, where s_d
    is the document's own score (so weak documents give little) and cos the idf-weighted cosine of
    the two concept sets (so a record with many concepts gets no free ride). ``scores``: own score per
    record row, shape (n records,); returns the bonus per row, same shape.

    For experts and theme groups, when the question has concepts (``hits``, ``ConceptHit`` best first), the
    documents' concepts outside the top three and their concept families (``concept_family``) count at knob
    ``support_focus_floor``: the top documents of a question touch many topics, and a person whose broad
    profile shares the other ones is not thereby an expert on the question's.
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
    for d, vec in zip(top, index.record_concept_vectors(top)):
        if scores[d] >= K.support_doc_share * best:
            profile += float(scores[d]) * vec
    if not profile.any():
        return out
    focused = profile
    if hits and K.support_focus_floor < 1.0:
        keep = np.zeros(len(profile), np.float32)
        for h in hits[:3]:
            keep[concept_family(index, h.index)] = 1.0
        focused = profile * np.maximum(keep, np.float32(K.support_focus_floor))
    supported = _memo(index, ("supported",), lambda: np.nonzero(np.isin(index.kinds, SUPPORTED_KINDS))[0])
    if len(supported) > K.support_candidates:  # large corpora: only the records already in the running (ties by row)
        supported = supported[top_set(scores[supported], K.support_candidates)]
    if not len(supported):
        return out
    matrix = index.record_concept_vectors(supported)
    people = np.isin(index.kinds[supported], PEOPLE_KINDS)
    out[supported] = strength * np.where(people, matrix @ focused, matrix @ profile) / K.support_doc_depth
    return out


def concept_family(index: LoadedIndex, i: int) -> np.ndarray:
    """Indexes (int64) of concept I, its broader concepts and its narrower ones in the thesaurus; the map
    for all concepts is built once per index."""
    def build() -> list[np.ndarray]:
        pos = {c.id: n for n, c in enumerate(index.concepts)}
        family: list[set[int]] = [{n} for n in range(len(index.concepts))]
        for n, c in enumerate(index.concepts):
            for b in c.broader:
                if b in pos:
                    family[n].add(pos[b])
                    family[pos[b]].add(n)
        return [np.array(sorted(f), np.int64) for f in family]
    return _memo(index, ("concept_family",), build)[i]


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
