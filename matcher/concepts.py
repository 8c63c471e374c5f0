"""Find thesaurus concepts in a text: by words (labels, synonyms) and by embedding.

Lexical matching works on stems: a term matches when all its stems occur
within a short window of the text (so word order and small insertions do not
matter: "toetsen programmatisch" still finds "programmatisch toetsen").
Compound parts count too ("kennisclips" contains "clips").
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from indexer.analysis import Analyzer, content_words, stem
from indexer.thesaurus import Concept

GENERIC = {"onderwijs", "leren", "student", "studenten", "docent", "docenten", "les", "lessen", "school"}


@dataclass
class ConceptHit:
    index: int
    concept: Concept
    score: float
    lexical: float
    dense: float
    terms: list[str]


class ConceptMatcher:
    def __init__(self, concepts: list[Concept], vectors: np.ndarray, analyzer: Analyzer):
        self.concepts = concepts
        self.vectors = vectors
        self.analyzer = analyzer
        self.by_id = {c.id: i for i, c in enumerate(concepts)}
        self._terms: dict[str, list[tuple[int, tuple[str, ...], str, bool]]] = defaultdict(list)
        df: dict[str, int] = defaultdict(int)
        for i, c in enumerate(concepts):
            seen = set()
            for j, term in enumerate(c.terms()):
                stems = tuple(stem(w) for w in content_words(term))
                if not stems or stems in seen:
                    continue
                if len(stems) == 1 and (stems[0] in {stem(g) for g in GENERIC} or len(stems[0]) < 2):
                    continue
                seen.add(stems)
                for s in set(stems):
                    df[s] += 1
                self._terms[stems[0]].append((i, stems, term, j == 0))
        # terms are keyed by their rarest stem so lookups stay cheap
        rekeyed: dict[str, list] = defaultdict(list)
        for entries in self._terms.values():
            for entry in entries:
                key = min(entry[1], key=lambda s: df[s])
                rekeyed[key].append(entry)
        self._terms = rekeyed
        self._df = df
        self._n = max(1, len(concepts))

    def positions(self, text: str) -> dict[str, list[int]]:
        pos: dict[str, list[int]] = defaultdict(list)
        for i, w in enumerate(content_words(text)):
            pos[stem(w)].append(i)
            for part in self.analyzer.split_compound(w):
                pos[stem(part)].append(i)
        return pos

    def lexical(self, text: str, pos: dict[str, list[int]] | None = None) -> dict[int, tuple[float, list[str]]]:
        pos = pos if pos is not None else self.positions(text)
        found: dict[int, tuple[float, list[str]]] = {}
        for key in pos:
            for idx, stems, term, is_label in self._terms.get(key, ()):
                if not _near(stems, pos):
                    continue
                weight = (1.0 if is_label else 0.9) * (1.0 + 0.15 * (len(stems) - 1))
                rarity = min(1.0, 0.55 + 0.45 * math.log(1 + self._n / (1 + min(self._df[s] for s in stems)))
                             / math.log(1 + self._n))
                score = weight * rarity
                old = found.get(idx)
                if old is None:
                    found[idx] = (score, [term])
                else:
                    found[idx] = (max(old[0], score), old[1] + [term])
        return found

    def dense(self, qv: np.ndarray) -> np.ndarray:
        if not len(self.vectors):
            return np.zeros(0, np.float32)
        return self.vectors @ qv

    def detect(self, text: str, qv: np.ndarray | None, top: int = 8, min_score: float = 0.30,
               feedback: dict[int, float] | None = None) -> list[ConceptHit]:
        """Concepts of a text: its words (labels, synonyms), its embedding, and, when given,
        ``feedback``: how strongly each concept occurs in the best-matching records
        (pseudo-relevance feedback, 0..1), which grounds paraphrased questions in the corpus."""
        lex = self.lexical(text)
        sims = self.dense(qv) if qv is not None and len(self.vectors) else np.zeros(len(self.concepts))
        if len(sims) > 1:
            z = (sims - sims.mean()) / (sims.std() + 1e-6)
        else:
            z = np.zeros(len(sims))
        feedback = feedback or {}
        scores: dict[int, float] = {}
        candidates = set(lex) | {int(i) for i in np.argsort(-z)[:top * 3]} | set(feedback)
        for idx in candidates:
            lexical = lex[idx][0] if idx in lex else 0.0
            dense_part = 0.22 * max(0.0, float(z[idx]) - 1.5) if len(z) else 0.0
            prf = 0.8 * feedback.get(idx, 0.0) * (1.0 if lexical or float(z[idx] if len(z) else 0) > 1.0 else 0.5)
            scores[idx] = lexical + dense_part + prf
        hits = [ConceptHit(i, self.concepts[i], sc, lex.get(i, (0.0, []))[0], float(sims[i]) if len(sims) else 0.0,
                           lex.get(i, (0.0, []))[1]) for i, sc in scores.items() if sc >= min_score]
        hits.sort(key=lambda h: -h.score)
        return _prefer_specific(hits, self)[:top]


def _near(stems: tuple[str, ...], pos: dict[str, list[int]], slack: int = 3) -> bool:
    if any(s not in pos for s in stems):
        return False
    if len(stems) == 1:
        return True
    window = len(stems) + slack
    first = pos[stems[0]]
    for p in first:
        if all(any(abs(q - p) <= window for q in pos[s]) for s in stems[1:]):
            return True
    return False


def _prefer_specific(hits: list[ConceptHit], cm: ConceptMatcher) -> list[ConceptHit]:
    """When a concept and its broader concept both match on the same words, keep the narrower one first."""
    ids = {h.concept.id for h in hits}
    out = []
    for h in hits:
        narrower_hit = any(h.concept.id in o.concept.broader and set(o.terms) >= set(h.terms) and o.lexical > 0
                           for o in hits if o.concept.id in ids and o is not h)
        if narrower_hit:
            h.score *= 0.8
        out.append(h)
    out.sort(key=lambda h: -h.score)
    return out
