"""The matcher: a practice question in, grouped matches with reasons out.

``Engine`` holds the published index of a HOME and reloads it when a new
build is published (a cheap stat per request), so a running server switches
to a new index without a restart and without failing a request.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer import settings
from indexer.analysis import content_words, stem
from indexer.embedders import Embedder, get_embedder
from indexer.errors import InvalidInput
from indexer.records import KINDS
from indexer.store import Home

from . import clarify as clarify_mod
from . import generalise as generalise_mod
from .entities import concept_support, neighbours, propagate
from .knobs import BASELINE_VALUES, K, knob_field
from .loaded import LoadedIndex
from .reasons import expertise_hits, highlights, matched_terms, why
from .results import Match, MatchResult, PassageHit
from .retrieval import fuse, score_records

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 200


@dataclass
class Options:
    """Ranking options; defaults are the current values of the knobs (``matcher.knobs``) of the same
    name (``method`` is the knob ``fusion``). ``schakel eval`` runs the full system and its baselines
    through these."""

    method: str = knob_field("fusion")   # weighted | rrf | bm25 | dense
    dense_weight: float = knob_field("dense_weight")
    entity_strength: float = knob_field("entity_strength")
    expansion_weight: float = knob_field("expansion_weight")
    concept_vector_weight: float = knob_field("concept_vector_weight")
    use_general: bool = knob_field("use_general")
    concept_support: float = knob_field("concept_support")
    min_relative: float = knob_field("min_relative")
    min_absolute: float = knob_field("min_absolute")


class _Systems(Mapping):
    """The full system and its baselines, built from the knob values current when looked up."""

    CHANGES = {"full": {}, **{name: {("method" if k == "fusion" else k): v for k, v in values.items()}
                              for name, values in BASELINE_VALUES.items()}}

    def __getitem__(self, name: str) -> Options:
        return Options(**self.CHANGES[name])

    def __iter__(self):
        return iter(self.CHANGES)

    def __len__(self) -> int:
        return len(self.CHANGES)


BASELINES = _Systems()


@dataclass
class Prepared:
    question: str
    qv: np.ndarray | None
    hits: list
    general: object
    timings: dict = field(default_factory=dict)


class Engine:
    def __init__(self, home: str | os.PathLike | None = None, embedder: str | Embedder | None = None,
                 verify: bool = True, config: settings.Config | None = None):
        """``config``: the resolved settings (indexer.settings.resolve); without it they are resolved
        for ``home``. Explicit ``home`` and ``embedder`` win over the config's."""
        self.config = config if config is not None else settings.resolve({"home": home})
        self.home = Home(Path(home).expanduser() if home is not None else self.config.home)
        embedder = embedder if embedder is not None else self.config.embedder
        self._embedder_spec = embedder
        self._embedder: Embedder | None = embedder if isinstance(embedder, Embedder) else None
        self._lock = threading.Lock()
        self._index: LoadedIndex | None = None
        self._index_name: str | None = None
        self._checked = 0.0
        self._verify = verify
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    # --- index and embedder ------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self._embedder_spec if isinstance(self._embedder_spec, str) else None)
        return self._embedder

    def index(self) -> LoadedIndex:
        # one small file read per request, so the request after a publish is served from the new build
        now = time.monotonic()
        name = self.home.current_name()
        if self._index is not None and name == self._index_name:
            self._checked = now
            return self._index
        with self._lock:
            name = self.home.current_name()
            if self._index is None or name != self._index_name:
                build = self.home.current()
                loaded = LoadedIndex(build, verify=self._verify)
                loaded.check_embedder(self.embedder.name, self.embedder.dim)
                self._index, self._index_name = loaded, build.name
                log.info("loaded index %s", build)
            self._checked = now
            return self._index

    def embed_query(self, text: str) -> np.ndarray:
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vec = self.embedder.embed_query(text)
        with self._cache_lock:
            self._cache[text] = vec
            if len(self._cache) > 512:
                self._cache.popitem(last=False)
        return vec

    # --- matching ----------------------------------------------------------
    def validate(self, question, answers=None) -> tuple[str, dict[str, str]]:
        if not isinstance(question, str):
            raise InvalidInput("'question' must be a text", field="question")
        question = " ".join(question.split())
        if not question:
            raise InvalidInput("the question is empty: type a practice question", field="question")
        limit = self.config.max_question_chars
        if len(question) > limit:
            raise InvalidInput(f"the question has {len(question)} characters; at most {limit} are accepted",
                               field="question")
        if not any(c.isalpha() for c in question):
            raise InvalidInput("the question has no words", field="question")
        clean: dict[str, str] = {}
        if answers:
            if not isinstance(answers, dict):
                raise InvalidInput("'answers' must be an object of facet: answer", field="answers")
            for facet, value in answers.items():
                if facet not in clarify_mod.FACETS:
                    raise InvalidInput(f"unknown facet {facet!r} in 'answers'; known: {', '.join(clarify_mod.FACETS)}",
                                       field="answers")
                if not isinstance(value, str):
                    raise InvalidInput(f"answer for {facet!r} must be a text", field="answers")
                value = " ".join(value.split())[:MAX_ANSWER_CHARS]
                if value:
                    clean[facet] = value
        return question, clean

    def match(self, question, top: int | None = None, answers: dict | None = None, level: int | None = None,
              options: Options | None = None, clarify: bool = True) -> MatchResult:
        t0 = time.perf_counter()
        question, answers = self.validate(question, answers)
        top = self.config.top if top is None else top
        if not isinstance(top, int) or not 1 <= top <= 50:
            raise InvalidInput("'top' must be a whole number from 1 to 50", field="top")
        if level is not None and (not isinstance(level, int) or not 0 <= level <= 3):
            raise InvalidInput("'level' must be 0 (the question as asked) to 3 (most general)", field="level")
        opts = options or BASELINES["full"]
        index = self.index()
        text = clarify_mod.with_answers(question, answers)
        t1 = time.perf_counter()
        qv = self.embed_query(text) if opts.method != "bm25" else None
        t2 = time.perf_counter()
        q_tokens = index.analyzer.tokens(text)
        hits = []
        if opts.use_general:
            # pass 1: the question as asked; its best records tell which concepts it is about
            first = fuse(score_records(index, qv, [(q_tokens, 1.0)]), index.kinds, opts.method, opts.dense_weight)
            hits = index.concept_matcher.detect(text, qv, feedback=concept_feedback(index, first))
        general = generalise_mod.generalise(index, question, hits)
        # published sources only (Kennisrotonde questions); stored intakes are the web layer's to show
        general.similar = generalise_mod.similar_questions(index, qv, question)
        chosen_level = general_level = 1 if level is None else level
        expansion = generalise_mod.expansion_concepts(index, hits, general_level) if opts.use_general else []

        weighted = [(q_tokens, 1.0)]
        if expansion:
            exp_tokens = []
            for concept, weight in expansion:
                for term in concept.terms()[:K.expansion_terms]:
                    exp_tokens += [index.analyzer.tokens(term)]
            flat = [t for toks in exp_tokens for t in toks if t not in q_tokens]
            weighted.append((flat, opts.expansion_weight))
        qv_used = qv
        if qv is not None and expansion and opts.concept_vector_weight and len(index.concept_vectors):
            cv = np.zeros_like(qv)
            for concept, weight in expansion:
                cv += weight * index.concept_vectors[index.concept_matcher.by_id[concept.id]]
            norm = np.linalg.norm(cv)
            if norm > 0:
                qv_used = qv + opts.concept_vector_weight * cv / norm
                qv_used = qv_used / np.linalg.norm(qv_used)
            if level == 0:
                qv_used = qv
        rs = score_records(index, qv_used, weighted)
        own = fuse(rs, index.kinds, opts.method, opts.dense_weight)
        final, via = propagate(index, own, opts.entity_strength) if opts.entity_strength else (own, {})
        if opts.concept_support:
            final = final + concept_support(index, own, opts.concept_support)
        t3 = time.perf_counter()
        uncovered = uncovered_concepts(index, hits) if opts.use_general else []
        matches = self._collect(index, final, rs, via, q_tokens, text, hits, top, opts)
        if uncovered:
            matches["expert"] = []
        result = MatchResult(question=question, matches=matches, general=general, level=chosen_level)
        if clarify:
            result.clarify = clarify_mod.clarify(index, question, hits, answers, final)
        result.notices = clarify_mod.notices(index, hits, matches, uncovered)
        t4 = time.perf_counter()
        result.timings = {"validate": t1 - t0, "embed": t2 - t1, "retrieve": t3 - t2, "explain": t4 - t3,
                          "total": t4 - t0}
        return result

    def ranked_ids(self, question: str, options: Options, depth: int = 10) -> dict[str, list[str]]:
        """Per kind, ranked record ids (derived literature mapped to its twin), for evaluation."""
        res = self.match(question, top=depth, options=options, clarify=False)
        return {k: [m.id for m in res.matches.get(k, [])] for k in KINDS}

    def _collect(self, index: LoadedIndex, final: np.ndarray, rs, via, q_tokens, text, hits, top, opts):
        query_stems = set(q_tokens)
        concept_terms = {stem(w) for h in hits[:4] for t in h.concept.terms() for w in content_words(t)}
        # mark only words that say something: not those found in most passages ("studenten", "zetten")
        mark_stems = {st for st in query_stems if index.stem_is_distinctive(st)} | \
            {stem(w) for h in hits[:3] for t in h.terms for w in content_words(t)}
        query_words = {}
        for w in content_words(text):
            query_words.setdefault(stem(w), w)
        out: dict[str, list[Match]] = {k: [] for k in KINDS}
        for kind in KINDS:
            rows = np.nonzero(index.kinds == kind)[0]
            if not len(rows):
                continue
            order = rows[np.argsort(-final[rows], kind="stable")]
            best = float(final[order[0]])
            for row in order:
                rec = index.record_list[int(row)]
                score = float(final[row])
                if score <= 0 or score < opts.min_absolute or score < opts.min_relative * best:
                    break
                if rec.derived_from and rec.fields.get("same_as") in index.records:
                    continue  # its twin in the corpus carries the score
                out[kind].append(self._make_match(index, rec, score, rs, via, query_stems, concept_terms,
                                                  mark_stems, query_words, hits))
                if len(out[kind]) >= top:
                    break
        return out

    def _make_match(self, index, rec, score, rs, via, query_stems, concept_terms, mark_stems, query_words, hits):
        prow = int(rs.best_passage[rec.row])
        passages = []
        if prow >= 0:
            text = index.passage_text[prow]
            passages.append(PassageHit(text=text, source=rec.source, page=index.passage_page[prow],
                                       heading=index.passage_heading[prow],
                                       highlights=highlights(index, prow, mark_stems)))
        terms = [t for t in matched_terms(index, rec, query_words)
                 if len(t) >= 3 and not t.isdigit() and index.is_distinctive(t)]
        rec_concepts = index.record_concepts(rec.id)
        concepts = [h.concept.label for h in hits[:5] if h.index in rec_concepts]
        linked, seen_links = [], set()
        for o, rel in neighbours(index, rec.id):
            if o in via.get(rec.id, []) and o not in seen_links:
                seen_links.add(o)
                linked.append((index.records[o].title, rel))
        status = rec.status
        expertise = expertise_hits(rec, query_stems, concept_terms) if rec.kind == "expert" else []
        return Match(id=rec.id, kind=rec.kind, title=rec.title, score=score,
                     why=why(rec, concepts, terms, expertise, linked, status), url=rec.url,
                     passages=passages, concepts=concepts, terms=terms, status=status,
                     details=_details(rec), via=[o for o in via.get(rec.id, [])])


