"""``build_index``: corpus folders in, a published index out."""
from __future__ import annotations

import json
import logging
import re
import shutil
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import __version__, ann, settings
from . import thesaurus as thesaurus_mod
from .analysis import Analyzer, fold
from .conceptterms import ConceptTerms
from .conceptvectors import shipped_vectors
from .corpus import CorpusRead, FileInfo, read_corpus, require_records, unique_ids
from .embedders import Embedder, get_embedder
from .errors import IndexWriteFailed, InvalidInput
from .progress import progress_bar
from .index_format import (RECORDS_DB, FileEntry, IndexReader, file_key, read_manifest, write_bm25,
                           write_concept_query_vectors, write_concept_vectors, write_manifest, write_passage_concepts,
                           write_records_db, write_vectors)
from .linking import add_group_context, link_people, link_same_as
from .passages import make_passages
from .records import Passage, Problem, Record
from .store import EmbeddingCache, Home, cached_text

log = logging.getLogger(__name__)

BATCH = 16


def _write_failed(home: "Home", exc: BaseException) -> IndexWriteFailed:
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
        if exc.filename:
            reason += f" ({exc.filename})"
    else:
        reason = str(exc)
    current = home.current_name()
    kept = f"the index in use ({current}) is unchanged" if current else "there is no published index yet"
    hint = "free disk space and " if "space" in reason.lower() or "full" in reason.lower() else ""
    return IndexWriteFailed(f"could not write the new index in {home.root}: {reason}. Nothing was published; "
                            f"{kept}. {hint.capitalize() or 'Fix this and '}run `schakel index` again.")


@dataclass
class BuildReport:
    """What one ``build_index`` run did: counts per kind, passages (embedded now or from the cache), file changes,
    problems per corpus file, the published build folder and the time taken in seconds."""
    home: Path
    build: Path | None = None
    changed: bool = True
    kinds: Counter = field(default_factory=Counter)
    passages: int = 0
    embedded: int = 0                 # passages embedded now (the rest came from the cache)
    concepts_embedded: int = 0        # concept texts embedded now
    concepts_cached: int = 0
    concepts_shipped: int = 0         # concept texts whose vectors came with the package (``conceptvectors``)
    definitions_embedded: int = 0     # concept definitions embedded now as queries (for detection)
    definitions_cached: int = 0
    definitions_shipped: int = 0
    cached: int = 0
    concepts: int = 0
    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)   # new / changed / unchanged / deleted
    seconds: float = 0.0
    embedder: str = ""
    vector_index: str = ""            # 'flat' (exact) or 'hnsw' (``ann.kind_of``) of the published build

    @property
    def errors(self) -> list[Problem]:
        """The problems of level 'error' (files that were skipped)."""
        return [p for p in self.problems if p.level == "error"]

    def to_dict(self) -> dict:
        """The report as JSON-able dict (``schakel index --json``); seconds rounded to 0.01."""
        return {"home": str(self.home), "build": str(self.build) if self.build else None, "changed": self.changed,
                "records": dict(self.kinds), "passages": self.passages, "embedded": self.embedded,
                "concepts_embedded": self.concepts_embedded, "concepts_cached": self.concepts_cached,
                "concepts_shipped": self.concepts_shipped, "definitions_embedded": self.definitions_embedded,
                "definitions_cached": self.definitions_cached, "definitions_shipped": self.definitions_shipped,
                "cached": self.cached, "concepts": self.concepts, "files": self.files,
                "skipped": self.skipped, "problems": [p.__dict__ for p in self.problems],
                "seconds": round(self.seconds, 2), "embedder": self.embedder, "vector_index": self.vector_index}


def collapse_duplicates(passages: list[Passage], min_words: int = 12) -> list[Passage]:
    """Drop passages whose text (folded, punctuation and spacing ignored) already occurred: boilerplate
    repeated in every PDF, a paragraph pasted into two reports. The first passage of each record (its
    profile) always stays, so no record loses its name and fields."""
    seen: set[str] = set()
    out: list[Passage] = []
    for p in passages:
        key = " ".join(re.findall(r"\w+", fold(p.text)))
        if p.ordinal > 0 and len(key.split()) >= min_words and key in seen:
            continue
        seen.add(key)
        out.append(p)
    return out


