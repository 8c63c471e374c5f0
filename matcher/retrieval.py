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

from indexer.thesaurus import Concept

from .knobs import K
from .loaded import LoadedIndex


@dataclass
class RecordScores:
    """Evidence per record (arrays of shape (n records,)) and per passage (shape (n passages,)).

    ``best_passage`` (int64 per record: the passage row with the best combined evidence, -1: none) may be
    given as a callable that makes it: it is then made on first use, so a first pass whose passages are
    never shown does not pay for it."""

    lexical: np.ndarray        # per record, max BM25 over its passages (normalised 0..1)
    dense: np.ndarray          # per record, max cosine over its passages
    _best_passage: "np.ndarray | Callable[[], np.ndarray]"
    passage_lex: np.ndarray    # per passage
    passage_dense: np.ndarray  # per passage

    @property
    def best_passage(self) -> np.ndarray:
        """Per record, the passage row with the best combined evidence (-1: none); int64, (n records,)."""
        if callable(self._best_passage):
            self._best_passage = self._best_passage()
        return self._best_passage


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


def dense_passages(index: LoadedIndex, qv: np.ndarray) -> np.ndarray:
    """Cosine per passage, shape (n passages,), for a unit query vector of shape (dim,): the
    knob ``dense_k`` nearest from FAISS; every other passage gets the lowest cosine found minus
    the knob ``dense_missing_gap``."""
    n = len(index.passage_text)
    if n == 0:
        return np.zeros(0, np.float32)
    k = min(n, K.dense_k)
    sims, rows = index.vectors.search(np.ascontiguousarray(qv[None, :], dtype=np.float32), k)
    valid = rows[0] >= 0
    found = sims[0][valid].astype(np.float32, copy=False)
    floor = float(found.min()) if len(found) else 0.0
    out = np.full(n, floor - K.dense_missing_gap, np.float32)
    out[rows[0][valid]] = found
    return out


def score_records(index: LoadedIndex, qv: np.ndarray | None, weighted_tokens,
                  first_lexical: np.ndarray | None = None, first_dense: np.ndarray | None = None) -> RecordScores:
    """Per record: the best passage's BM25 (divided by the best record's, so 0..1) and the best
    passage's cosine (0 without a query vector), and the passage with the best combined evidence
    (max-normalised BM25 + knob ``passage_dense_weight`` x cosine) to show. ``weighted_tokens``: [(stems, weight)];
    ``first_lexical``: ``bm25_passages`` of its first part alone, when known (shape (n passages,));
    ``first_dense``: ``dense_passages`` of this very ``qv``, when a first pass searched with it already."""
    n_rec = len(index.record_list)
    owner = index.passage_record
    p_lex = bm25_passages(index, weighted_tokens, first_lexical)
    if qv is None:
        p_dense = np.zeros(len(owner), np.float32)
    else:
        p_dense = first_dense if first_dense is not None else dense_passages(index, qv)
    lex = index.max_per_record(p_lex) if len(owner) else np.zeros(n_rec, np.float32)
    dense = index.max_per_record(p_dense) if len(owner) else np.zeros(n_rec, np.float32)
    lex[~np.isfinite(lex)] = 0
    dense[~np.isfinite(dense)] = 0
    top = float(lex.max()) if n_rec else 0.0
    lex_n = lex / top if top > 0 else lex
    return RecordScores(lex_n, dense, lambda: _best_passages(index, p_lex, p_dense), p_lex, p_dense)


def _best_passages(index: LoadedIndex, p_lex: np.ndarray, p_dense: np.ndarray) -> np.ndarray:
    """Per record, its passage with the best max-normalised BM25 + knob ``passage_dense_weight`` x cosine."""
    p_comb = (p_lex / (p_lex.max() if len(p_lex) and p_lex.max() > 0 else 1.0)) + K.passage_dense_weight * p_dense
    return index.best_passage_per_record(p_comb)


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


def expanded_vector(index: LoadedIndex, qv: np.ndarray | None, expansion: list[tuple[Concept, float]],
                    weight: float) -> np.ndarray | None:
    """The query vector (shape (dim,), unit length) moved towards the expansion concepts' vectors:
    qv + weight * c / |c| with c the weighted sum of concept vectors, renormalised (Rocchio-style
    query expansion). Unchanged without expansion, weight or concept vectors."""
    if qv is None or not expansion or not weight or not len(index.concept_vectors):
        return qv
    cv = np.zeros_like(qv)
    for concept, w in expansion:
        cv += w * index.concept_vectors[index.concept_matcher.by_id[concept.id]]
    norm = np.linalg.norm(cv)
    if norm <= 0:
        return qv
    moved = qv + weight * cv / norm
    return moved / max(float(np.linalg.norm(moved)), 1e-12)



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
