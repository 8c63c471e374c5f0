"""Hybrid passage retrieval: BM25 (Dutch stems, compounds) + dense e5, fused per record.

``score_records`` returns, for every record, a lexical and a dense score and
the passages that gave them. ``fuse`` combines them per record: a weighted sum
of normalised scores (CombSUM with max-normalised BM25 and z-normalised
cosines; Fox & Shaw 1994, Lee 1997), reciprocal rank fusion within a kind
(Cormack, Clarke & Buettcher 2009), or one signal alone for the BM25-only and
dense-only baselines that ``schakel eval`` reports beside the full system
(``Options.method``, the knob ``fusion`` of ``matcher.knobs``). BM25 is Robertson & Zaragoza (2009) as implemented by
bm25s; dense search is FAISS inner product over unit e5 vectors (cosine).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from indexer import ann
from indexer.thesaurus import Concept

from .knobs import K
from .loaded import LoadedIndex


@dataclass
class RecordScores:
    """Evidence per record (arrays of shape (n records,)) and per passage (shape (n passages,)).

    ``_best_passage`` gives each record's passage row with the best combined evidence (-1: none): an int64
    array per record, or a callable from record row to passage row, so a question pays only for the records
    it shows (``best_passage_of``)."""

    lexical: np.ndarray        # per record, max BM25 over its passages (normalised 0..1)
    dense: np.ndarray          # per record, max cosine over its passages
    _best_passage: "np.ndarray | Callable[[int], int]"
    passage_lex: np.ndarray    # per passage
    passage_dense: np.ndarray  # per passage (``dense_passages``: the dense_k nearest, a floor for the rest)
    passage_cosines: np.ndarray | None = None   # per passage, every cosine (exact index only; ``passage_cosines``)
    nearest: np.ndarray | None = None           # rows of the dense_k nearest passages (the others hold the floor)
    candidates: "Candidates | None" = None      # what a quantised scan found (``quantized_candidates``)

    def best_passage_of(self, row: int) -> int:
        """The passage row with the best combined evidence of record ROW; -1 for none."""
        if callable(self._best_passage):
            return self._best_passage(row)
        return int(self._best_passage[row])


@dataclass
class Candidates:
    """The passages a scan over 8-bit codes found for a query vector (``LoadedIndex.quantized``), scored again with
    their float32 vectors: ROWS (int64, (m,)) and their exact COSINES (float32, (m,)). BOUND estimates the largest
    cosine of any passage outside ROWS: the codes' lowest score among ROWS plus twice the codes' largest error
    seen among ROWS (each row's code score against its exact cosine). Once the error alone fell short on a small
    index of real e5 vectors (5 of 120 questions at 400 passages); with twice it held for every question there
    and at 12,000 passages (``bench/quantized_recall.py``)."""

    rows: np.ndarray
    cosines: np.ndarray
    bound: float


def quantized_candidates(index: LoadedIndex, qv: np.ndarray) -> Candidates:
    """``Candidates`` for the unit query vector QV (shape (dim,)) on an index with a quantised scan: the
    ``ann.QUANTIZED_OVERSAMPLE`` x knob ``dense_k`` best by their codes, scored again with their float32 vectors
    (re-ranking, Jégou, Douze & Schmid 2011)."""
    qv = np.asarray(qv, np.float32)
    rows, approx = index.quantized.search(qv, ann.QUANTIZED_OVERSAMPLE * K.dense_k)
    exact = index.passage_cosines_at(rows, qv)
    error = float(np.max(np.abs(approx - exact))) if len(rows) else 0.0
    bound = (float(approx.min()) + 2 * error) if len(rows) < len(index.passage_text) else -np.inf
    return Candidates(rows, exact.astype(np.float32, copy=False), bound)


def _best_of(rows: np.ndarray, found: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The K entries of FOUND (with their ROWS) that are largest, as (rows, found); all when there are fewer."""
    if len(rows) <= k:
        return rows, found
    keep = np.argpartition(-found, k - 1)[:k]
    return rows[keep], found[keep]


def bm25_passages(index: LoadedIndex, weighted_tokens: list[tuple[list[str], float]],
                  first: np.ndarray | None = None) -> np.ndarray:
    """BM25 score per passage, shape (n passages,), float32, >= 0: the weighted sum over the
    (stems, weight) query parts; stems outside the vocabulary are ignored (bm25s ``get_scores``).
    ``first``: this function's result for the first part alone, when already computed (the first
    pass of the same question): the sum then starts from it, which gives the same numbers."""
    n = len(index.passage_text)
    total = np.zeros(n, np.float32) if first is None else first.copy()
    for tokens, weight in weighted_tokens[0 if first is None else 1:]:
        tokens = [t for t in tokens if t in index.bm25.vocab_dict]
        if tokens and weight:
            total += weight * index.bm25.get_scores(tokens).astype(np.float32)
    return total


def passage_cosines(index: LoadedIndex, qv: np.ndarray | None) -> np.ndarray | None:
    """Every passage's cosine with the unit query vector QV (shape (dim,)): float32 of shape (n passages,), one
    pass over the exact index's vectors (``ann.inner_products``: the kernel of ``IndexFlatIP.search``, without
    its heap). None without a query vector, for an HNSW index and for an index scanned through its codes
    (``LoadedIndex.quantized``). The concept-expanded second pass reuses these cosines instead of scanning again
    (``expanded_cosines``)."""
    if qv is None or index.passage_matrix is None or index.quantized is not None:
        return None
    return ann.inner_products(index.vectors, qv)


def dense_passages(index: LoadedIndex, qv: np.ndarray, cosines: np.ndarray | None = None) -> np.ndarray:
    """Cosine per passage, shape (n passages,), for a unit query vector of shape (dim,): the
    knob ``dense_k`` nearest; every other passage gets the lowest cosine found minus the knob
    ``dense_missing_gap``. The nearest come from COSINES (every passage's cosine with QV, when known), else
    from the candidates of a scan over 8-bit codes on an exact index of ``ann.QUANTIZED_SCAN_MIN`` passages or
    more (``quantized_candidates``), else from ``passage_cosines`` on a smaller exact index, else from the FAISS
    (HNSW) search, whose passages an 8-bit build scores again with their float32 vectors
    (``LoadedIndex.rerank_vectors``)."""
    return _dense(index, qv, cosines)[0]


def _dense(index: LoadedIndex, qv: np.ndarray, cosines: np.ndarray | None = None,
           nearest: tuple[np.ndarray, np.ndarray] | Candidates | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``dense_passages`` and the rows (int64) of the nearest passages it found. NEAREST: the nearest passages'
    (rows, cosines) when already known, or the ``Candidates`` of a quantised scan to take them from."""
    n = len(index.passage_text)
    if n == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    k = min(n, K.dense_k)
    if nearest is None and cosines is None and index.quantized is not None:
        nearest = quantized_candidates(index, qv)
    if isinstance(nearest, Candidates):
        nearest = _best_of(nearest.rows, nearest.cosines, k)
    if nearest is None and cosines is None:
        cosines = passage_cosines(index, qv)
    if nearest is not None:
        rows, found = nearest
    elif cosines is not None:
        rows = np.argpartition(-cosines, k - 1)[:k] if k < n else np.arange(n)
        found = cosines[rows]
    else:
        sims, ids = index.vectors.search(np.ascontiguousarray(qv[None, :], dtype=np.float32), k)
        valid = ids[0] >= 0
        rows, found = ids[0][valid], sims[0][valid].astype(np.float32, copy=False)
        if index.rerank_vectors is not None:   # the graph's 8-bit codes found them; their float32 vectors score them
            found = index.passage_vectors(rows) @ np.asarray(qv, np.float32)
    out = np.full(n, _floor(found), np.float32)
    out[rows] = found
    return out, np.asarray(rows, np.int64)


def _floor(found: np.ndarray) -> np.float32:
    """The dense score of every passage the search did not find: the lowest cosine FOUND minus the knob
    ``dense_missing_gap`` (minus the gap from 0 when nothing was found)."""
    return np.float32((float(found.min()) if len(found) else 0.0) - K.dense_missing_gap)


def score_records(index: LoadedIndex, qv: np.ndarray | None, weighted_tokens,
                  first_lexical: np.ndarray | None = None, first: "RecordScores | None" = None,
                  cosines: np.ndarray | None = None,
                  nearest: tuple[np.ndarray, np.ndarray] | None = None) -> RecordScores:
    """Per record: the best passage's BM25 (divided by the best record's, so 0..1) and the best
    passage's cosine (0 without a query vector), and the passage with the best combined evidence
    (max-normalised BM25 + knob ``passage_dense_weight`` x cosine) to show. ``weighted_tokens``: [(stems, weight)];
    ``first_lexical``: ``bm25_passages`` of its first part alone, when known (shape (n passages,));
    ``first``: a first pass that searched with this very ``qv`` already (its dense evidence is reused);
    ``cosines``: every passage's cosine with ``qv``, when known (``expanded_cosines``); ``nearest``: the
    (rows, cosines) of the ``dense_k`` passages nearest to ``qv``, when known (``expanded_nearest``).

    Where few passages have evidence (a BM25 score; the ``dense_k`` nearest), the per-record maxima are taken
    over those only (``LoadedIndex.max_over_rows``): every other passage holds 0 or the dense floor."""
    n_rec = len(index.record_list)
    owner = index.passage_record
    p_lex = bm25_passages(index, weighted_tokens, first_lexical)
    known, nearest, candidates = nearest, None, None
    if qv is None:
        p_dense = np.zeros(len(owner), np.float32)
    elif first is not None:
        p_dense, nearest, candidates = first.passage_dense, first.nearest, first.candidates
    else:
        if known is None and cosines is None:
            if index.quantized is not None:     # kept for the expanded pass (``expanded_nearest``)
                known = candidates = quantized_candidates(index, qv)
            else:
                cosines = passage_cosines(index, qv)
        p_dense, nearest = _dense(index, qv, cosines, known)
    if 4 * np.count_nonzero(p_lex) < len(owner):      # a few passages with BM25 evidence: their maxima only
        hits = np.flatnonzero(p_lex)
        lex = index.max_over_rows(hits, p_lex[hits], np.float32(0))
    else:
        lex = index.max_per_record(p_lex) if len(owner) else np.zeros(n_rec, np.float32)
    if nearest is not None and 4 * len(nearest) < len(owner):
        dense = index.max_over_rows(nearest, p_dense[nearest], _floor(p_dense[nearest]))
    else:
        dense = index.max_per_record(p_dense) if len(owner) else np.zeros(n_rec, np.float32)
    lex[~np.isfinite(lex)] = 0
    dense[~np.isfinite(dense)] = 0
    top_passage = lex.max() if n_rec else np.float32(0)   # every passage has a record: p_lex.max()
    top = float(top_passage)
    lex_n = lex / top if top > 0 else lex
    return RecordScores(lex_n, dense, lambda row: _best_passage(index, row, p_lex, p_dense, top_passage),
                        p_lex, p_dense, cosines, nearest, candidates)


def _best_passage(index: LoadedIndex, row: int, p_lex: np.ndarray, p_dense: np.ndarray, top: np.float32) -> int:
    """Record ROW's passage with the best max-normalised BM25 (TOP: the largest BM25 of any passage) + knob
    ``passage_dense_weight`` x cosine; of equal best passages the last; -1 without passages (or a NaN maximum)."""
    mine = index.record_list[row].passages
    if not mine:
        return -1
    lex = p_lex[mine]
    values = (lex / top if top > 0 else lex) + K.passage_dense_weight * p_dense[mine]
    hit = np.flatnonzero(values == values.max())
    return int(mine[hit[-1]]) if len(hit) else -1


def rrf(scores: np.ndarray, groups: np.ndarray, k: int | None = None, mask: np.ndarray | None = None) -> np.ndarray:
    """Reciprocal-rank score 1 / (k + rank) of each item within its group (kind), rank from 1;
    items outside ``mask`` get 0 (Cormack, Clarke & Buettcher 2009; ``k`` defaults to the knob ``rrf_k``)."""
    k = K.rrf_k if k is None else k
    out = np.zeros(len(scores), np.float32)
    for g in np.unique(groups):
        idx = np.nonzero(groups == g)[0]
        order = idx[np.argsort(-scores[idx], kind="stable")]
        ranks = np.empty(len(order), np.int64)
        ranks[np.argsort(-scores[idx], kind="stable")] = np.arange(len(order))
        out[idx] = 1.0 / (k + 1 + ranks)
        if mask is not None:
            out[idx[~mask[idx]]] = 0.0
    return out


def fuse(rs: RecordScores, kinds: np.ndarray, method: str = "weighted", dense_weight: float = 0.5) -> np.ndarray:
    """Fused score per record, shape (n records,), about 0..1.5.

    ``method``: 'bm25' (normalised BM25), 'dense' (cosine z-normalised against the median over
    records, /3, clipped to 0..1.5), 'rrf' (RRF of both, scaled so rank 1 in both gives 1) or
    'weighted' ((1 - dense_weight) * BM25 + dense_weight * dense, CombSUM)."""
    if method == "bm25":
        return rs.lexical.copy()
    d = rs.dense
    if len(d) > 1:
        dz = (d - np.median(d)) / (d.std() + 1e-6)
        dn = np.clip(dz / K.dense_z_scale, 0, K.dense_z_cap)
    else:
        dn = np.clip(d, 0, 1)
    if method == "dense":
        return dn
    if method == "rrf":
        r = rrf(rs.lexical, kinds, mask=rs.lexical > 0) + rrf(d, kinds)
        return r / (2.0 / (K.rrf_k + 1))
    return (1 - dense_weight) * rs.lexical + dense_weight * dn


def expansion_tokens(index: LoadedIndex, tokens: list[str], expansion: list[tuple[Concept, float]],
                     weight: float) -> list[tuple[list[str], float]]:
    """BM25 query parts: the question's own stems at weight 1 and, when concepts expand the
    question, the stems of their first ``expansion_terms`` (knob) terms (not already in the question) at ``weight``
    times the concept's own expansion weight (``generalise.expansion_concepts``), so a weakly detected concept
    adds less than one the question names."""
    weighted = [(tokens, 1.0)]
    for concept, concept_weight in expansion:
        extra = [t for term in concept.terms()[:K.expansion_terms]
                 for t in index.analyzer.tokens(term) if t not in tokens]
        if extra and concept_weight > 0:
            weighted.append((extra, weight * concept_weight))
    return weighted


def _expansion_direction(index: LoadedIndex, expansion: list[tuple[Concept, float]]) -> list[tuple[int, float]]:
    """The expansion as (concept vector row, coefficient) pairs whose sum sum(coef * concept_vectors[row]) is the
    unit vector c / |c|, c the weighted sum of the concepts' vectors; [] when c is zero."""
    pairs: dict[int, float] = {}
    for concept, w in expansion:
        row = index.concept_matcher.by_id[concept.id]
        pairs[row] = pairs.get(row, 0.0) + w
    cv = np.zeros(index.concept_vectors.shape[1], np.float32)
    for row, w in pairs.items():
        cv += w * index.concept_vectors[row]
    norm = float(np.linalg.norm(cv))
    return [(row, w / norm) for row, w in pairs.items()] if norm > 0 else []


def expanded_vector(index: LoadedIndex, qv: np.ndarray | None, expansion: list[tuple[Concept, float]],
                    weight: float) -> np.ndarray | None:
    """The query vector (shape (dim,), unit length) moved towards the expansion concepts' vectors:
    qv + weight * c / |c| with c the weighted sum of concept vectors, renormalised (Rocchio-style
    query expansion). Unchanged without expansion, weight or concept vectors."""
    if qv is None or not expansion or not weight or not len(index.concept_vectors):
        return qv
    direction = _expansion_direction(index, expansion)
    if not direction:
        return qv
    moved = _moved(index, qv, direction, weight)
    return moved / max(float(np.linalg.norm(moved)), 1e-12)


def _moved(index: LoadedIndex, qv: np.ndarray, direction: list[tuple[int, float]], weight: float) -> np.ndarray:
    """qv + weight * sum(coef * concept_vectors[row]) over ``_expansion_direction``'s pairs, not normalised."""
    moved = qv.astype(np.float32, copy=True)
    for row, coef in direction:
        moved += weight * coef * index.concept_vectors[row]
    return moved


def _expansion_rows(index: LoadedIndex, expansion: list[tuple[Concept, float]],
                    weight: float) -> tuple[list[tuple[int, float]], np.ndarray] | None:
    """``_expansion_direction``'s (concept row, coefficient) pairs and those concepts' cosine rows with every passage
    (``LoadedIndex.concept_passage_cosines``, float32 (pairs, n passages)); None when the vector does not move
    (no expansion, weight or concept vectors) or the index has no rows (HNSW)."""
    if not expansion or not weight or not len(index.concept_vectors):
        return None
    direction = _expansion_direction(index, expansion)
    if not direction:
        return None
    rows = index.concept_passage_cosines([row for row, _ in direction])
    return None if rows is None else (direction, rows)


def expanded_cosines(index: LoadedIndex, first: np.ndarray | None, qv: np.ndarray | None,
                     expansion: list[tuple[Concept, float]], weight: float) -> np.ndarray | None:
    """Every passage's cosine with ``expanded_vector(index, qv, expansion, weight)``, float32 of shape
    (n passages,), without another pass over the passage vectors: by linearity of the inner product,
    X (q + w u) / |q + w u| = (X q + w sum(coef X c_i)) / |q + w u|, from FIRST (= X q, the first pass's
    ``passage_cosines``) and the concepts' cached cosine rows (``LoadedIndex.concept_passage_cosines``).
    None when FIRST is None (an HNSW index) or the vector does not move (then FIRST itself applies)."""
    if first is None or qv is None:
        return None
    found = _expansion_rows(index, expansion, weight)
    if found is None:
        return None
    direction, rows = found
    total = first.copy()
    for (_, coef), cos in zip(direction, rows):
        total += np.float32(weight * coef) * cos
    total /= np.float32(max(float(np.linalg.norm(_moved(index, qv, direction, weight))), 1e-12))
    return total


#: at most this many passages outside a quantised scan's candidates are scored for the moved vector
#: (``expanded_nearest``); more, and a scan with the moved vector is cheaper
EXPANDED_EXTRA_MAX = 20_000


def expanded_nearest(index: LoadedIndex, first: Candidates | None, qv: np.ndarray | None,
                     expansion: list[tuple[Concept, float]], weight: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The (rows, cosines) of the knob ``dense_k`` passages nearest to ``expanded_vector(index, qv, expansion,
    weight)`` on an index scanned through its codes, without another scan; None without expansion, when the index
    does not keep the concepts' cosine rows (``LoadedIndex.keeps_concept_cosines``), or when more than
    ``EXPANDED_EXTRA_MAX`` passages would have to be scored (the caller then scans with the moved vector).

    By linearity (``expanded_cosines``) a passage's cosine with the moved vector is s(p) = (c(p) + P(p)) / N, with
    c(p) its cosine with QV, P(p) = sum(w coef_i X c_i)(p) from the concepts' cosine rows and N = |q + w u|. The
    candidates are FIRST's rows (c exact) and the ``ann.QUANTIZED_OVERSAMPLE`` x ``dense_k`` passages with the
    largest P, whose c their float32 vectors give; theta is the ``dense_k``-th best s among them. A passage
    outside FIRST has c(p) <= FIRST.bound, so it can reach theta only if P(p) >= theta N - FIRST.bound: those
    few are scored too, and the best ``dense_k`` of all are the answer (a threshold test in the manner of Fagin,
    Lotem & Naor 2003)."""
    if first is None or qv is None:
        return None
    if not index.keeps_concept_cosines:   # each concept's row would cost a scan of the float32 vectors
        return None
    found = _expansion_rows(index, expansion, weight)
    if found is None:
        return None
    direction, rows = found
    n = rows.shape[1]
    k = min(n, K.dense_k)
    qv = np.asarray(qv, np.float32)
    shift = np.zeros(n, np.float32)
    for (_, coef), cos in zip(direction, rows):
        shift += np.float32(weight * coef) * cos
    norm = float(max(float(np.linalg.norm(_moved(index, qv, direction, weight))), 1e-12))
    m = min(n, ann.QUANTIZED_OVERSAMPLE * k)
    seen = np.zeros(n, bool)
    seen[first.rows] = True
    by_shift = np.argpartition(-shift, m - 1)[:m] if m < n else np.arange(n)
    extra = by_shift[~seen[by_shift]]
    seen[extra] = True
    cand = np.concatenate([first.rows, extra])
    cos = np.concatenate([first.cosines, index.passage_cosines_at(extra, qv)])
    if len(cand) < k:
        return None
    moved = (cos + shift[cand]) / np.float32(norm)
    theta = float(np.partition(moved, len(moved) - k)[len(moved) - k])
    more = np.flatnonzero((shift >= np.float32(theta * norm - first.bound)) & ~seen)
    if len(more) > EXPANDED_EXTRA_MAX:
        return None
    if len(more):
        cand = np.concatenate([cand, more])
        moved = np.concatenate([moved, (index.passage_cosines_at(more, qv) + shift[more]) / np.float32(norm)])
    best_rows, best = _best_of(cand, moved.astype(np.float32, copy=False), k)
    return np.asarray(best_rows, np.int64), best


def vocabulary_coverage(index: LoadedIndex, tokens: list[str]) -> float:
    """Share (0..1) of the question's information that the corpus vocabulary knows: the summed idf of
    its stems found in the BM25 vocabulary over the summed idf of all its stems, an unknown stem
    counting as a word seen in one passage. Low for English, misspelt or off-corpus wording."""
    if not tokens:
        return 0.0
    n = max(2, len(index.passage_text))
    known = total = 0.0
    for t in tokens:
        ratio = index.df_ratio(t) if t in index.bm25.vocab_dict else 0.0
        idf = float(np.log(1.0 / ratio)) if ratio > 0 else float(np.log(n))
        total += idf
        known += idf if ratio > 0 else 0.0
    return known / total if total > 0 else 0.0


def adaptive_dense_weight(base: float, coverage: float, ramp: float) -> float:
    """The dense weight of ``fuse`` for a question with vocabulary ``coverage``: ``base`` from
    coverage ``ramp`` up, rising linearly to 1 (dense only) at coverage 0, where BM25 has nothing to
    go on (query-dependent fusion weights in the spirit of query-performance prediction). ``ramp``
    0 switches it off."""
    if ramp <= 0 or coverage >= ramp:
        return base
    return base + (1.0 - base) * (ramp - max(0.0, coverage)) / ramp
