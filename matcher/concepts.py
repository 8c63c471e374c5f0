"""Find thesaurus concepts in a question: by words (``indexer.conceptterms``), by embedding,
and by the concepts of the records that match it best (pseudo-relevance feedback)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from indexer.analysis import Analyzer
from indexer.conceptterms import ConceptTerms
from indexer.thesaurus import Concept

from .knobs import K
from .topk import top_k

if TYPE_CHECKING:  # loaded.py builds the ConceptMatcher: no import at run time
    from .loaded import LoadedIndex
    from .retrieval import RecordScores


@dataclass
class ConceptHit:
    """A concept found in a question: position in the thesaurus list, combined score (about 0..2),
    its word score (0..1), its cosine with the question, and the question terms that named it."""

    index: int
    concept: Concept
    score: float
    lexical: float
    dense: float
    terms: list[str]


class ConceptMatcher(ConceptTerms):
    """Word matching (``ConceptTerms``) plus embedding similarity and pseudo-relevance feedback."""

    def __init__(self, concepts: list[Concept], vectors: np.ndarray, analyzer: Analyzer):
        super().__init__(concepts, analyzer)
        self.vectors = vectors

    def dense(self, qv: np.ndarray) -> np.ndarray:
        """Cosine of each concept's vector with a unit query vector: shape (n concepts,)."""
        if not len(self.vectors):
            return np.zeros(0, np.float32)
        return self.vectors @ qv

    def detect(self, text: str, qv: np.ndarray | None, top: int | None = None, min_score: float | None = None,
               feedback: dict[int, float] | None = None, confirmed: set[int] | None = None) -> list[ConceptHit]:
        """Concepts of a text: its words (labels, synonyms), its embedding, and, when given,
        ``feedback``: how strongly each concept occurs in the best-matching records
        (pseudo-relevance feedback, 0..1), which grounds paraphrased questions in the corpus.
        Feedback for a concept the text does not name counts fully when its embedding confirms it (z above
        knob ``concept_prf_z``) or when it is in ``confirmed`` (``tag_confirmed``: the best records' tags name
        it), else at knob ``concept_prf_unconfirmed``.
        ``top`` and ``min_score`` default to the knobs ``concept_top`` and ``concept_min_score``; a hit
        must pass ``confident``. Returns at most ``top`` hits, best first; [] when none is confident."""
        top = K.concept_top if top is None else top
        min_score = K.concept_min_score if min_score is None else min_score
        lex = self.lexical(text)
        sims = self.dense(qv) if qv is not None and len(self.vectors) else np.zeros(len(self.concepts))
        if len(sims) > 1:
            z = (sims - sims.mean()) / (sims.std() + 1e-6)
        else:
            z = np.zeros(len(sims))
        feedback = feedback or {}
        # the candidates' scores as arrays, in the set's own order (equal scores keep it through the stable sort)
        order = list(set(lex) | {int(i) for i in np.argsort(-z)[:top * 3]} | set(feedback))
        if not order:
            return []
        zc = z[order].astype(np.float64)
        named = np.array([i in lex for i in order])
        lexical = np.array([lex[i][0] if i in lex else 0.0 for i in order], np.float64)
        fb = np.array([feedback.get(i, 0.0) for i in order], np.float64)
        # named, but not what the text is about
        lexical = np.where((lexical != 0) & (zc < K.concept_lexical_z), lexical * K.concept_lexical_unconfirmed,
                           lexical)
        dense_part = K.concept_dense_factor * np.maximum(0.0, zc - K.concept_dense_z)
        full = (lexical != 0) | (zc > K.concept_prf_z) | np.array([i in (confirmed or ()) for i in order])
        prf = K.concept_prf * fb * np.where(full, 1.0, K.concept_prf_unconfirmed)
        # embedding alone, unconfirmed by words or records
        dense_part = np.where((lexical == 0) & (fb == 0), dense_part * K.unconfirmed_dense, dense_part)
        scores = lexical + dense_part + prf
        keep = confident(scores, named, min_score)
        hits = [ConceptHit(order[j], self.concepts[order[j]], float(scores[j]), lex.get(order[j], (0.0, []))[0],
                           float(sims[order[j]]), lex.get(order[j], (0.0, []))[1]) for j in np.flatnonzero(keep)]
        hits.sort(key=lambda h: -h.score)
        return _prefer_specific(hits, self)[:top]


def confident(score, named, min_score: float | None = None):
    """Whether a detection score is a concept of the question (calibrated abstention): at least
    ``min_score`` (default the knob ``concept_min_score``), and, for a concept the text does not name by
    its words (found by embedding and feedback only), at least the knob ``concept_min_unnamed``. Below
    that the engine says it has no concept rather than give the nearest wrong one. SCORE and NAMED: a float and a
    bool, or arrays of one shape (then a bool array, element by element)."""
    min_score = K.concept_min_score if min_score is None else min_score
    return (score >= min_score) & (named | (score >= K.concept_min_unnamed))


def _prefer_specific(hits: list[ConceptHit], cm: ConceptMatcher) -> list[ConceptHit]:
    """When a concept and its broader concept both match on the same words, keep the narrower one first."""
    ids = {h.concept.id for h in hits}
    out = []
    for h in hits:
        narrower_hit = any(h.concept.id in o.concept.broader and set(o.terms) >= set(h.terms) and o.lexical > 0
                           for o in hits if o.concept.id in ids and o is not h)
        if narrower_hit:
            h.score *= K.narrower_preference
        out.append(h)
    out.sort(key=lambda h: -h.score)
    return out


