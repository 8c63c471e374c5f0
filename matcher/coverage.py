"""Blind spots: where the network has demand or knowledge but no expert.

For every thesaurus concept the report gives

- **expert coverage**: per expert a 0..1 strength. Only the expert's own
  profile can make coverage: ``expertise``, ``role`` and ``tags`` fully, the
  body text a little less (lexical concept matches by
  ``ConceptMatcher.lexical``). A mention that may mean something else (one
  common synonym, or a word found only inside a compound: 'samenwerkend' is
  no evidence for 'werkenden') counts as ambiguous and stays below ``weak``
  unless the embedding confirms it. A theme group's name inside a profile
  ("lid van de themagroep Inclusief onderwijs") is a link, not expertise,
  and is left out. Linked work (theme groups the expert belongs to or leads,
  products of those groups) and the dense similarity between the concept
  vector and the expert's passages (z-scored over experts and over concepts,
  so being the nearest expert is not enough) strengthen own evidence but
  alone stay below ``weak``. Unavailable experts are scored the same way,
  flagged, and never count as coverage;
- **theme groups**, scored alike from name, focus, tags, body, products and
  members; stopped groups are flagged. A group naming a topic is *not*
  expert coverage: "a group mentions it, no person knows it" is a blind spot;
- **sources**: literature, products, Kennisrotonde answers and reports whose
  text names the concept unambiguously (a derived literature record with a
  twin in the corpus counts once);
- **demand**: the questions whose top concepts (the engine's own concept
  detection, at most ``TOP_CONCEPTS`` per question) include the concept.
  Demand counts direct detections only, not broader concepts: experts of a
  broad concept do not necessarily know its narrower ones, and counting
  upwards would put the broadest concepts on top. Thesaurus links are used to
  *merge* blind spots instead.

A concept is a blind spot when it has demand or sources and no available
expert reaches ``weak``. Blind-spot concepts close in the thesaurus (linked,
or linked through one other concept) and asked about in mostly the same
questions form one entry; an unasked linked concept with mostly the same
sources joins it. A weak question (no good expert for its concepts) whose
best BM25 sources mostly belong to an entry's sources joins that entry at
half weight: a paraphrase or another language that missed the concept words
still counts as demand for the topic.

Entries are ranked by weighted demand times a source factor: a question
counts by how central the concept is in it (relative detection score, halved
for embedding-only detections, 0.75 when the question's other concepts have
a good expert); an entry without sources gets a quarter of that, rising to
full weight at three sources. A topic the network has knowledge on but no
person is the clearest gap; demand on a topic without any source is often a
stray detection. Entries nobody asked about come last, ordered by sources.

``compute`` returns plain JSON-able data; ``to_csv`` and ``heatmap_svg``
render it. Record coverage is cached per loaded index; question vectors,
detections and BM25 sources are cached in memory only (stored questions are
personal data with a retention period, so nothing is written to disk).
"""
from __future__ import annotations

import logging
import math
import re
import threading
import weakref
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from indexer.analysis import content_words, stem
from indexer.errors import InvalidInput
from indexer.records import Record

from .entities import neighbours
from .loaded import LoadedIndex

log = logging.getLogger(__name__)

WEAK = 0.5              # expert strength below this is not coverage
TOP_CONCEPTS = 3        # concepts per question that count as its demand
EMBED_BATCH = 64
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
NO_SOURCE_FACTOR = 0.25 # ranking weight of a blind spot with no source at all ...
SOURCE_STEP = 0.3       # ... plus this per source, up to 1 (three sources)
DENSE_ONLY = 0.5        # demand weight of a concept detected by embedding alone, without its words
SERVED_FACTOR = 0.75    # a question that available experts serve well as a whole counts less
VIA_SOURCES = 0.5       # demand weight of a weak question that reaches a blind spot through its sources ...
VIA_SOURCES_HITS = 2    # ... when this many of its three best-matching sources are the blind spot's
BAR_SAMPLE = 500        # questions sampled for the typical best-source score
BRANCH_HOPS = 3         # asked concepts this many broader/narrower steps apart, all without expert, merge
MERGE_OVERLAP = 0.5     # share of the smaller question (or source) set two concepts must share to merge
CLEAR = 0.75            # ranking score from which a blind spot is clear (one central question, 2 sources)
MAX_QUESTIONS = 25      # example questions kept per blind spot
MAX_LISTED = 10         # experts / theme groups listed per concept
MIN_LISTED = 0.15       # ... with at least this strength
SOURCE_KINDS = ("literature", "product", "kennisrotonde", "report")
DATE = re.compile(r"^(\d{4})-(\d{2})-\d{2}")
_LOCK = threading.Lock()


