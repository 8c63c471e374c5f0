"""Record coverage: how strongly each expert and theme group covers each thesaurus concept, and which
source records name it. Depends on the index only, not on the questions.

Experts: only the expert's own profile makes coverage (``expertise``, ``role`` and ``tags`` fully, the
body text a little less: ``BODY_FACTOR``), by lexical concept matches (``ConceptMatcher.lexical``). A
mention that may mean something else (one common synonym, a word found only inside a compound:
'samenwerkend' is no evidence for 'werkenden') is ambiguous and stays below ``weak`` unless the
embedding confirms it. A theme group's name inside a profile is a link, not expertise. Linked work
(the expert's theme groups and their products) and dense similarity between the concept vector and
the expert's passages (z-scored over experts and over concepts) strengthen own evidence but alone stay
below ``weak``. Theme groups are scored alike from name, focus, tags, body, products and members.
Sources: literature, products, Kennisrotonde answers and reports whose text names the concept
unambiguously (a derived literature record with a twin in the corpus counts once).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from indexer.analysis import content_words, stem
from indexer.records import Record

from ..entities import neighbours
from ..loaded import LoadedIndex

WEAK = 0.5              # expert strength (0..1) below this is not coverage
DISTINCTIVE = 0.1       # a single synonym found in more than this share of passages is not sure evidence
VARIANT_MIN = 6         # word variants the stemmer keeps apart: stems of at least 6 letters ...
VARIANT_ENDINGS = {"er", "ers", "ing", "bar", "baar", "heid", "lijk", "ig", "e", "en", "s", "st", "ster", "isch"}
LEX_FULL = 0.8          # ConceptMatcher.lexical score that counts as a full match
BODY_FACTOR = 0.8       # a concept named in the body text, not in the profile fields
AMBIGUOUS = 0.9         # share of ``weak`` for a mention that may mean something else (one common synonym,
                        # a compound part): just not coverage
DENSE_CONFIRM = 0.1     # dense support that confirms an ambiguous mention
LINK_GROUP = 0.3        # the concept in a theme group the expert belongs to
LINK_PRODUCT = 0.2      # ... in a product of such a group
DENSE_MAX = 0.25        # most that dense similarity adds
DENSE_FROM, DENSE_SPAN = 1.0, 2.0   # z-score where dense support starts, and its span to the maximum
UNSURE_CAP = 0.9        # share of ``weak`` that links and dense support can reach without sure own evidence
LINK_ADDS = 0.5         # share of the linked-work strength added to own evidence
DENSE_MIN_RECORDS = 5   # fewer records or concepts than this: no dense support (nothing to compare with)
SOURCE_KINDS = ("literature", "product", "kennisrotonde", "report")


@dataclass
class RecordCoverage:
    """Coverage of every concept by the records of one index (independent of the questions).

    Matrices are float32 with one row per expert (theme group) in ``experts`` (``groups``) order and one
    column per concept of ``index.concepts``; strengths are 0..1.
    """

    experts: list[Record]
    expert: np.ndarray          # experts x concepts, 0..1
    expert_own: np.ndarray      # experts x concepts, lexical evidence in their own profile (0..1)
    available: np.ndarray       # bool per expert
    groups: list[Record]
    group: np.ndarray           # theme groups x concepts, 0..1
    group_own: np.ndarray       # theme groups x concepts, evidence in the group's own text
    active: np.ndarray          # bool per theme group
    sources: list[set[str]]     # per concept, ids of matching source records


def record_coverage(index: LoadedIndex, weak: float = WEAK) -> RecordCoverage:
    """Coverage by the records of INDEX for threshold WEAK (0..1], computed once per index and threshold
    (cached in ``index.coverage_cache``)."""
    return index.coverage_cache.coverage_for(weak, lambda: _record_coverage(index, weak))


def _whole_word_positions(text: str) -> dict[str, list[int]]:
    pos: dict[str, list[int]] = defaultdict(list)
    for i, w in enumerate(content_words(text)):
        pos[stem(w)].append(i)
    return pos


class _Lexicon:
    """Lexical concept evidence in record texts, with how trustworthy each match is."""

    def __init__(self, index: LoadedIndex):
        self.cm = index.concept_matcher
        self.index = index
        self.n = len(index.concepts)
        self._distinct: dict[str, bool] = {}
        # stems of all concept terms by their first letters, for variants the stemmer keeps apart
        # ('werkplekbegeleiding' / 'werkplekbegeleider', 'stapelen' / 'stapelbare')
        self._term_stems: dict[str, set[str]] = defaultdict(set)
        for c in index.concepts:
            for term in c.terms():
                for w in content_words(term):
                    st = stem(w)
                    if len(st) >= VARIANT_MIN:
                        self._term_stems[st[:VARIANT_MIN]].add(st)
        self._variants: dict[str, set[str]] = {}

    def variants(self, st: str) -> set[str]:
        """Term stems that are st plus a derivational ending, or st minus one ('begeleid' / 'begeleider'),
        not a compound ('onderwijs' / 'onderwijseenheden')."""
        hit = self._variants.get(st)
        if hit is None:
            hit = set()
            if len(st) >= VARIANT_MIN:
                for t in self._term_stems.get(st[:VARIANT_MIN], ()):
                    short, long_ = sorted((st, t), key=len)
                    if t != st and long_.startswith(short) and long_[len(short):] in VARIANT_ENDINGS:
                        hit.add(t)
            self._variants[st] = hit
        return hit

    def distinctive(self, term: str) -> bool:
        """A term most passages do not contain ('werkenden' stems to 'werk': everywhere)."""
        hit = self._distinct.get(term)
        if hit is None:
            words = content_words(term)
            # a share of the passages, but never fewer than a handful (a tiny corpus is all on-topic)
            share = max(DISTINCTIVE, 3.5 / max(1, len(self.index.passage_text)))
            hit = self._distinct[term] = bool(words) and all(self.index.is_distinctive(w, share) for w in words)
        return hit

    def vector(self, texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per concept over texts: best strength (0..1); found on whole words (not only inside a
        compound: 'samenwerkend' must not make an expert on 'werkenden'); and sure (the label, more
        than one of its terms, or one distinctive term)."""
        cm = self.cm
        best = np.zeros(self.n, np.float32)
        whole = np.zeros(self.n, bool)
        sure = np.zeros(self.n, bool)
        for text in texts:
            if not text:
                continue
            pos = cm.positions(text)
            plain = cm.lexical(text, _whole_word_positions(text))
            loose = defaultdict(list, {k: list(v) for k, v in pos.items()})
            for st, where in pos.items():
                for v in self.variants(st):
                    loose[v] += where
            # a variant-only match is never more than ambiguous ('whole' stays False for it)
            for idx, (score, terms) in cm.lexical(text, loose).items():
                best[idx] = max(best[idx], min(1.0, score / LEX_FULL))
                if idx in plain:
                    whole[idx] = True
                    found = set(plain[idx][1])
                    if len(found) > 1 or cm.concepts[idx].label in found or any(map(self.distinctive, found)):
                        sure[idx] = True
        return best, whole, sure


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _dense_support(index: LoadedIndex, recs: list[Record]) -> np.ndarray:
    """Dense evidence per record and concept, 0..DENSE_MAX; zero when there are too few to compare."""
    n_c = len(index.concepts)
    out = np.zeros((len(recs), n_c), np.float32)
    if len(recs) < DENSE_MIN_RECORDS or n_c < DENSE_MIN_RECORDS or not len(index.concept_vectors):
        return out
    rows, owner = [], []
    for i, r in enumerate(recs):
        rows += r.passages
        owner += [i] * len(r.passages)
    if not rows:
        return out
    sims = index.passage_vectors(rows) @ np.asarray(index.concept_vectors, np.float32).T
    best = np.full((len(recs), n_c), -1.0, np.float32)
    np.maximum.at(best, np.asarray(owner), sims)
    has = np.array([bool(r.passages) for r in recs])
    b = best[has]
    z_rec = (b - b.mean(0)) / (b.std(0) + 1e-6)                                  # this record vs other records
    z_con = (b - b.mean(1, keepdims=True)) / (b.std(1, keepdims=True) + 1e-6)    # this concept vs other concepts
    z = np.minimum(z_rec, z_con)
    out[has] = DENSE_MAX * np.clip((z - DENSE_FROM) / DENSE_SPAN, 0.0, 1.0)
    return out


