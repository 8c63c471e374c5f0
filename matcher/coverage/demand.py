"""Question demand: which concepts stored questions ask about, and their best-matching sources.

A question's demand is its top concepts by the engine's own detection (``ConceptMatcher.detect``), at
most ``TOP_CONCEPTS``, each weighted by its score relative to the top concept and halved when only the
embedding found it. Vectors, detections and BM25 sources are cached per index
(``LoadedIndex.coverage_cache``), in memory only.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..loaded import LoadedIndex
from .records import SOURCE_KINDS

TOP_CONCEPTS = 3        # concepts per question that count as its demand
EMBED_BATCH = 64        # questions embedded per call
DENSE_ONLY = 0.5        # demand weight of a concept detected by embedding alone, without its words
MAX_CHARS = 2000        # characters of a question that are read
SOURCE_DEPTH = 8        # passages looked at per wanted source (several passages may belong to one record)
DATE = re.compile(r"^(\d{4})-(\d{2})-\d{2}")


@dataclass
class AskedQuestion:
    """One usable question: its text (spacing normalised), month 'YYYY-MM' or None, and its concepts."""

    text: str
    month: str | None
    concepts: list[tuple[int, float]]   # (concept index, weight 0..1: relative to the top concept, halved
                                        # when only the embedding found it)


def _text(value: str) -> str:
    return " ".join(value.split())[:MAX_CHARS]


def _clean(q: Any) -> tuple[str, str | None] | None:
    """(text, month) of a question dict, or None when it has no text with letters."""
    if not isinstance(q, dict):
        return None
    text = q.get("question")
    if not isinstance(text, str):
        return None
    text = _text(text)
    if not any(c.isalpha() for c in text):
        return None
    m = DATE.match(str(q.get("date") or ""))
    month = f"{m.group(1)}-{m.group(2)}" if m and 1 <= int(m.group(2)) <= 12 else None
    return text, month


def _embed(index: LoadedIndex, embedder, texts: list[str]) -> dict[str, np.ndarray]:
    """Query vectors (float32, (dim,)) of TEXTS, in batches of ``EMBED_BATCH``; cached in memory only."""
    cache = index.coverage_cache
    out: dict[str, np.ndarray] = {}
    todo = []
    with cache.lock:
        for t in texts:
            v = cache.vectors.get((embedder.name, t))
            if v is None:
                todo.append(t)
            else:
                out[t] = v
    for start in range(0, len(todo), EMBED_BATCH):
        batch = todo[start:start + EMBED_BATCH]
        new = dict(zip(batch, embedder.embed_queries(batch)))
        cache.store_vectors(embedder.name, new)
        out.update(new)
    return out


def _stored_vectors(questions: list, name: str, dim: int) -> dict[str, np.ndarray]:
    """Vectors stored with a question (consented intakes) by the same embedder: they need no embedding."""
    out = {}
    for q in questions:
        vec = q.get("vector") if isinstance(q, dict) else None
        if vec is not None and q.get("embedder") == name and len(vec) == dim and isinstance(q.get("question"), str):
            out[_text(q["question"])] = np.asarray(vec, np.float32)
    return out


def detect_questions(engine, questions: list[dict], top: int = TOP_CONCEPTS) -> list[AskedQuestion]:
    """Concepts per question with the engine's detection; each distinct text is embedded and detected once.

    QUESTIONS are dicts with 'question' (text), optional 'date' (YYYY-MM-DD) and optionally 'vector' and
    'embedder'; other items and questions without letters are skipped. Returns one ``AskedQuestion`` per
    usable question, in input order.
    """
    index = engine.index()
    cache = index.coverage_cache
    cleaned = [c for c in (_clean(q) for q in questions) if c]
    unique = list(dict.fromkeys(t for t, _ in cleaned))
    with cache.lock:
        todo = [t for t in unique if t not in cache.detected]
    cache.store_vectors(engine.embedder.name, _stored_vectors(questions, engine.embedder.name, engine.embedder.dim))
    vectors = _embed(index, engine.embedder, todo)
    found_all = {}
    for text in todo:
        found = index.concept_matcher.detect(text, vectors[text], top=top)
        best = found[0].score if found else 1.0
        found_all[text] = [(h.index, min(1.0, h.score / best) * (1.0 if h.lexical > 0 else DENSE_ONLY))
                           for h in found]
    with cache.lock:
        cache.detected.update(found_all)
        hits = {t: cache.detected.get(t) or found_all.get(t, []) for t in unique}
    return [AskedQuestion(t, m, hits[t]) for t, m in cleaned]


def _source_ids(index: LoadedIndex) -> list[str]:
    """Per record row, the id it counts as: a derived literature record counts as its twin in the corpus."""
    ids = []
    for rec in index.record_list:
        twin = rec.fields.get("same_as") if rec.derived_from else None
        ids.append(twin if twin in index.records else rec.id)
    return ids


def _best_sources(index: LoadedIndex, text: str, passage_ok: np.ndarray, ids: list[str],
                  k: int) -> list[tuple[str, float]]:
    tokens = [t for t in index.analyzer.tokens(text) if t in index.bm25.vocab_dict]
    if not tokens or not passage_ok.any():
        return []
    scores = np.where(passage_ok, index.bm25.get_scores(tokens), 0.0)
    n = min(len(scores), SOURCE_DEPTH * k)
    rows = np.argpartition(-scores, n - 1)[:n]
    rows = rows[np.argsort(-scores[rows], kind="stable")]
    out: dict[str, float] = {}
    for r in rows:
        if scores[r] <= 0:
            break
        out.setdefault(ids[int(index.passage_record[r])], float(scores[r]))
        if len(out) == k:
            break
    return list(out.items())


def top_sources(index: LoadedIndex, texts: list[str], k: int = 3) -> dict[str, list[tuple[str, float]]]:
    """Per text, its k best-matching source records by BM25 (bm25s scores, >0), as (id, score), best first;
    a derived literature record counts as its twin in the corpus. Cached per index and text."""
    cache = index.coverage_cache
    with cache.lock:
        todo = [t for t in dict.fromkeys(texts) if t not in cache.top_sources]
    passage_ok = np.isin(index.kinds, SOURCE_KINDS)[index.passage_record]
    ids = _source_ids(index)
    found = {text: _best_sources(index, text, passage_ok, ids, k) for text in todo}
    with cache.lock:
        cache.top_sources.update(found)
        return {t: cache.top_sources.get(t) or found.get(t, []) for t in texts}


@dataclass
class ConceptDemand:
    """Demand on every concept from a list of asked questions (question indexes refer to that list)."""

    questions: list[list[int]]          # per concept, the questions asking about it
    weights: list[dict[int, float]]     # per concept, question -> weight 0..1
    served: np.ndarray                  # per question, 0..1: how well one available expert covers it as a whole
    months: dict[str, Counter]          # 'YYYY-MM' -> concept label -> questions


def concept_demand(asked: list[AskedQuestion], usable: np.ndarray, labels: list[str]) -> ConceptDemand:
    """Demand per concept. USABLE is the experts x concepts strength (0..1) of available experts only;
    LABELS the concept labels in index order."""
    n_c = len(labels)
    demand = ConceptDemand([[] for _ in range(n_c)], [dict() for _ in range(n_c)],
                           np.zeros(len(asked), np.float32), defaultdict(Counter))
    if asked and len(usable):
        w = np.zeros((len(asked), n_c), np.float32)
        for qi, q in enumerate(asked):
            for ci, wt in q.concepts:
                w[qi, ci] = wt
        total = w.sum(1)
        served_all = (w @ usable.T) / np.maximum(total, 1e-6)[:, None]      # questions x experts
        demand.served = served_all.max(1) if served_all.size else demand.served
    for qi, q in enumerate(asked):
        for ci, wt in q.concepts:
            demand.questions[ci].append(qi)
            demand.weights[ci][qi] = wt
            if q.month:
                demand.months[q.month][labels[ci]] += 1
    return demand