# --- per-index part -----------------------------------------------------------

@dataclass
class RecordCoverage:
    """Coverage of every concept by the records of one index (independent of the questions)."""

    experts: list[Record]
    expert: np.ndarray          # experts x concepts, 0..1
    expert_own: np.ndarray      # experts x concepts, lexical evidence in their own profile (0..1)
    available: np.ndarray       # bool per expert
    groups: list[Record]
    group: np.ndarray           # theme groups x concepts, 0..1
    group_own: np.ndarray       # theme groups x concepts, evidence in the group's own text
    active: np.ndarray          # bool per theme group
    sources: list[set[str]]     # per concept, ids of matching source records


_CACHE: "weakref.WeakKeyDictionary[LoadedIndex, dict[float, RecordCoverage]]" = weakref.WeakKeyDictionary()


def record_coverage(index: LoadedIndex, weak: float = WEAK) -> RecordCoverage:
    """Coverage by the records of an index, computed once per index (and threshold)."""
    with _LOCK:
        cached = _CACHE.setdefault(index, {}).get(weak)
    if cached is None:
        cached = _record_coverage(index, weak)
        with _LOCK:
            _CACHE[index][weak] = cached
    return cached


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


def _passage_matrix(index: LoadedIndex, rows: list[int]) -> np.ndarray:
    if not rows:
        return np.zeros((0, index.dim), np.float32)
    vecs = index.vectors
    try:
        out = vecs.reconstruct_batch(np.asarray(rows, dtype=np.int64))
    except Exception:  # older faiss or an index type without batch reconstruct
        out = np.stack([vecs.reconstruct(int(r)) for r in rows])
    return np.asarray(out, np.float32)


def _dense_support(index: LoadedIndex, recs: list[Record]) -> np.ndarray:
    """Dense evidence per record and concept, 0..DENSE_MAX; zero when there are too few to compare."""
    n_c = len(index.concepts)
    out = np.zeros((len(recs), n_c), np.float32)
    if len(recs) < 5 or n_c < 5 or not len(index.concept_vectors):
        return out
    rows, owner = [], []
    for i, r in enumerate(recs):
        rows += r.passages
        owner += [i] * len(r.passages)
    if not rows:
        return out
    sims = _passage_matrix(index, rows) @ np.asarray(index.concept_vectors, np.float32).T
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
    cap = 0.9 * weak
    sure = np.minimum(1.0, own + 0.5 * link + dense)
    unsure = np.minimum(cap, np.maximum(own, link) + 0.5 * np.minimum(own, link) + dense)
    confirmed = (own > 0) & (dense >= DENSE_CONFIRM)
    unsure = np.where(confirmed, np.minimum(1.0, own + 0.5 * link + dense), unsure)
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