def _linked(index: LoadedIndex, rid: str, kinds: tuple[str, ...]) -> list[str]:
    return [o for o, _ in neighbours(index, rid) if o in index.records and index.records[o].kind in kinds]


def _combine(own: np.ndarray, link: np.ndarray, dense: np.ndarray, weak: float) -> np.ndarray:
    """Strength from own evidence (0..1), linked work and dense support.

    Sure own evidence (>= weak) is coverage, strengthened by the rest. Below that (an ambiguous
    mention, or nothing) links and dense similarity can add up to just under ``weak``; only an
    ambiguous mention that the dense similarity clearly confirms crosses it.
    """
    cap = UNSURE_CAP * weak
    sure = np.minimum(1.0, own + LINK_ADDS * link + dense)
    unsure = np.minimum(cap, np.maximum(own, link) + LINK_ADDS * np.minimum(own, link) + dense)
    confirmed = (own > 0) & (dense >= DENSE_CONFIRM)
    unsure = np.where(confirmed, np.minimum(1.0, own + LINK_ADDS * link + dense), unsure)
    return np.where(own >= weak, sure, unsure).astype(np.float32)


def _group_name_pattern(groups: list[Record]) -> re.Pattern | None:
    """Theme-group names as written in a profile ("lid van de themagroep Inclusief onderwijs", "trekker van
    Themagroep X"): a link to the group, not expertise on its topic. A bare topic phrase without "groep"
    before it is left alone."""
    rest = set()
    for g in groups:
        for name in (g.title, str(g.fields.get("name") or "")):
            name = " ".join(name.split())
            name = re.sub(r"^(?:thema|werk)?groep\s+", "", name, flags=re.I)
            for variant in (name, re.sub(r"\s*\([^)]*\)\s*$", "", name)):
                if len(variant) >= 3:
                    rest.add(variant)
    if not rest:
        return None
    names = "|".join(re.escape(n) for n in sorted(rest, key=len, reverse=True))
    return re.compile(rf"\b(?:thema|werk)?groep\s+[\"'‘“]?(?:{names})[\"'’”]?", re.I)



