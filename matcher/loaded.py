"""A published index loaded into memory for querying."""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict, defaultdict
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from indexer import ann
from indexer.analysis import Analyzer
from indexer.errors import CorruptIndex, EmbedderMismatch
from indexer.index_format import (IndexReader, PassageTexts, read_bm25, read_concept_query_vectors, read_concept_vectors, read_manifest,
                                  read_passage_concepts, read_passage_vectors, read_vectors)
from indexer.records import Record
from indexer.thesaurus import Concept

from .segments import Segments

if TYPE_CHECKING:
    from .coverage.cache import CoverageCache

log = logging.getLogger(__name__)

#: kinds whose ``body`` a loaded index keeps in memory: shown or analysed whole (directory, coverage, an answer's
#: full text). Reports and sources are read through their passages; ``LoadedIndex.record_body`` reads theirs.
BODY_KINDS = ("expert", "themegroup", "product", "kennisrotonde")

#: bytes of concept x passage cosine rows an exact index keeps (``LoadedIndex.concept_passage_cosines``)
CONCEPT_COSINE_BUDGET = 256 * 2**20

#: a link stored as (src, relation, dst), seen from dst: the relation's name in the other direction
INVERSE_RELATIONS = {
    "member_of": "has_member", "contact": "contact_of", "same_as": "same_as_of", "made": "made_by",
    "made_by": "made", "cites": "cited_by", "author_of": "has_author", "mentioned_in": "mentions",
}


#: Passages whose concepts (``LoadedIndex.passage_concepts``) are kept, most recently used last.
PASSAGE_CONCEPT_CACHE = 8192

#: The matcher's name for the one record type (``indexer.records.Record``); kept for existing imports.
RecordInfo = Record