def _record_coverage(index: LoadedIndex, weak: float = WEAK) -> RecordCoverage:
    lex = _Lexicon(index)
    n_c = lex.n
    experts = [r for r in index.record_list if r.kind == "expert"]
    groups = [r for r in index.record_list if r.kind == "themegroup"]
    text_cache: dict[str, np.ndarray] = {}

    def whole_text(rec: Record) -> np.ndarray:
        """Sure lexical strength of a record's full text (title, focus, tags, passages)."""
        if rec.id not in text_cache:
            texts = [rec.title, str(rec.fields.get("focus") or ""), " ; ".join(rec.tags)]
            texts += [index.passage_text[p] for p in rec.passages] or [rec.body]
            best, whole, sure = lex.vector(texts)
            text_cache[rec.id] = np.where(whole & sure, best, 0.0).astype(np.float32)
        return text_cache[rec.id]

    def products_of(gid: str) -> list[Record]:
        return [index.records[p] for p in _linked(index, gid, ("product",))]

    group_names = _group_name_pattern(groups)

    def drop_groups(text: str) -> str:
        return group_names.sub(" ; ", text) if group_names and text else text

    ambiguous = AMBIGUOUS * weak

    def own(fields_texts: list[str], body: str) -> np.ndarray:
        head, head_whole, _ = lex.vector(fields_texts)
        text, body_whole, sure = lex.vector([body])
        return np.maximum(np.where(head_whole, 1.0, ambiguous) * head,
                          np.where(body_whole & sure, BODY_FACTOR, ambiguous) * text).astype(np.float32)

    # theme groups: their own text; products and members as support
    g_own = np.zeros((len(groups), n_c), np.float32)
    g_link = np.zeros((len(groups), n_c), np.float32)
    group_row = {g.id: i for i, g in enumerate(groups)}
    for i, g in enumerate(groups):
        g_own[i] = own([g.title, str(g.fields.get("focus") or ""), " ; ".join(g.tags)], g.body)
        for p in products_of(g.id):
            g_link[i] = np.maximum(g_link[i], LINK_PRODUCT * whole_text(p))

    # experts: profile fields and body; their groups and those groups' products as support
    e_own = np.zeros((len(experts), n_c), np.float32)
    e_link = np.zeros((len(experts), n_c), np.float32)
    for i, e in enumerate(experts):
        f = e.fields
        e_own[i] = own(_as_list(f.get("expertise")) + [drop_groups(r) for r in _as_list(f.get("role"))]
                       + [" ; ".join(e.tags)], drop_groups(e.body))
        for gid in _linked(index, e.id, ("themegroup",)):
            e_link[i] = np.maximum(e_link[i], LINK_GROUP * g_own[group_row[gid]])
            for p in products_of(gid):
                e_link[i] = np.maximum(e_link[i], LINK_PRODUCT * whole_text(p))
            g_link[group_row[gid]] = np.maximum(g_link[group_row[gid]], LINK_GROUP * e_own[i])
    expert = _combine(e_own, e_link, _dense_support(index, experts), weak)
    group = _combine(g_own, g_link, _dense_support(index, groups), weak)

    sources: list[set[str]] = [set() for _ in range(n_c)]
    for rec in index.record_list:
        if rec.kind not in SOURCE_KINDS:
            continue
        if rec.derived_from and rec.fields.get("same_as") in index.records:
            continue  # its twin in the corpus is counted
        for idx in np.nonzero(whole_text(rec))[0]:
            sources[int(idx)].add(rec.id)
    return RecordCoverage(experts, expert, e_own, np.array([e.active for e in experts], bool),
                          groups, group, g_own, np.array([g.active for g in groups], bool), sources)


# --- questions --------------------------------------------------------------------

@dataclass
class AskedQuestion:
    text: str
    month: str | None
    concepts: list[tuple[int, float]]   # (concept index, weight 0..1: relative to the top concept, halved
                                        # when only the embedding found it)


def _clean(q: Any) -> tuple[str, str | None] | None:
    if not isinstance(q, dict):
        return None
    text = q.get("question")
    if not isinstance(text, str):
        return None
    text = " ".join(text.split())[:2000]
    if not any(c.isalpha() for c in text):
        return None
    m = DATE.match(str(q.get("date") or ""))
    month = f"{m.group(1)}-{m.group(2)}" if m and 1 <= int(m.group(2)) <= 12 else None
    return text, month


_VECTORS: "OrderedDict[tuple[str, str], np.ndarray]" = OrderedDict()
_VECTORS_MAX = 50_000
_DETECTED: "weakref.WeakKeyDictionary[LoadedIndex, dict[str, list[tuple[int, float]]]]" = weakref.WeakKeyDictionary()
def clear_caches() -> None:
    """Forget cached question vectors, detections and record coverage (for benchmarks and tests)."""
    with _LOCK:
        _VECTORS.clear()
        _DETECTED.clear()
        _CACHE.clear()