def concept_feedback(index: LoadedIndex, scores: np.ndarray) -> dict[int, float]:
    """Share of the best records (score-weighted) in which each concept occurs, damped for
    concepts that occur almost everywhere."""
    if not len(scores):
        return {}
    top = np.argsort(-scores)[:K.feedback_depth]
    weights = np.clip(scores[top], 0, None)
    total = float(weights.sum())
    if total <= 0:
        return {}
    idf = index.concept_idf()
    out: dict[int, float] = {}
    for row, w in zip(top, weights):
        for i in index.record_concepts(index.record_list[int(row)].id):
            out[i] = out.get(i, 0.0) + float(w) / total
    return {i: v * float(idf[i]) for i, v in out.items()}


def uncovered_concepts(index: LoadedIndex, hits) -> list:
    """The question's core concepts when no expert covers any of them.

    Core concepts are the top two found by their words (not only by embedding). An expert
    covers a concept when the concept or a narrower one occurs in the expert's own profile or
    in work they wrote; a theme group that merely mentions the topic does not count. When
    knowledge exists but no expert covers the core, Schakel says so instead of presenting the
    nearest expert as a match.
    """
    core = [h for h in hits[:2] if h.lexical >= K.core_min_lexical]
    if not core:
        return []
    covered = expert_concepts(index)
    if not covered:
        return []
    for h in core:
        wanted = {h.index} | {i for i, c in enumerate(index.concepts) if h.concept.id in c.broader}
        if covered & wanted:
            return []
    return [h.concept for h in core]


def expert_concepts(index: LoadedIndex) -> set[int]:
    """Concepts in some expert's own profile or in work they wrote; once per index."""
    cached = getattr(index, "_expert_concepts", None)
    if cached is None:
        cached = set()
        for e in index.record_list:
            if e.kind != "expert":
                continue
            cached |= index.record_concepts(e.id)
            for other, rel in index.links_out.get(e.id, ()):
                if rel == "author_of":
                    cached |= index.record_concepts(other)
        index._expert_concepts = cached
    return cached


DETAIL_FIELDS = {
    "expert": ("organisation", "role", "expertise", "email", "region", "available", "themegroups"),
    "themegroup": ("status", "focus", "open", "contact", "members", "products"),
    "literature": ("authors", "year", "publisher", "journal", "doi", "citation", "same_as"),
    "product": ("type", "made_by"),
    "kennisrotonde": ("question", "date", "short_answer"),
    "report": ("authors", "year"),
}


def _details(rec) -> dict:
    d = {k: rec.fields[k] for k in DETAIL_FIELDS.get(rec.kind, ()) if k in rec.fields}
    if rec.derived_from:
        d["derived_from"] = rec.derived_from
    return d