class _WholeText:
    """Sure lexical strength per concept of a record's full text (title, focus, tags, passages), once per record."""

    def __init__(self, index: LoadedIndex, lex: _Lexicon):
        self.index, self.lex = index, lex
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, rec: Record) -> np.ndarray:
        if rec.id not in self._cache:
            texts = [rec.title, str(rec.fields.get("focus") or ""), " ; ".join(rec.tags)]
            texts += [self.index.passage_text[p] for p in rec.passages] or [self.index.record_body(rec.id)]
            best, whole, sure = self.lex.vector(texts)
            self._cache[rec.id] = np.where(whole & sure, best, 0.0).astype(np.float32)
        return self._cache[rec.id]


class _OwnEvidence:
    """Strength per concept of a record's own text: profile fields fully, the body by ``BODY_FACTOR``,
    an ambiguous mention at ``AMBIGUOUS * weak``; theme-group names are no evidence."""

    def __init__(self, lex: _Lexicon, weak: float, groups: list[Record]):
        self.lex = lex
        self.ambiguous = AMBIGUOUS * weak
        self.group_names = _group_name_pattern(groups)

    def drop_groups(self, text: str) -> str:
        """TEXT with theme-group names replaced by a separator."""
        return self.group_names.sub(" ; ", text) if self.group_names and text else text

    def __call__(self, fields_texts: list[str], body: str) -> np.ndarray:
        head, head_whole, _ = self.lex.vector(fields_texts)
        text, body_whole, sure = self.lex.vector([body])
        return np.maximum(np.where(head_whole, 1.0, self.ambiguous) * head,
                          np.where(body_whole & sure, BODY_FACTOR, self.ambiguous) * text).astype(np.float32)