def _embed(embedder, texts: list[str]) -> dict[str, np.ndarray]:
    """Query vectors, in batches; kept in memory only (stored questions are personal data with a retention
    period, so their vectors are not written to disk)."""
    out: dict[str, np.ndarray] = {}
    todo = []
    with _LOCK:
        for t in texts:
            v = _VECTORS.get((embedder.name, t))
            if v is None:
                todo.append(t)
            else:
                out[t] = v
    for start in range(0, len(todo), EMBED_BATCH):
        batch = todo[start:start + EMBED_BATCH]
        vecs = embedder.embed_queries(batch)
        with _LOCK:
            for t, v in zip(batch, vecs):
                out[t] = _VECTORS[(embedder.name, t)] = v
            while len(_VECTORS) > _VECTORS_MAX:
                _VECTORS.popitem(last=False)
    return out


def detect_questions(engine, questions: list[dict], top: int = TOP_CONCEPTS) -> list[AskedQuestion]:
    """Concepts per question with the engine's detection; each distinct text is embedded and detected once."""
    index = engine.index()
    cm = index.concept_matcher
    cleaned = [c for c in (_clean(q) for q in questions) if c]
    unique = list(dict.fromkeys(t for t, _ in cleaned))
    name, dim = engine.embedder.name, engine.embedder.dim
    with _LOCK:
        known = _DETECTED.setdefault(index, {})
        todo = [t for t in unique if t not in known]
        for q in questions:  # vectors stored with the question (consented intakes) need no embedding
            vec = q.get("vector") if isinstance(q, dict) else None
            if vec is not None and q.get("embedder") == name and len(vec) == dim and isinstance(q.get("question"), str):
                _VECTORS[(name, " ".join(q["question"].split())[:2000])] = np.asarray(vec, np.float32)
    vectors = _embed(engine.embedder, todo)
    found_all = {}
    for text in todo:
        found = cm.detect(text, vectors[text], top=top)
        best = found[0].score if found else 1.0
        found_all[text] = [(h.index, min(1.0, h.score / best) * (1.0 if h.lexical > 0 else DENSE_ONLY))
                           for h in found]
    with _LOCK:
        known.update(found_all)
        hits = {t: known.get(t) or found_all.get(t, []) for t in unique}
    return [AskedQuestion(t, m, hits[t]) for t, m in cleaned]


_TOP_SOURCES: "weakref.WeakKeyDictionary[LoadedIndex, dict[str, list[tuple[str, float]]]]" = \
    weakref.WeakKeyDictionary()


def top_sources(index: LoadedIndex, texts: list[str], k: int = 3) -> dict[str, list[tuple[str, float]]]:
    """Per text, its k best-matching source records by BM25, as (id, score); a derived literature record counts
    as its twin in the corpus."""
    with _LOCK:
        known = _TOP_SOURCES.setdefault(index, {})
        todo = [t for t in dict.fromkeys(texts) if t not in known]
    is_source = np.isin(index.kinds, SOURCE_KINDS)
    passage_ok = is_source[index.passage_record]
    ids = []
    for rec in index.record_list:
        twin = rec.fields.get("same_as") if rec.derived_from else None
        ids.append(twin if twin in index.records else rec.id)
    found = {}
    for text in todo:
        tokens = [t for t in index.analyzer.tokens(text) if t in index.bm25.vocab_dict]
        if not tokens or not passage_ok.any():
            found[text] = []
            continue
        scores = np.where(passage_ok, index.bm25.get_scores(tokens), 0.0)
        n = min(len(scores), 8 * k)
        rows = np.argpartition(-scores, n - 1)[:n]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        out: dict[str, float] = {}
        for r in rows:
            if scores[r] <= 0:
                break
            out.setdefault(ids[int(index.passage_record[r])], float(scores[r]))
            if len(out) == k:
                break
        found[text] = list(out.items())
    with _LOCK:
        known.update(found)
        return {t: known.get(t) or found.get(t, []) for t in texts}


# --- the report ---------------------------------------------------------------------

def _round(x: float) -> float:
    return round(float(x), 3)


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def compute(engine, questions: list[dict], *, weak: float = WEAK) -> dict:
    """The coverage report for the questions (dicts with 'question' and optional 'date' YYYY-MM-DD)."""
    if isinstance(weak, bool) or not isinstance(weak, (int, float)) or not 0 < weak <= 1:
        raise InvalidInput("'weak' must be a number above 0 and at most 1", field="weak")
    if not isinstance(questions, list):
        raise InvalidInput("'questions' must be a list of objects with a 'question' text", field="questions")
    index = engine.index()
    rc = record_coverage(index, float(weak))
    asked = detect_questions(engine, questions)
    report = build_report(index, rc, asked, weak=float(weak))
    log.info("coverage: %d questions, %d concepts, %d blind spots", len(asked), len(report["concepts"]),
             len(report["blind_spots"]))
    return report


