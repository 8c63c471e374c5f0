"""Find thesaurus concepts in a text by their words (labels and synonyms).

Matching works on stems: a term matches when all its stems occur within a
short window of the text (so word order and small insertions do not matter:
"toetsen programmatisch" still finds "programmatisch toetsen"). Compound parts
count too ("kennisclips" contains "clips"). The indexer stores the concepts
found in every record; the matcher uses the same class on questions.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict

from .analysis import Analyzer, content_words, stem
from .thesaurus import Concept

#: Words too general to stand for a concept on their own.
GENERIC = {"onderwijs", "leren", "student", "studenten", "docent", "docenten", "les", "lessen", "school"}


class ConceptTerms:
    """Concept labels and synonyms as stem tuples, keyed by their rarest stem."""

    def __init__(self, concepts: list[Concept], analyzer: Analyzer):
        self.concepts = concepts
        self.analyzer = analyzer
        self.by_id = {c.id: i for i, c in enumerate(concepts)}
        terms: dict[str, list[tuple[int, tuple[str, ...], str, bool]]] = defaultdict(list)
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
                terms[stems[0]].append((i, stems, term, j == 0))
        # terms are keyed by their rarest stem so lookups stay cheap
        rekeyed: dict[str, list] = defaultdict(list)
        for entries in terms.values():
            for entry in entries:
                key = min(entry[1], key=lambda s: df[s])
                rekeyed[key].append(entry)
        self._df = df
        self._n = max(1, len(concepts))
        # rarest stem -> [(concept index, stems, term, is label, score)]: the score (label or synonym,
        # length, rarity) depends on the thesaurus only, so it is computed here once
        self._terms: dict[str, list[tuple[int, tuple[str, ...], str, bool, float]]] = {
            key: [entry + (self._term_score(entry[1], entry[3]),) for entry in entries]
            for key, entries in rekeyed.items()}
        self._stems_cache: dict[str, tuple[str, ...]] = {}

    def positions(self, text: str) -> dict[str, list[int]]:
        """Word positions of TEXT by stem (content words, and the parts of known compounds at the compound's
        position)."""
        pos: dict[str, list[int]] = defaultdict(list)
        for i, w in enumerate(content_words(text)):
            for st in self._word_stems(w):
                pos[st].append(i)
        return pos

    def _word_stems(self, word: str) -> tuple[str, ...]:
        """The stems ``positions`` files a content word under: its own, then those of its compound parts;
        kept per word (the analyzer's vocabulary decides the compounds)."""
        stems = self._stems_cache.get(word)
        if stems is None:
            stems = (stem(word),) + tuple(stem(part) for part in self.analyzer.split_compound(word))
            if len(self._stems_cache) < 500_000:
                self._stems_cache[word] = stems
        return stems

    def lexical(self, text: str, pos: dict[str, list[int]] | None = None) -> dict[int, tuple[float, list[str]]]:
        """Concepts whose label or a synonym occurs in TEXT, all its words within a few positions of each
        other: concept index -> (score, matched terms). Score = 1 for a label or 0.9 for a synonym, +15% per extra
        word of the term, times a rarity factor 0.55..1 (lower when the term's rarest stem is common among the
        concept terms). POS: precomputed ``positions(text)``."""
        pos = pos if pos is not None else self.positions(text)
        found: dict[int, tuple[float, list[str]]] = {}
        for key in pos:
            for idx, stems, term, _, score in self._terms.get(key, ()):
                if not _near(stems, pos):
                    continue
                old = found.get(idx)
                if old is None:
                    found[idx] = (score, [term])
                else:
                    found[idx] = (max(old[0], score), old[1] + [term])
        return found

    def _term_score(self, stems: tuple[str, ...], is_label: bool) -> float:
        """A term's score when found: 1 for a label or 0.9 for a synonym, +15% per extra word, times the
        rarity factor 0.55..1 of its rarest stem among the concept terms."""
        weight = (1.0 if is_label else 0.9) * (1.0 + 0.15 * (len(stems) - 1))
        rarity = min(1.0, 0.55 + 0.45 * math.log(1 + self._n / (1 + min(self._df[s] for s in stems)))
                     / math.log(1 + self._n))
        return weight * rarity


def _near(stems: tuple[str, ...], pos: dict[str, list[int]], slack: int = 3) -> bool:
    if any(s not in pos for s in stems):
        return False
    if len(stems) == 1:
        return True
    window = len(stems) + slack
    first = pos[stems[0]]
    for p in first:
        if all(_within(pos[s], p, window) for s in stems[1:]):
            return True
    return False


def _within(positions: list[int], p: int, window: int) -> bool:
    """Whether some position (ascending, as ``positions`` files them) lies within WINDOW of P."""
    i = bisect_left(positions, p - window)
    return i < len(positions) and positions[i] <= p + window