def _products_of(index: LoadedIndex, gid: str) -> list[Record]:
    return [index.records[p] for p in _linked(index, gid, ("product",))]


def _group_evidence(index: LoadedIndex, groups: list[Record], own: _OwnEvidence,
                    whole_text: _WholeText) -> tuple[np.ndarray, np.ndarray]:
    """Theme groups x concepts: own text, and their products as linked support."""
    n_c = own.lex.n
    g_own = np.zeros((len(groups), n_c), np.float32)
    g_link = np.zeros((len(groups), n_c), np.float32)
    for i, g in enumerate(groups):
        g_own[i] = own([g.title, str(g.fields.get("focus") or ""), " ; ".join(g.tags)], index.record_body(g.id))
        for p in _products_of(index, g.id):
            g_link[i] = np.maximum(g_link[i], LINK_PRODUCT * whole_text(p))
    return g_own, g_link


def _expert_evidence(index: LoadedIndex, experts: list[Record], groups: list[Record], g_own: np.ndarray,
                     g_link: np.ndarray, own: _OwnEvidence, whole_text: _WholeText) -> tuple[np.ndarray, np.ndarray]:
    """Experts x concepts: profile fields and body, their groups and those groups' products as support.
    A member's own evidence also supports its group (G_LINK is updated in place)."""
    e_own = np.zeros((len(experts), own.lex.n), np.float32)
    e_link = np.zeros((len(experts), own.lex.n), np.float32)
    group_row = {g.id: i for i, g in enumerate(groups)}
    for i, e in enumerate(experts):
        f = e.fields
        e_own[i] = own(_as_list(f.get("expertise")) + [own.drop_groups(r) for r in _as_list(f.get("role"))]
                       + [" ; ".join(e.tags)], own.drop_groups(index.record_body(e.id)))
        for gid in _linked(index, e.id, ("themegroup",)):
            e_link[i] = np.maximum(e_link[i], LINK_GROUP * g_own[group_row[gid]])
            for p in _products_of(index, gid):
                e_link[i] = np.maximum(e_link[i], LINK_PRODUCT * whole_text(p))
            g_link[group_row[gid]] = np.maximum(g_link[group_row[gid]], LINK_GROUP * e_own[i])
    return e_own, e_link


def _sources(index: LoadedIndex, whole_text: _WholeText, n_c: int) -> list[set[str]]:
    """Per concept, the ids of the source records whose text names it (a derived twin counts once)."""
    sources: list[set[str]] = [set() for _ in range(n_c)]
    for rec in index.record_list:
        if rec.kind not in SOURCE_KINDS:
            continue
        if rec.derived_from and rec.fields.get("same_as") in index.records:
            continue  # its twin in the corpus is counted
        for idx in np.nonzero(whole_text(rec))[0]:
            sources[int(idx)].add(rec.id)
    return sources


def _record_coverage(index: LoadedIndex, weak: float = WEAK) -> RecordCoverage:
    lex = _Lexicon(index)
    experts = [r for r in index.record_list if r.kind == "expert"]
    groups = [r for r in index.record_list if r.kind == "themegroup"]
    whole_text = _WholeText(index, lex)
    own = _OwnEvidence(lex, weak, groups)
    g_own, g_link = _group_evidence(index, groups, own, whole_text)
    e_own, e_link = _expert_evidence(index, experts, groups, g_own, g_link, own, whole_text)
    expert = _combine(e_own, e_link, _dense_support(index, experts), weak)
    group = _combine(g_own, g_link, _dense_support(index, groups), weak)
    return RecordCoverage(experts, expert, e_own, np.array([e.active for e in experts], bool),
                          groups, group, g_own, np.array([g.active for g in groups], bool),
                          _sources(index, whole_text, lex.n))