def build_report(index: LoadedIndex, rc: RecordCoverage, asked: list[AskedQuestion], *, weak: float = WEAK) -> dict:
    concepts = index.concepts
    n_c = len(concepts)
    usable = rc.expert * rc.available[:, None] if len(rc.experts) else np.zeros((0, n_c), np.float32)
    best_available = usable.max(0) if len(rc.experts) else np.zeros(n_c, np.float32)
    covered = best_available >= weak

    # demand, and how well each question is served by available experts as a whole
    demand_q: list[list[int]] = [[] for _ in range(n_c)]
    weight_q: list[dict[int, float]] = [dict() for _ in range(n_c)]
    months: dict[str, Counter] = defaultdict(Counter)
    served = np.zeros(len(asked), np.float32)
    if asked and len(rc.experts):
        w = np.zeros((len(asked), n_c), np.float32)
        for qi, q in enumerate(asked):
            for ci, wt in q.concepts:
                w[qi, ci] = wt
        total = w.sum(1)
        served_all = (w @ usable.T) / np.maximum(total, 1e-6)[:, None]      # questions x experts
        served = served_all.max(1) if served_all.size else served
    for qi, q in enumerate(asked):
        for ci, wt in q.concepts:
            demand_q[ci].append(qi)
            weight_q[ci][qi] = wt
            if q.month:
                months[q.month][concepts[ci].label] += 1

    def listed(matrix: np.ndarray, recs: list[Record], ci: int, flag: str, ok: np.ndarray) -> list[dict]:
        if not len(recs):
            return []
        col = matrix[:, ci]
        order = np.argsort(-col, kind="stable")[:MAX_LISTED]
        return [{"id": recs[i].id, "score": _round(col[i]), flag: bool(ok[i])}
                for i in order if col[i] >= MIN_LISTED]

    out_concepts = []
    blind = np.zeros(n_c, bool)
    for ci, c in enumerate(concepts):
        n_src = len(rc.sources[ci])
        demand = len(demand_q[ci])
        blind[ci] = (demand > 0 or n_src > 0) and not covered[ci]
        out_concepts.append({
            "id": c.id, "label": c.label, "group": c.group,
            "experts": listed(rc.expert, rc.experts, ci, "available", rc.available),
            "themegroups": listed(rc.group, rc.groups, ci, "active", rc.active),
            "sources": n_src, "demand": demand, "blind_spot": bool(blind[ci]),
        })

    spots = _blind_spots(index, rc, asked, served, demand_q, weight_q, blind, weak)
    unmatched = list(dict.fromkeys(q.text for q in asked if not q.concepts))
    return {
        "concepts": out_concepts,
        "blind_spots": spots,
        # questions without any recognised concept: a topic the thesaurus may lack
        "unmatched": {"count": sum(1 for q in asked if not q.concepts), "questions": unmatched[:MAX_QUESTIONS]},
        "months": {m: dict(months[m].most_common()) for m in sorted(months)},
        "questions": len(asked),
        "weak": weak,
    }


def source_factor(n_sources: int) -> float:
    """Ranking weight of a blind spot by its sources: knowledge in the network but no person is the clearest
    gap; demand on a topic with no source at all is often a stray concept detection."""
    return min(1.0, NO_SOURCE_FACTOR + SOURCE_STEP * n_sources)