def _prepare(paths: Sequence[Path], extra_thesaurus: Path | None) -> tuple[list[CorpusRead], dict]:
    reads = [read_corpus(p) for p in paths]
    layers = [r.thesaurus for r in reads if r.thesaurus]
    if extra_thesaurus:
        layers.append(Path(extra_thesaurus))
    concepts = thesaurus_mod.load(layers)
    return reads, concepts


def _fingerprint(reads: list[CorpusRead], concepts: dict, embedder: Embedder) -> str:
    import hashlib

    h = hashlib.sha256()
    h.update(f"{__version__}|{embedder.name}|{embedder.dim}".encode())
    for src in sorted(Path(__file__).parent.glob("*.py")):  # a changed indexer re-derives the index
        h.update(src.read_bytes())
    for r in reads:
        h.update(str(r.root.resolve()).encode())
        for f in r.files:
            h.update(f"{f.path}:{f.sha256}".encode())
        for p in r.problems:
            h.update(str(p).encode())
    for c in sorted(concepts.values(), key=lambda c: c.id):
        h.update(json.dumps(c.__dict__, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


def build_index(paths: Sequence[str | Path], home: str | Path | None = None, *, embedder: str | None = None,
                rebuild: bool = False, progress: bool | None = None,
                thesaurus: str | Path | None = None,
                on_stage: Callable[[str], None] | None = None,
                config: settings.Config | None = None) -> BuildReport:
    """Index corpus folders into HOME and publish the result atomically.

    Unchanged corpora publish nothing new; unchanged passages come from the
    embedding cache, so only new or changed text is embedded. A file that cannot
    be read is a problem in the report (its last good version is kept); the run
    goes on. ON_STAGE is called with 'lezen', 'embedden', 'schrijven' and
    'publiceren'; PROGRESS shows a progress bar (default: when stderr is a terminal).
    CONFIG (``settings.resolve``) supplies home, embedder, thesaurus and
    exact_search_limit; HOME, EMBEDDER and THESAURUS override it.

    Returns a ``BuildReport``. Raises InvalidInput for a PATH that is not a
    folder or a bad thesaurus, EmptyCorpus when there is nothing to index,
    IndexBusy when another build runs on HOME,
    EmbedderUnavailable when the embedder cannot be loaded, and
    IndexWriteFailed when the build cannot be written (the published index is
    then unchanged).
    """
    started = time.perf_counter()
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.is_dir():
            raise InvalidInput(f"corpus folder {p} does not exist or is not a folder", field="PATH")
    cfg = config if config is not None else settings.resolve({"home": home})
    home_obj = Home(Path(home).expanduser() if home is not None else cfg.home)
    stage = on_stage or (lambda s: None)
    emb = get_embedder(embedder or cfg.embedder)
    report = BuildReport(home=home_obj.root, embedder=emb.name)
    extra = thesaurus or cfg.thesaurus
    with home_obj.lock():
        home_obj.cleanup()
        stage("lezen")
        reads, concepts = _prepare(paths, Path(extra) if extra else None)
        records = _gather_records(home_obj, reads, report)
        report.concepts = len(concepts)
        fingerprint = _fingerprint(reads, concepts, emb)
        report.files = _file_changes(_previous_files(home_obj), {file_key(r.root, f.path): f.sha256
                                                                for r in reads for f in r.files})
        if not rebuild and _unchanged(home_obj, fingerprint, report, cfg.exact_search_limit):
            report.seconds = time.perf_counter() - started
            return report

        passages = collapse_duplicates([p for rec in records for p in (rec.carried or make_passages(rec))])
        report.passages = len(passages)
        concept_list = sorted(concepts.values(), key=lambda c: c.id)
        stage("embedden")
        vectors, concept_vecs = _embed(home_obj, emb, passages, concept_list, rebuild, progress, report)
        stage("schrijven")
        report.build = _publish_new(home_obj, stage, lambda tmp: _write_build(
            tmp, records, passages, reads, concept_list, vectors, concept_vecs, report,
            {"name": emb.name, "dim": emb.dim, "fingerprint": fingerprint}, cfg.exact_search_limit))
        home_obj.cleanup()
    report.seconds = time.perf_counter() - started
    return report


def _publish_new(home: Home, stage: Callable[[str], None], write: Callable[[Path], None]) -> Path:
    """Write a build into a new temp folder with WRITE, then publish it; returns the published folder.
    Raises IndexWriteFailed (disk full, read-only, I/O error); the temp folder is removed on any failure."""
    tmp = home.new_tmp()
    try:
        write(tmp)
        stage("publiceren")
        return home.publish(tmp)
    except (OSError, sqlite3.OperationalError) as exc:  # disk full, read-only, I/O error
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_failed(home, exc) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _gather_records(home: Home, reads: list[CorpusRead], report: BuildReport) -> list[Record]:
    """The records of all corpora (first of a duplicate id wins), plus carried-over records, linked
    and expanded; problems, skipped files and counts by kind go into REPORT."""
    for r in reads:
        report.problems += r.problems
        report.skipped += r.skipped
    records, duplicates = unique_ids([rec for r in reads for rec in r.records])
    report.problems += duplicates
    records += _carry_over(home, reads, report, {r.id for r in records})
    require_records(records, reads)
    link_same_as(records)
    link_people(records)
    add_group_context(records)
    report.kinds = Counter(r.kind for r in records)
    return records


def _unchanged(home: Home, fingerprint: str, report: BuildReport, exact_search_limit: int) -> bool:
    """Whether the published build was made from the same input, with the vector index that the setting
    EXACT_SEARCH_LIMIT asks for its passages (``ann.kind_for``; a changed limit that changes the kind is a
    reason to build again); if so, fill REPORT from its manifest."""
    manifest = _current_manifest(home)
    if not manifest or manifest.get("fingerprint") != fingerprint:
        return False
    passages = manifest.get("counts", {}).get("passages", 0)
    if manifest.get("faiss_index") != ann.kind_for(passages, exact_search_limit):
        return False
    report.changed = False
    report.vector_index = manifest["faiss_index"]
    report.build = home.current()
    report.passages = passages
    report.cached = report.passages
    return True


def _embed(home: Home, emb: Embedder, passages: list[Passage], concepts: list, rebuild: bool, progress,
           report: BuildReport) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Vectors of the passages (passages, dim) and two of the concepts (each (concepts, dim)): their
    ``embed_text`` as passages (query expansion, coverage) and their ``definition_text`` as queries
    (detection in questions), through the embedding cache; counts go into REPORT. Raises
    IndexWriteFailed when the cache cannot be written."""
    try:
        cache = EmbeddingCache(home.cache_dir / "embeddings.db", emb.name, emb.dim)
        try:
            vectors, report.embedded, report.cached, _ = _embed_all(
                emb, cache, [p.text for p in passages], rebuild, progress, "passages")
            # the built-in thesaurus' texts come embedded with the package (indexer.conceptvectors)
            shipped = shipped_vectors(emb)
            concept_vecs, report.concepts_embedded, report.concepts_cached, report.concepts_shipped = _embed_all(
                emb, cache, [c.embed_text() for c in concepts], rebuild, progress, "concept-teksten", shipped=shipped)
            query_vecs, report.definitions_embedded, report.definitions_cached, report.definitions_shipped = _embed_all(
                emb, cache, [c.definition_text() for c in concepts], rebuild, progress, "concept-definities",
                as_query=True, shipped=shipped)
        finally:
            cache.close()
    except (OSError, sqlite3.OperationalError) as exc:  # the cache shares the disk with the index
        raise _write_failed(home, exc) from exc
    return vectors, (concept_vecs, query_vecs)


def _write_build(tmp: Path, records: list[Record], passages: list[Passage], reads: list[CorpusRead],
                 concepts: list, vectors: np.ndarray, concept_vecs: tuple[np.ndarray, np.ndarray],
                 report: BuildReport,
                 embedder: dict, exact_search_limit: int) -> None:
    """Write every file of a build into TMP (manifest last). EMBEDDER holds name, dim and fingerprint;
    below EXACT_SEARCH_LIMIT passages the vector index is exact (``ann.build``)."""
    vocab = _write_bm25(tmp, passages, concepts)
    analyzer = Analyzer(vocab)
    found = record_concepts(records, passages, concepts, analyzer)
    _write_db(tmp / RECORDS_DB, records, passages, reads, concepts, report.problems, found)
    write_passage_concepts(tmp, *passage_concepts(passages, concepts, analyzer))
    index = ann.build(vectors, exact_search_limit)
    report.vector_index = ann.kind_of(index)
    write_vectors(tmp, index, vectors)
    write_concept_vectors(tmp, concept_vecs[0])
    write_concept_query_vectors(tmp, concept_vecs[1])
    write_manifest(tmp, {
        "name": "schakel-index", "schakel_version": __version__,
        "embedder": {"name": embedder["name"], "dim": embedder["dim"], "normalised": True},
        "metric": "inner_product", "faiss_index": report.vector_index,
        "counts": {"records": len(records), "passages": len(passages), "concepts": len(concepts),
                   "by_kind": dict(report.kinds), "problems": len(report.errors), "vocabulary": len(vocab)},
        "corpora": [str(r.root.resolve()) for r in reads],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "fingerprint": embedder["fingerprint"],
    })


#: Link relations this module derives again on every build; carried-over records keep only the others.
DERIVED_RELATIONS = ("same_as", "author_of", "mentioned_in")


def _carry_over(home: Home, reads: list[CorpusRead], report: BuildReport, present: set[str]) -> list[Record]:
    """Records of files that were fine in the published build but cannot be read now: keep their last
    good version (CORPUS_FORMAT: nothing already in the index is lost because a later run met a bad file)."""
    bad = {file_key(r.root, p.path) for r in reads for p in r.errors}
    if not bad:
        return []
    try:
        reader = IndexReader(home.current())
    except Exception:
        return []
    kept: list[Record] = []
    with reader:
        for key, entry in reader.files().items():
            if key not in bad:
                continue
            root, _, path = key.partition("::")
            read = next(r for r in reads if str(r.root.resolve()) == root)
            # a file with a bad row was read (its other rows are in READ already): its entry gains the rows carried
            # over; a file that could not be read at all stays in the index as it was, so the run after this one can
            # still carry it over
            info = next((f for f in read.files if f.path == path), None)
            unreadable = info is None
            if unreadable:
                info = FileInfo(path, entry.sha256, entry.size)
                read.files.append(info)
            carried = len(kept)
            for rid in entry.records:
                rec = reader.record(rid)
                if rec is None or rec.id in present:
                    continue
                rec.links = [(dst, rel) for _, dst, rel in reader.links(rid) if rel not in DERIVED_RELATIONS]
                rec.carried = reader.passages(rid)
                kept.append(rec)
                present.add(rid)
                info.records.append(rid)
            if unreadable or len(kept) > carried:
                report.problems.append(Problem(path, "kept the last good version from the previous index",
                                               level="warning"))
    return kept


def _current_manifest(home: Home) -> dict | None:
    try:
        return read_manifest(home.current(), verify=True)
    except Exception:
        return None


def _previous_files(home: Home) -> dict[str, str]:
    """SHA-256 by file key of the published build; empty when there is none or it cannot be read."""
    try:
        with IndexReader(home.current()) as reader:
            return {key: entry.sha256 for key, entry in reader.files().items()}
    except Exception:
        return {}


def _file_changes(previous: dict[str, str], current: dict[str, str]) -> dict[str, int]:
    return {
        "new": sum(1 for k in current if k not in previous),
        "changed": sum(1 for k, v in current.items() if k in previous and previous[k] != v),
        "unchanged": sum(1 for k, v in current.items() if previous.get(k) == v),
        "deleted": sum(1 for k in previous if k not in current),
    }


def _embed_all(emb: Embedder, cache: EmbeddingCache, texts: list[str], rebuild: bool, progress, desc: str,
               as_query: bool = False, shipped: dict[str, np.ndarray] | None = None):
    """Vectors of TEXTS (len(texts), dim) as passages or, with AS_QUERY, as queries (cached under
    their e5 input 'query: ...', apart from the same text as a passage), how many distinct texts were embedded
    now, and how many texts were taken from the cache and from SHIPPED: vectors by cache key that came with the
    package (``conceptvectors.shipped_vectors``); those the cache lacks are taken from there and stored in it.
    REBUILD embeds every text again."""
    keys = [cache.key(cached_text(t, as_query)) for t in texts]
    found = {} if rebuild else cache.get_many(list(dict.fromkeys(keys)))
    seeded: dict[str, np.ndarray] = {}
    if shipped and not rebuild:
        seeded = {k: shipped[k] for k in keys if k not in found and k in shipped}
        if seeded:
            cache.put_many(list(seeded.items()))
            found.update(seeded)
    todo = [i for i, k in enumerate(keys) if k not in found]
    todo_unique = list(dict.fromkeys(keys[i] for i in todo))
    text_of = {keys[i]: texts[i] for i in todo}
    with progress_bar(len(todo_unique), desc, progress) as bar:
        for start in range(0, len(todo_unique), BATCH):
            batch = todo_unique[start:start + BATCH]
            embed = emb.embed_queries if as_query else emb.embed_passages
            vecs = embed([text_of[k] for k in batch])
            cache.put_many(list(zip(batch, vecs)))
            found.update(zip(batch, vecs))
            bar.update(len(batch))
    matrix = np.zeros((len(texts), emb.dim), np.float32)
    for i, k in enumerate(keys):
        matrix[i] = found[k]
    from_shipped = sum(1 for k in keys if k in seeded)
    return matrix, len(todo_unique), len(texts) - len(todo) - from_shipped, from_shipped


def _write_db(path: Path, records: list[Record], passages: list[Passage], reads: list[CorpusRead],
              concepts: list, problems: list[Problem], found: dict[str, list[str]]) -> None:
    """records.db of a build (``index_format.write_records_db``) with the files of READS."""
    files = [FileEntry(file_key(rd.root, f.path), str(rd.root.resolve()), f.path, f.sha256, f.size, f.records)
             for rd in reads for f in rd.files]
    write_records_db(path, records, passages, files, concepts, problems, found)


def record_concepts(records: list[Record], passages: list[Passage], concepts: list,
                    analyzer: Analyzer) -> dict[str, list[str]]:
    """Per record, the ids of the thesaurus concepts whose words occur in its passages."""
    terms = ConceptTerms(concepts, analyzer)
    texts: dict[str, list[str]] = {}
    for p in passages:
        texts.setdefault(p.record_id, []).append(p.text)
    return {r.id: sorted(concepts[i].id for i in terms.lexical(" ".join(texts.get(r.id, []))))
            for r in records}


def passage_concepts(passages: list[Passage], concepts: list,
                     analyzer: Analyzer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per passage, the concepts whose words occur in it and their word scores (``ConceptTerms.lexical``), as
    CSR arrays: indptr (int64, n passages + 1), concept indexes (int32) and scores (float64), each passage's
    in the order ``lexical`` finds them. The matcher's concept feedback reads a question's best passages'
    concepts here instead of matching their words per question (0.3-0.4 ms per passage)."""
    terms = ConceptTerms(concepts, analyzer)
    indptr = np.zeros(len(passages) + 1, np.int64)
    found_concepts: list[int] = []
    found_scores: list[float] = []
    for i, p in enumerate(passages):
        for c, (score, _) in terms.lexical(p.text).items():
            found_concepts.append(c)
            found_scores.append(score)
        indptr[i + 1] = len(found_concepts)
    return indptr, np.array(found_concepts, np.int32), np.array(found_scores, np.float64)


def _write_bm25(build: Path, passages: list[Passage], concepts: list) -> list[str]:
    import bm25s

    texts = [p.text for p in passages]
    vocab = Analyzer.vocabulary_from(texts + [t for c in concepts for t in c.terms()])
    analyzer = Analyzer(vocab)
    corpus_tokens = [analyzer.tokens(t) or ["_leeg_"] for t in texts]
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(corpus_tokens, show_progress=False)
    write_bm25(build, retriever, vocab)
    return vocab