def concept_feedback(index: "LoadedIndex", scores: np.ndarray,
                     passages: "RecordScores | None" = None) -> dict[int, float]:
    """Pseudo-relevance feedback for ``ConceptMatcher.detect``: concept index -> weight (about 0..1) of the
    concept in the best first-pass evidence. Two sources, mixed by the knob ``concept_passage_share``:
    records (``scores``, shape (n records,): the share of the ``feedback_depth`` best records, weighted by
    score, in which the concept occurs, times the concept's idf (``LoadedIndex.concept_idf``), so concepts
    that occur almost everywhere are damped) and, when ``passages`` (the first pass's ``RecordScores``) is
    given, passages (``passage_feedback``; no idf: a passage that names a common concept is about it). Pseudo-relevance feedback after Rocchio (1971); passage-level
    feedback after Callan (1994), 'Passage-level evidence in document retrieval'."""
    share = K.concept_passage_share if passages is not None and K.concept_passage_depth > 0 else 0.0
    out: dict[int, float] = {}
    if share < 1.0:
        for i, v in _record_feedback(index, scores).items():
            out[i] = out.get(i, 0.0) + (1.0 - share) * v
    idf = index.concept_idf()
    out = {i: v * float(idf[i]) for i, v in out.items()}
    if share > 0.0:
        for i, v in passage_feedback(index, passages.passage_lex, passages.passage_dense, passages.nearest).items():
            out[i] = out.get(i, 0.0) + share * v
    return out


def tag_confirmed(index: "LoadedIndex", scores: np.ndarray) -> set[int]:
    """Concept indexes named in the tags (their authors' own keywords, ``LoadedIndex.tag_concepts``) of at
    least knob ``concept_tag_confirm`` of the ``feedback_depth`` best records by ``scores`` (shape (n records,)),
    weighted by score: what the best matches say they are about, for ``ConceptMatcher.detect``'s ``confirmed``."""
    return {i for i, share in tag_shares(index, scores).items() if share >= K.concept_tag_confirm}


def tag_shares(index: "LoadedIndex", scores: np.ndarray) -> dict[int, float]:
    """Concept index -> score-weighted share (0..1) of the ``feedback_depth`` best records whose tags
    name the concept."""
    return _best_record_shares(scores, index.tag_concepts)


def _record_feedback(index: "LoadedIndex", scores: np.ndarray) -> dict[int, float]:
    """Concept index -> score-weighted share (0..1) of the ``feedback_depth`` best records naming it."""
    return _best_record_shares(scores, lambda row: index.record_concepts(index.record_list[row].id))


def _best_record_shares(scores: np.ndarray, concepts_of) -> dict[int, float]:
    """Concept index -> score-weighted share (0..1) of the ``feedback_depth`` best records (by ``scores``, shape
    (n records,)) whose ``concepts_of(row)`` holds the concept."""
    if not len(scores):
        return {}
    top = top_k(scores, K.feedback_depth)
    weights = np.clip(scores[top], 0, None)
    total = float(weights.sum())
    if total <= 0:
        return {}
    out: dict[int, float] = {}
    for row, w in zip(top, weights):
        for i in concepts_of(int(row)):
            out[i] = out.get(i, 0.0) + float(w) / total
    return out


def passage_feedback(index: "LoadedIndex", lexical: np.ndarray, dense: np.ndarray,
                     nearest: np.ndarray | None = None) -> dict[int, float]:
    """Concept index -> weight (about 0..1.3) of the concept in the question's best passages: the knob
    ``concept_passage_depth`` passages with the highest cosine (``dense``, shape (n passages,)) plus
    ``concept_passage_lexical`` x their max-normalised BM25 (``lexical``, same shape), softmax-weighted
    with temperature ``concept_passage_temp`` (cosine units), times the concept's word score in the passage
    (``LoadedIndex.passage_concepts``). A passage is about one thing where a record may be about many, so
    a paraphrased question finds its concept in the passage that answers it.

    ``nearest``: the rows of the passages the dense search found (``RecordScores.nearest``; every other
    passage holds the floor, ``dense_missing_gap`` below the lowest found). While that gap exceeds the most
    BM25 can add, the best passages are among those found, and only they are scored."""
    if not len(dense):
        return {}
    top_lex = float(lexical.max()) if len(lexical) else 0.0
    depth = K.concept_passage_depth
    top = None
    if nearest is not None and depth <= len(nearest) < len(dense) and K.dense_missing_gap > K.concept_passage_lexical:
        score = dense[nearest] + (K.concept_passage_lexical * lexical[nearest] / top_lex if top_lex > 0 else 0.0)
        pos = top_k(score, depth)
        chosen = score[pos]
        # equal scores: their order is the full array's sort's to decide, as ``top_k`` promises
        if len(np.unique(chosen)) == len(chosen) and np.count_nonzero(score == chosen[-1]) == 1:
            top, score = nearest[pos], None
    if top is None:
        score = dense + (K.concept_passage_lexical * lexical / top_lex if top_lex > 0 else 0.0)
        top = top_k(score, depth)
        chosen = score[top]
    weights = np.exp((chosen - chosen[0]) / max(K.concept_passage_temp, 1e-6))
    weights /= weights.sum()
    out: dict[int, float] = {}
    for row, w in zip(top, weights):
        for i, sc in index.passage_concepts(int(row)).items():
            out[i] = out.get(i, 0.0) + float(w) * sc
    return out