def _blind_spots(index, rc: RecordCoverage, asked, served, demand_q, weight_q, blind, weak) -> list[dict]:
    concepts = index.concepts
    by_id = {c.id: i for i, c in enumerate(concepts)}
    members = [int(i) for i in np.nonzero(blind)[0]]
    parent = {i: i for i in members}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    near: dict[int, set[int]] = defaultdict(set)     # broader, narrower and related
    tree: dict[int, set[int]] = defaultdict(set)     # broader and narrower only
    for i, c in enumerate(concepts):
        for other in c.broader + c.related:
            j = by_id.get(other)
            if j is not None and j != i:
                near[i].add(j)
                near[j].add(i)
                if other in c.broader:
                    tree[i].add(j)
                    tree[j].add(i)
    qsets = {i: set(demand_q[i]) for i in members}
    asked_about = [i for i in members if qsets[i]]
    unasked = [i for i in members if not qsets[i]]

    def most_shared(a: int, b: int, sets) -> bool:
        sa, sb = sets(a), sets(b)
        return bool(sa and sb) and len(sa & sb) >= MERGE_OVERLAP * min(len(sa), len(sb))

    # 1. Concepts asked about: merge two that are close in the thesaurus (linked, or both linked to one other
    #    concept) and asked about in mostly the same questions; two on one branch of the hierarchy with no
    #    expert anywhere between them (COIL and internationale klas under internationalisering); and any two
    #    asked in (nearly) the same questions.
    asked_set = set(asked_about)
    for a in asked_about:
        for b in (set(near[a]).union(*(near[n] for n in near[a])) & asked_set) - {a}:
            if most_shared(a, b, qsets.get):
                parent[find(a)] = find(b)
    blind_set = set(members)
    for a in asked_about:
        frontier, seen = {a}, {a}
        for _ in range(BRANCH_HOPS):
            frontier = {n for f in frontier for n in tree[f] if n in blind_set and n not in seen}
            seen |= frontier
            for b in frontier & asked_set:
                parent[find(a)] = find(b)
    for i, a in enumerate(asked_about):
        for b in asked_about[i + 1:]:
            shared = len(qsets[a] & qsets[b])
            if shared >= 2 and shared >= 0.6 * len(qsets[a] | qsets[b]):
                parent[find(a)] = find(b)
    # 2. A concept nobody asked about joins the entry of a linked concept that has most of its sources
    #    (one step only, so a chain of links does not pull in half the thesaurus) ...
    sources_of = rc.sources.__getitem__
    alone = []
    for z in unasked:
        hosts = [a for a in near[z] if a in asked_set and rc.sources[z]
                 and len(rc.sources[z] & rc.sources[a]) >= MERGE_OVERLAP * len(rc.sources[z])]
        if hosts:
            host = max(hosts, key=lambda a: (len(rc.sources[z] & rc.sources[a]), -a))
            parent[z] = find(host)
        else:
            alone.append(z)
    # 3. ... and otherwise merges with a linked one nobody asked about either when they share most sources.
    alone_set = set(alone)
    for z in alone:
        for b in (near[z] & alone_set) - {z}:
            if most_shared(z, b, sources_of):
                parent[find(z)] = find(b)

    groups: dict[int, list[int]] = defaultdict(list)
    for i in members:
        groups[find(i)].append(i)

    # A weak question (no good expert for it as a whole) whose best-matching sources mostly belong to the
    # sources of a blind spot that others asked about asks about that topic too, even when its words missed
    # the concepts (a paraphrase, another language): it joins that entry at a lower weight. Topics nobody
    # asked about directly get no demand this way (broad concepts with many sources would collect it).
    weak_q = [qi for qi in range(len(asked)) if served[qi] < weak]
    src_sets = {root: set().union(*(rc.sources[ci] for ci in cis)) for root, cis in groups.items()
                if any(qsets[ci] for ci in cis)}
    via: dict[int, dict[int, float]] = defaultdict(dict)
    if weak_q and any(len(v) >= 2 for v in src_sets.values()):
        # only questions that match their best source at least as well as the typical question does (the
        # median over at most BAR_SAMPLE questions): a few common words in one long report are no evidence
        sample = [q.text for q in asked[::max(1, math.ceil(len(asked) / BAR_SAMPLE))]]
        tops = top_sources(index, sample + [asked[qi].text for qi in weak_q])
        bar = float(np.median([tops[t][0][1] if tops[t] else 0.0 for t in sample]))
        for qi in weak_q:
            top = tops.get(asked[qi].text, [])
            if not top or top[0][1] < bar:
                continue
            for root, srcs in src_sets.items():
                if len(srcs) >= 2 and sum(1 for rid, _ in top if rid in srcs) >= VIA_SOURCES_HITS:
                    via[root][qi] = VIA_SOURCES

    entries = []
    for root, cis in groups.items():
        qweights: dict[int, float] = dict(via.get(root, {}))
        for ci in cis:
            for qi, wt in weight_q[ci].items():
                qweights[qi] = max(qweights.get(qi, 0.0), wt)
        unmet = sum(wt * (1.0 if served[qi] < weak else SERVED_FACTOR) for qi, wt in qweights.items())
        srcs = set().union(*(rc.sources[ci] for ci in cis))
        n_src = len(srcs)
        score = unmet * source_factor(n_src) + 0.01 * math.log1p(n_src)  # sources order the unasked topics
        # name the entry after its strongest concept by the same measure as the ranking
        in_entry = set(cis)
        cis.sort(key=lambda ci: (-round(sum(weight_q[ci].values()) * source_factor(len(rc.sources[ci])), 3),
                                 -len(near[ci] & in_entry), -len(rc.sources[ci]), concepts[ci].label))
        qorder = sorted(qweights, key=lambda qi: (-qweights[qi], qi))
        texts = list(dict.fromkeys(asked[qi].text for qi in qorder))
        why, experts, tgroups = _why(index, rc, cis, len(qweights), n_src, weak)
        entries.append({
            "label": concepts[cis[0]].label,
            "concepts": [concepts[ci].label for ci in cis],
            "concept_ids": [concepts[ci].id for ci in cis],
            "demand": len(qweights),
            "questions": texts[:MAX_QUESTIONS],
            "sources": n_src,
            "source_ids": sorted(srcs)[:MAX_QUESTIONS],
            "why": why,
            "score": _round(score),
            # clear: asked about with sources (or asked often); otherwise a possible gap to check by hand
            "clear": bool(qweights) and score >= CLEAR,
            "experts": experts,
            "themegroups": tgroups,
        })
    entries.sort(key=lambda e: (-(e["demand"] > 0), -e["score"], -e["demand"], -e["sources"], e["label"]))
    return entries