class LoadedIndex:
    """A published build in memory, read through ``indexer.index_format``: records (``records`` by id,
    ``record_list`` by row), passages (``passage_text`` etc. by row, ``passage_record`` (passages,) int32
    record row), links both ways, concepts with vectors (float32 (concepts, dim)), the FAISS passage index,
    the BM25 retriever (bm25s) and the analyzer. Raises CorruptIndex (with 'run schakel index --rebuild')
    when a file is missing, damaged or inconsistent; with VERIFY the checksums of the manifest are checked
    first."""
    def __init__(self, build: Path, verify: bool = True):
        self.build = build
        self.manifest = read_manifest(build, verify=verify)
        try:
            self._load()
        except CorruptIndex:
            raise
        except Exception as exc:
            raise CorruptIndex(f"the index in {build} cannot be loaded ({exc.__class__.__name__}: {exc}): "
                               "run `schakel index --rebuild`") from exc

    def _load(self) -> None:
        with IndexReader(self.build, immutable=True) as db:
            # bodies of the kinds read whole (profiles, answers); a report's or a source's only when asked
            self.record_list: list[Record] = db.records(body_kinds=BODY_KINDS)
            passage_records, self.passage_heading, self.passage_page = db.passage_meta()
            links = db.links()
            self.concepts: list[Concept] = db.concepts()
            self.problems = db.problems()
        self.records: dict[str, Record] = {rec.id: rec for rec in self.record_list}
        #: passage texts by row, read from records.db when asked (``PassageTexts``)
        self.passage_text = PassageTexts(self.build, len(passage_records))
        self.passage_record = np.array([self.records[rid].row for rid in passage_records], dtype=np.int32)
        for row, rid in enumerate(passage_records):
            self.records[rid].passages.append(row)
        self.links_out: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.links_in: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for src, dst, rel in links:
            if dst in self.records:
                self.links_out[src].append((dst, rel))
                self.links_in[dst].append((src, rel))
        self.concept_by_id = {c.id: c for c in self.concepts}
        position = {c.id: i for i, c in enumerate(self.concepts)}
        self._stored_concepts = {rec.id: {position[c] for c in rec.concepts if c in position}
                                 for rec in self.record_list}
        self.concept_vectors = read_concept_vectors(self.build)
        self.vectors = read_vectors(self.build)
        if self.vectors.ntotal != len(self.passage_text):
            raise CorruptIndex(f"{self.build}: {self.vectors.ntotal} vectors for {len(self.passage_text)} passages: "
                               "run `schakel index --rebuild`")
        #: an HNSW build's float32 passage vectors, read from disk by row (``VectorRows``; its graph holds
        #: 8-bit codes); None otherwise
        self.rerank_vectors = read_passage_vectors(self.build, self.vectors)
        self.bm25, vocab = read_bm25(self.build)
        self.analyzer = Analyzer(vocab)
        self.kinds = np.array([r.kind for r in self.record_list])
        self.dim = int(self.manifest["embedder"]["dim"])
        self._concept_idf: np.ndarray | None = None
        self._passage_concepts: OrderedDict[int, dict[int, float]] = OrderedDict()
        #: the concepts each passage names, found by the build (``build.passage_concepts``); None for an older build
        self._stored_passage_concepts = read_passage_concepts(self.build, len(self.passage_text))
        self._passage_concepts_lock = threading.Lock()
        #: every passage's vector, float32 (n passages, dim): a view of the exact FAISS index's own storage
        #: (``ann.stored_vectors``; self.vectors keeps it alive); None for an HNSW index
        self.passage_matrix: np.ndarray | None = ann.stored_vectors(self.vectors)
        #: from ``ann.QUANTIZED_SCAN_MIN`` passages on, an exact index is searched through 8-bit codes of its vectors
        #: first (``ann.QuantizedScan``; ``retrieval.quantized_candidates``); None otherwise
        self.quantized: ann.QuantizedScan | None = ann.QuantizedScan(self.passage_matrix) \
            if self.passage_matrix is not None and len(self.passage_matrix) >= ann.QUANTIZED_SCAN_MIN else None
        from .concepts import ConceptMatcher

        # detection compares the question with each concept's definition embedded as a query; builds from
        # before those vectors were stored use the concept vectors (passage-embedded) instead
        detect_vectors = read_concept_query_vectors(self.build)
        if detect_vectors is not None and detect_vectors.shape != self.concept_vectors.shape:
            raise CorruptIndex(f"{self.build}: {detect_vectors.shape[0]} concept detection vectors for "
                               f"{len(self.concepts)} concepts: run `schakel index --rebuild`")
        self.concept_matcher = ConceptMatcher(
            self.concepts, self.concept_vectors if detect_vectors is None else detect_vectors, self.analyzer)
        n = max(1, len(self.passage_text))
        ids = self.bm25.vocab_dict
        # document frequency per stem, from the BM25 matrix (non-zeros per column)
        indptr = np.asarray(self.bm25.scores["indptr"])
        counts = np.diff(indptr)
        self._df_ratio = {t: float(counts[i]) / n for t, i in ids.items() if i < len(counts)}
        # made with the index rather than by the first question that expands (0.4 s at 10^5 passages) or that
        # ranks (concept support; 0.1 s for 20,000 records)
        self._concept_cosine_rows  # noqa: B018
        self._record_concept_rows  # noqa: B018

    @cached_property
    def coverage_cache(self) -> "CoverageCache":
        """What the coverage analysis keeps for this index (``matcher.coverage.cache``), in memory only."""
        from .coverage.cache import CoverageCache

        return CoverageCache()

    def stem_postings(self, st: str) -> np.ndarray | None:
        """The passage rows whose text has stem ST, ascending (its BM25 postings, int array); None for a stem no
        passage has."""
        col = self.bm25.vocab_dict.get(st)
        if col is None:
            return None
        scores = self.bm25.scores
        return scores["indices"][scores["indptr"][col]:scores["indptr"][col + 1]]

    @staticmethod
    def record_in_postings(rec: RecordInfo, rows: np.ndarray) -> bool:
        """Whether any passage of REC is among ROWS (ascending passage rows, as ``stem_postings`` gives)."""
        mine = rec.passages
        if mine and mine[-1] - mine[0] + 1 == len(mine):  # consecutive rows (as a build writes them): one search
            lo = int(rows.searchsorted(mine[0]))
            return lo < len(rows) and int(rows[lo]) <= mine[-1]
        pos = np.searchsorted(rows, mine)
        return bool(np.any((pos < len(rows)) & (rows[np.minimum(pos, len(rows) - 1)] == mine)))

    def passage_concepts(self, row: int) -> dict[int, float]:
        """Concepts named by their words in passage ROW: concept index -> word score (``ConceptTerms.lexical``,
        about 0.5..1.3). Read from what the build found (``build.passage_concepts``); for a build made before
        that was stored, found now, and the last ``PASSAGE_CONCEPT_CACHE`` passages' are kept, most recently
        used last: a server of 10^6 passages would otherwise keep a dict per passage it ever looked at (~1 GB)."""
        stored = self._stored_passage_concepts
        if stored is not None:
            indptr, concepts, scores = stored
            lo, hi = int(indptr[row]), int(indptr[row + 1])
            return dict(zip(concepts[lo:hi].tolist(), scores[lo:hi].tolist()))
        cache = self._passage_concepts
        with self._passage_concepts_lock:
            found = cache.get(row)
            if found is not None:
                cache.move_to_end(row)
                return found
        found = {i: sc for i, (sc, _) in self.concept_matcher.lexical(self.passage_text[row]).items()}
        with self._passage_concepts_lock:
            cache[row] = found
            while len(cache) > PASSAGE_CONCEPT_CACHE:   # 'while': the bound may have been lowered meanwhile
                cache.popitem(last=False)
        return found

    def concept_passage_cosines(self, concepts: list[int]) -> np.ndarray | None:
        """The cosine of each given concept's vector (``concept_vectors``, by index) with every passage: float32
        of shape (len(concepts), n passages), in the order given; None for an index without ``passage_matrix``
        (HNSW). Rows are made by ``_concept_cosine_rows`` when the index loads, or per call when they do not
        fit ``CONCEPT_COSINE_BUDGET``."""
        X = self.passage_matrix
        if X is None:
            return None
        table = self._concept_cosine_rows
        if table is not None:
            return table[concepts]
        made = np.stack([ann.inner_products(self.vectors, self.concept_vectors[c]) for c in concepts]) \
            if concepts else np.zeros((0, X.shape[0]), np.float32)
        return made

    @property
    def keeps_concept_cosines(self) -> bool:
        """Whether every concept's cosine row is kept (``_concept_cosine_rows``), so ``concept_passage_cosines`` reads
        them instead of scanning the passages once per concept."""
        return self._concept_cosine_rows is not None

    @cached_property
    def _concept_cosine_rows(self) -> np.ndarray | None:
        """Every concept vector's cosine with every passage, float32 (n concepts, n passages), in one matrix
        product (0.4 s of one core and 107 MB for 267 concepts x 10^5 passages); None for an HNSW index or
        when it would exceed ``CONCEPT_COSINE_BUDGET`` bytes."""
        X = self.passage_matrix
        if X is None or len(self.concept_vectors) * X.shape[0] * 4 > CONCEPT_COSINE_BUDGET:
            return None
        return np.ascontiguousarray(self.concept_vectors.astype(np.float32, copy=False) @ X.T)

    @cached_property
    def _tag_concepts(self) -> dict[int, set[int]]:
        return {}

    def tag_concepts(self, row: int) -> set[int]:
        """Indexes of the concepts that a record's tags (its ``tags`` field: the author's own keywords) name by
        their words (``ConceptTerms.lexical``); computed once per record, on first use."""
        found = self._tag_concepts.get(row)
        if found is None:
            found = set()
            for tag in self.record_list[row].tags or []:
                found |= set(self.concept_matcher.lexical(str(tag)))
            self._tag_concepts[row] = found
        return found

    def record_body(self, rid: str) -> str:
        """The full text of record RID: kept in memory for ``BODY_KINDS``, read from records.db for the others.
        Raises KeyError for an unknown id."""
        rec = self.records[rid]
        if rec.body is not None:
            return rec.body
        with IndexReader(self.build, immutable=True) as db:
            stored = db.record(rid)
        return stored.body if stored is not None else ""

    def record_concepts(self, rid: str) -> set[int]:
        """Indexes of the concepts whose terms occur in the record's text (by words; found at index time)."""
        return self._stored_concepts.get(rid, set())

    def concept_idf(self) -> np.ndarray:
        """Float32 of shape (concepts,), 0.1..1 (1 - sqrt(share of records)): 1 for a concept found in few
        records, lower for one found in many; computed once.
        Exact (concept hits per record) for corpora up to 5,000 records, else estimated from the
        document frequency of the concept's words."""
        if self._concept_idf is None:
            n = max(2, len(self.record_list))
            df = np.zeros(len(self.concepts), np.float32)
            if n <= 5000:
                for rec in self.record_list:
                    for i in self.record_concepts(rec.id):
                        df[i] += 1
                ratio = df / n
            else:
                from indexer.analysis import content_words, stem

                ratio = np.array([max((min((self._df_ratio.get(stem(w), 0.0) for w in content_words(t)), default=0.0)
                                       for t in c.terms()), default=0.0) for c in self.concepts], np.float32)
            self._concept_idf = np.clip(1.0 - np.sqrt(ratio), 0.1, 1.0)
        return self._concept_idf

    def is_distinctive(self, word: str, max_ratio: float = 0.2) -> bool:
        """A question word worth naming as a reason: its stem is not weak and in at most MAX_RATIO (0..1) of
        the passages."""
        from indexer.analysis import stem

        return self.stem_is_distinctive(stem(word), max_ratio)

    #: a word in at most this many passages is distinctive on any corpus: on a corpus of a few
    #: documents a share says nothing (two of three pages naming 'differentiatie' is no noise)
    DISTINCTIVE_MIN_PASSAGES = 5

    def stem_is_distinctive(self, st: str, max_ratio: float = 0.2) -> bool:
        """Whether stem ST is worth naming as a reason: not a weak word, and in at most MAX_RATIO (0..1) of the
        passages or in at most ``DISTINCTIVE_MIN_PASSAGES`` passages."""
        from indexer.analysis import WEAK_STEMS

        if st in WEAK_STEMS:
            return False
        ratio = self._df_ratio.get(st, 0.0)
        return ratio <= max_ratio or ratio * len(self.passage_text) <= self.DISTINCTIVE_MIN_PASSAGES

    @property
    def embedder_name(self) -> str:
        """Name of the embedder the index was built with (from the manifest)."""
        return self.manifest["embedder"]["name"]

    def check_embedder(self, name: str, dim: int) -> None:
        """Raise EmbedderMismatch (field 'embedder') unless NAME and DIM are the embedder the index was built with."""
        if name != self.embedder_name or dim != self.dim:
            raise EmbedderMismatch(
                f"this index was built with embedder {self.embedder_name!r} ({self.dim} dimensions); "
                f"the query embedder is {name!r} ({dim} dimensions). Query with the same embedder "
                f"(--embedder / SCHAKEL_EMBEDDER) or rebuild the index with `schakel index --rebuild`.",
                field="embedder")

    def passages_of(self, rid: str) -> list[int]:
        """Passage rows of record RID, in order. Raises KeyError for an unknown id."""
        return self.records[rid].passages

    # --- derived data: computed on first use, owned by the loaded index ---------------
    def df_ratio(self, st: str) -> float:
        """Share (0..1) of passages that contain the stem; 0 for a stem outside the vocabulary."""
        return self._df_ratio.get(st, 0.0)

    def neighbours(self, rid: str) -> list[tuple[str, str]]:
        """(other id, relation seen from ``rid``) for every link touching ``rid``, outgoing first.

        Incoming links are named by ``INVERSE_RELATIONS`` (a ``member_of`` link into a theme
        group is ``has_member`` seen from the group); incoming relations without an inverse name
        are left out."""
        out = list(self.links_out.get(rid, ()))
        for src, rel in self.links_in.get(rid, ()):
            inverse = INVERSE_RELATIONS.get(rel)
            if inverse:
                out.append((src, inverse))
        return out

    @cached_property
    def neighbour_rows(self) -> list[tuple[int, list[tuple[int, str, str]]]]:
        """Per record with links: (row, [(neighbour row, relation seen from the record, neighbour id)])."""
        out = []
        for rec in self.record_list:
            edges = [(self.records[o].row, rel, o) for o, rel in self.neighbours(rec.id) if o in self.records]
            if edges:
                out.append((rec.row, edges))
        return out

    @cached_property
    def kind_rows(self) -> dict[str, np.ndarray]:
        """Kind -> rows (int64, ascending) of the records of that kind."""
        return {str(k): np.nonzero(self.kinds == k)[0] for k in np.unique(self.kinds)}

    @cached_property
    def _has_passages(self) -> np.ndarray:
        """Per record, whether it has passages (bool, shape (n records,))."""
        mask = np.zeros(len(self.record_list), bool)
        mask[self.passage_record] = True
        return mask

    @cached_property
    def _record_groups(self) -> tuple[Segments, np.ndarray] | None:
        """When every record's passages are consecutive rows (as a build writes them): the records'
        passage segments (``segments.Segments``) and, per segment, its record row (int64); None for
        another layout."""
        owner = self.passage_record
        if not len(owner) or np.any(owner[1:] < owner[:-1]):
            return None
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        return Segments(starts, np.diff(np.r_[starts, len(owner)])), owner[starts].astype(np.int64)

    def max_per_record(self, values: np.ndarray) -> np.ndarray:
        """Per record (shape (n records,), float32), the maximum of VALUES (shape (n passages,)) over its
        passages; -inf for a record without passages.

        With consecutive passages per record (``_record_groups``) by ``segments.Segments``; otherwise
        ``np.maximum.at``, where, when most passages share the lowest value (dense scores outside the
        vector search's top k get one floor value; most passages have no BM25 score), only the others are
        scattered: a record's maximum is the lowest value or the largest of its others, the same number."""
        best = np.full(len(self.record_list), -np.inf, np.float32)
        if not len(values):
            return best
        groups = self._record_groups
        if groups is not None:
            best[groups[1]] = groups[0].maximum(values)
            return best
        low = values.min()
        above = np.flatnonzero(values > low) if not np.isnan(low) else None
        if above is not None and 4 * len(above) < len(values):
            best[self._has_passages] = low
            np.maximum.at(best, self.passage_record[above], values[above])
        else:
            np.maximum.at(best, self.passage_record, values)
        return best

    def max_over_rows(self, rows: np.ndarray, values: np.ndarray, low) -> np.ndarray:
        """``max_per_record`` of a per-passage array that holds LOW everywhere but at passage ROWS (int array,
        distinct), which hold VALUES (each above LOW): per record (float32, (n records,)) LOW, or the largest
        of its listed values; -inf for a record without passages. Costs the listed rows, not every passage."""
        best = np.full(len(self.record_list), -np.inf, np.float32)
        best[self._has_passages] = low
        if len(rows):
            np.maximum.at(best, self.passage_record[rows], values)
        return best

    @cached_property
    def inactive_rows(self) -> np.ndarray:
        """Rows (int64) of records that are not active: unavailable experts, stopped theme groups."""
        return np.array([r.row for r in self.record_list if not r.active], dtype=np.int64)

    @cached_property
    def expert_concepts(self) -> set[int]:
        """Concept indexes in some expert's own profile or in work the expert wrote (``author_of``)."""
        covered: set[int] = set()
        for e in self.record_list:
            if e.kind != "expert":
                continue
            covered |= self.record_concepts(e.id)
            for other, rel in self.links_out.get(e.id, ()):
                if rel == "author_of":
                    covered |= self.record_concepts(other)
        return covered

    def passage_vectors(self, rows) -> np.ndarray:
        """The float32 vectors of passage ROWS (int sequence), shape (len(rows), dim): from the exact index's
        matrix, an HNSW build's float32 file (``rerank_vectors``), or, for an older HNSW build, faiss's own."""
        rows = np.asarray(rows, np.int64)
        if not len(rows):
            return np.zeros((0, self.dim), np.float32)
        source = self.passage_matrix if self.passage_matrix is not None else self.rerank_vectors
        if source is not None:
            return np.asarray(source[rows], np.float32)
        return np.asarray(self.vectors.reconstruct_batch(rows), np.float32)

    def passage_cosines_at(self, rows, qv: np.ndarray) -> np.ndarray:
        """The cosines of passages ROWS (int sequence) with the unit query vector QV (shape (dim,)): float32 of shape
        (len(rows),); on an exact index by the kernel of its full scan (``ann.inner_products_at``: the same values),
        else from ``passage_vectors``."""
        found = ann.inner_products_at(self.vectors, qv, np.asarray(rows, np.int64))
        return found if found is not None else self.passage_vectors(rows) @ np.asarray(qv, np.float32)

    @cached_property
    def answer_vectors(self) -> tuple[list[RecordInfo], np.ndarray]:
        """Kennisrotonde records with passages and the vectors of their first passages, shape
        (n answers, dim) (``passage_vectors``)."""
        rows = [r for r in self.record_list if r.kind == "kennisrotonde" and r.passages]
        matrix = self.passage_vectors([r.passages[0] for r in rows])
        return rows, matrix

    @cached_property
    def _record_concept_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``record_concept_vectors``' store, made on first use: every record's unit vector as a CSR matrix (indptr
        (n records + 1,) int64, concept indexes int32, values float32): 8 bytes per (record, concept) pair, 5 MB for
        the 660,557 pairs of 20,000 synthetic records, where a dense matrix takes 21 MB (214 MB at 2 x 10^5)."""
        idf = self.concept_idf()
        lengths = np.zeros(len(self.record_list), np.int64)
        columns: list[int] = []
        for row, rec in enumerate(self.record_list):
            found = sorted(self.record_concepts(rec.id))
            lengths[row] = len(found)
            columns.extend(found)
        indptr = np.zeros(len(self.record_list) + 1, np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.array(columns, np.int32)
        values = idf[indices].astype(np.float32)
        # each row divided by its norm as np.linalg.norm takes it, sqrt(x.dot(x)) over the whole row with its zeros
        # (BLAS sums in blocks: over the non-zeros alone the last bit could differ), a block of rows at a time
        norms = np.ones(len(lengths), np.float32)
        block_rows = 4096
        for lo in range(0, len(lengths), block_rows):
            hi = min(len(lengths), lo + block_rows)
            block = np.zeros((hi - lo, len(self.concepts)), np.float32)
            span = slice(int(indptr[lo]), int(indptr[hi]))
            block[np.repeat(np.arange(hi - lo), lengths[lo:hi]), indices[span]] = values[span]
            for i in np.flatnonzero(lengths[lo:hi]).tolist():
                norms[lo + i] = np.sqrt(block[i].dot(block[i]))
        values /= np.repeat(norms, lengths)
        return indptr, indices, values

    def record_concept_vectors(self, rows: np.ndarray) -> np.ndarray:
        """The records' concepts as idf-weighted unit vectors over the thesaurus, float32 of shape (len(rows),
        n concepts) for record ROWS (int array); all zeros for a record without concepts. Gathered from
        ``_record_concept_rows`` in one vectorised step."""
        indptr, indices, values = self._record_concept_rows
        rows = np.asarray(rows, np.int64)
        out = np.zeros((len(rows), len(self.concepts)), np.float32)
        starts, counts = indptr[rows], indptr[rows + 1] - indptr[rows]
        total = int(counts.sum())
        if total:
            at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
            out[np.repeat(np.arange(len(rows)), counts), indices[at]] = values[at]
        return out

    def record_concept_vector(self, row: int) -> np.ndarray:
        """One record's ``record_concept_vectors``, shape (n concepts,)."""
        return self.record_concept_vectors(np.array([row]))[0]