def _why(index, rc: RecordCoverage, cis: list[int], demand: int, n_src: int, weak: float):
    """One Dutch line: how much demand and knowledge, and what expert coverage there is (none, weak, away)."""
    head = []
    if demand:
        head.append(plural(demand, "vraag", "vragen"))
    head.append(plural(n_src, "bron", "bronnen"))
    cols = np.asarray(cis)
    experts, tgroups = [], []
    if len(rc.experts):
        strength = rc.expert[:, cols].max(1)
        for i in np.argsort(-strength, kind="stable")[:5]:
            if strength[i] >= MIN_LISTED:
                experts.append({"id": rc.experts[i].id, "name": rc.experts[i].title, "score": _round(strength[i]),
                                "available": bool(rc.available[i])})
    if len(rc.groups):
        gstrength = rc.group_own[:, cols].max(1)
        for i in np.argsort(-gstrength, kind="stable")[:5]:
            if gstrength[i] >= weak:
                tgroups.append({"id": rc.groups[i].id, "name": rc.groups[i].title, "score": _round(gstrength[i]),
                                "active": bool(rc.active[i])})
    away = [e for e in experts if not e["available"] and e["score"] >= weak]
    # weak coverage: an available expert whose own profile mentions it (not only through their group)
    own = rc.expert_own[:, cols].max(1) if len(rc.experts) else np.zeros(0)
    row = {r.id: i for i, r in enumerate(rc.experts)}
    faint = [e for e in experts if e["available"] and e["score"] >= 0.6 * weak and own[row[e["id"]]] > 0]
    if away:
        names = ", ".join(e["name"] for e in away[:2])
        tail = (f"alleen een niet-beschikbare expert ({names})" if len(away) == 1
                else f"alleen niet-beschikbare experts ({names})")
    elif faint:
        tail = f"geen expert, alleen zwakke dekking ({', '.join(e['name'] for e in faint[:2])})"
    else:
        tail = "geen expert"
    if tgroups:
        g = tgroups[0]
        name = g["name"] if g["name"].lower().startswith("themagroep") else f"themagroep {g['name']}"
        state = "" if g["active"] else " (gestopt)"
        tail += f"; alleen {name}{state} noemt het" if len(tgroups) == 1 else \
            f"; alleen themagroepen noemen het ({', '.join(t['name'] for t in tgroups[:2])})"
    return ", ".join(head) + ", " + tail, experts, tgroups
