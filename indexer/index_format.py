"""The index format: the files of one build, the SQLite schema, the format version, a writer and a reader.

One published build (a folder under ``HOME/index/builds/``, see :mod:`indexer.store`) holds::

    manifest.json          embedder, dimension, metric, counts, checksums, format version
    records.db             SQLite: records, passages, links, files, problems, concepts (``SCHEMA``)
    vectors.faiss          the FAISS passage index; row i = passages.row i: exact (float32) up to the setting
                           ``exact_search_limit``, above it an HNSW graph over 8-bit codes (``ann.empty_hnsw``)
    passage_vectors.npy    beside an HNSW graph only: the float32 passage vectors, shape (passages, dim),
                           whose rows the matcher reads to score what the graph finds (``VectorRows``)
    concepts.npy           concept vectors, float32, shape (concepts, dim); row i = concepts.row i
    concept_queries.npy    the concepts' detection vectors (their definitions embedded as queries)
    passage_concepts.npz   per passage, the concepts its words name (CSR arrays)
    vocabulary.json        the stems of the BM25 vocabulary (list of str)
    bm25/                  BM25 matrices in bm25s' own format (no pickle)

The indexer (``indexer.build``) writes a build only through this module and the
matcher (``matcher.loaded``) and the indexer's carry-over read it only through
this module, so the SQL column lists exist once. The same split as Pyserini,
whose index writer lives beside its index reader.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from . import ann
from .errors import CorruptIndex
from .records import Passage, Problem, Record
from .thesaurus import Concept

#: Version of the files below; a build of another version is refused with "run schakel index --rebuild".
#: 3: the stems of the BM25 index changed (``analysis.stem`` no longer drops an inner 'ge').
FORMAT_VERSION = 3

MANIFEST = "manifest.json"
RECORDS_DB = "records.db"
VECTORS = "vectors.faiss"
CONCEPT_VECTORS = "concepts.npy"
CONCEPT_QUERY_VECTORS = "concept_queries.npy"
PASSAGE_CONCEPTS = "passage_concepts.npz"
#: float32 passage vectors beside an HNSW index, whose own vectors are 8-bit codes (``ann.empty_hnsw``)
PASSAGE_VECTORS = "passage_vectors.npy"
VOCABULARY = "vocabulary.json"
BM25_DIR = "bm25"
#: Files whose size and SHA-256 the manifest records and ``read_manifest(verify=True)`` checks.
CHECKSUMMED = (RECORDS_DB, VECTORS, PASSAGE_VECTORS, CONCEPT_VECTORS, CONCEPT_QUERY_VECTORS, PASSAGE_CONCEPTS, VOCABULARY, f"{BM25_DIR}/data.csc.index.npy",
               f"{BM25_DIR}/indices.csc.index.npy", f"{BM25_DIR}/indptr.csc.index.npy", f"{BM25_DIR}/vocab.index.json")

#: Tables of records.db: (name, {column: type}, primary key). JSON columns hold lists or objects as text.
SCHEMA = [
    ("records", {"id": str, "kind": str, "title": str, "source": str, "url": str, "tags": str, "fields": str,
                 "body": str, "derived_from": str, "concepts": str}, "id"),
    ("passages", {"row": int, "record_id": str, "ordinal": int, "text": str, "heading": str, "page": int}, "row"),
    ("links", {"src": str, "dst": str, "relation": str}, None),
    ("files", {"key": str, "corpus": str, "path": str, "sha256": str, "size": int, "records": str}, "key"),
    ("problems", {"path": str, "line": int, "level": str, "message": str}, None),
    ("concepts", {"row": int, "id": str, "label": str, "grp": str, "definition": str, "synonyms": str,
                  "broader": str, "related": str, "organisation": str}, "row"),
]
_COLUMNS = {name: list(columns) for name, columns, _ in SCHEMA}


def _select(table: str, where: str = "", order: str = "") -> str:
    sql = f"SELECT {', '.join(_COLUMNS[table])} FROM {table}"
    return sql + (f" WHERE {where}" if where else "") + (f" ORDER BY {order}" if order else "")


def file_key(corpus_root: Path, path: str) -> str:
    """The key of a corpus file in the ``files`` table: ``"<resolved corpus root>::<path in the corpus>"``."""
    return f"{Path(corpus_root).resolve()}::{path}"


@dataclass
class FileEntry:
    """One corpus file of a build: ``key`` is ``"<corpus root>::<path>"``; ``records`` the ids read from it."""

    key: str
    corpus: str
    path: str
    sha256: str
    size: int            # bytes
    records: list[str]


# --- manifest ---------------------------------------------------------------

def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks. Raises OSError when the file cannot be read."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(build: Path, manifest: dict) -> None:
    """Write ``manifest.json`` into BUILD: MANIFEST plus the format version and the size (bytes) and SHA-256
    of every file in ``CHECKSUMMED``. Write the manifest last: it covers the files already in BUILD.
    Raises OSError (e.g. disk full)."""
    manifest = dict(manifest)
    manifest["format_version"] = FORMAT_VERSION
    manifest["checksums"] = {name: sha256_file(build / name) for name in CHECKSUMMED if (build / name).exists()}
    manifest["sizes"] = {name: (build / name).stat().st_size for name in CHECKSUMMED if (build / name).exists()}
    (build / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")


def read_manifest(build: Path, verify: bool = True) -> dict:
    """The manifest of BUILD as a dict. With ``verify``, also check the size and SHA-256 of every listed file.

    Raises CorruptIndex when the manifest is missing or not JSON, has another ``FORMAT_VERSION``, or a file is
    missing, truncated or does not match its checksum; the message names the file and says to rebuild.
    """
    path = build / MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CorruptIndex(f"{path} is missing: run `schakel index --rebuild`") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptIndex(f"{path} is not valid JSON ({exc}): run `schakel index --rebuild`") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CorruptIndex(f"{build} has index format {manifest.get('format_version')!r}, this Schakel reads "
                           f"{FORMAT_VERSION}: run `schakel index --rebuild`")
    if verify:
        _verify_files(build, manifest)
    return manifest


def _verify_files(build: Path, manifest: dict) -> None:
    for name, size in manifest.get("sizes", {}).items():
        f = build / name
        if not f.exists():
            raise CorruptIndex(f"{f} is missing: run `schakel index --rebuild`")
        if f.stat().st_size != size:
            raise CorruptIndex(f"{f} has {f.stat().st_size} bytes, the manifest says {size} (truncated?): "
                               "run `schakel index --rebuild`")
    for name, digest in manifest.get("checksums", {}).items():
        if sha256_file(build / name) != digest:
            raise CorruptIndex(f"{build / name} does not match its checksum (corrupted): "
                               "run `schakel index --rebuild`")


# --- writer -----------------------------------------------------------------

def write_records_db(path: Path, records: list[Record], passages: list[Passage], files: Iterable[FileEntry],
                     concepts: list[Concept], problems: list[Problem], found: dict[str, list[str]]) -> None:
    """Create records.db at PATH with ``SCHEMA``: passage row i is ``passages[i]``, concept row i is
    ``concepts[i]``; ``found`` maps a record id to the ids of the concepts found in its text.
    Raises OSError or sqlite3.OperationalError (disk full, read-only folder)."""
    import sqlite_utils

    db = sqlite_utils.Database(str(path))
    db.conn.execute("PRAGMA journal_mode=DELETE")
    for name, columns, pk in SCHEMA:
        db[name].create(columns, pk=pk)
    db["records"].insert_all(({
        "id": r.id, "kind": r.kind, "title": r.title, "source": r.source, "url": r.url,
        "tags": json.dumps(r.tags, ensure_ascii=False), "fields": json.dumps(r.fields, ensure_ascii=False, default=str),
        "body": r.body, "derived_from": r.derived_from,
        "concepts": json.dumps(found.get(r.id, []))} for r in records))
    db["passages"].insert_all(({
        "row": i, "record_id": p.record_id, "ordinal": p.ordinal, "text": p.text, "heading": p.heading,
        "page": p.page} for i, p in enumerate(passages)))
    db["passages"].create_index(["record_id"])
    db["links"].insert_all(({"src": r.id, "dst": dst, "relation": rel} for r in records for dst, rel in r.links))
    db["files"].insert_all((dict(f.__dict__, records=json.dumps(f.records)) for f in files))
    db["problems"].insert_all(({"path": p.path, "line": p.line, "level": p.level, "message": p.message}
                               for p in problems))
    db["concepts"].insert_all(({
        "row": i, "id": c.id, "label": c.label, "grp": c.group, "definition": c.definition,
        "synonyms": json.dumps(c.synonyms, ensure_ascii=False), "broader": json.dumps(c.broader),
        "related": json.dumps(c.related), "organisation": json.dumps(c.organisation)}
        for i, c in enumerate(concepts)))
    db.conn.commit()
    db.conn.close()


def write_vectors(build: Path, index, vectors: np.ndarray) -> None:
    """Write the FAISS passage index (``ann.build``'s result for VECTORS, float32 (passages, dim)) to
    ``vectors.faiss`` and, when its search scores are approximate (``ann.approximate_scores``: 8-bit codes),
    VECTORS themselves to ``passage_vectors.npy``, whose rows the matcher reads to re-score what the index
    finds (``read_passage_vectors``). Raises OSError."""
    ann.write(index, build / VECTORS)
    if ann.approximate_scores(index):
        np.save(build / PASSAGE_VECTORS, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)


def write_concept_vectors(build: Path, vectors: np.ndarray) -> None:
    """Write concept vectors, float32 of shape (concepts, dim), to ``concepts.npy`` (no pickle). Raises OSError."""
    np.save(build / CONCEPT_VECTORS, vectors, allow_pickle=False)


def write_concept_query_vectors(build: Path, vectors: np.ndarray) -> None:
    """Write the concepts' detection vectors (``Concept.definition_text`` embedded as queries), float32 of shape
    (concepts, dim), to ``concept_queries.npy`` (no pickle). Raises OSError."""
    np.save(build / CONCEPT_QUERY_VECTORS, vectors, allow_pickle=False)


def write_passage_concepts(build: Path, indptr: np.ndarray, concepts: np.ndarray, scores: np.ndarray) -> None:
    """Write the concepts each passage names by their words (``build.passage_concepts``: a sparse row per passage,
    CSR: passage i's concept indexes are concepts[indptr[i]:indptr[i + 1]] with word scores scores[...]) to
    ``passage_concepts.npz`` (no pickle). Raises OSError."""
    with open(build / PASSAGE_CONCEPTS, "wb") as fh:
        np.savez(fh, indptr=indptr.astype(np.int64), concepts=concepts.astype(np.int32),
                 scores=scores.astype(np.float64))


def write_bm25(build: Path, retriever, vocabulary: list[str]) -> None:
    """Save a ``bm25s.BM25`` retriever to ``bm25/`` and its stem vocabulary to ``vocabulary.json``."""
    retriever.save(str(build / BM25_DIR), show_progress=False)
    (build / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False), "utf-8")


# --- reader -----------------------------------------------------------------

def read_vectors(build: Path):
    """The FAISS passage index of BUILD (``faiss.Index``, ``ntotal`` = passages)."""
    return ann.read(build / VECTORS)


def read_passage_vectors(build: Path, index) -> "VectorRows | None":
    """The float32 passage vectors of BUILD (``VectorRows``, shape (passages, dim)) when its FAISS INDEX scores
    approximately (``write_vectors``); None otherwise. Raises CorruptIndex when the file is missing, is not a
    float32 .npy or does not match INDEX."""
    if not ann.approximate_scores(index):
        return None
    rows = VectorRows(build / PASSAGE_VECTORS)
    if rows.shape != (index.ntotal, index.d):
        raise CorruptIndex(f"{rows.path} holds {rows.shape} vectors for an index of {index.ntotal} vectors of "
                           f"dimension {index.d}: run `schakel index --rebuild`")
    return rows


class VectorRows:
    """Rows of a float32 (n, dim) .npy file, read from disk when asked (``rows[int array]`` -> float32
    (len, dim)): the float32 vectors beside an 8-bit HNSW graph, of which a question re-scores the ~400 the
    graph found. Why not ``np.load(mmap_mode='r')``: the kernel maps in the pages around each row read
    (read-around), and every mapped page counts as the server's memory; at 10^6 passages the whole 1.5 GB
    file was resident after 30 questions. ``os.pread`` of each row leaves the file in the page cache, which
    the kernel shares and frees as it needs. Thread-safe (pread has no file position); the descriptor is
    closed when this object is collected. Raises CorruptIndex when the file cannot be opened, is not a
    C-ordered float32 2-D .npy, or is shorter than its header says."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise CorruptIndex(f"{path} cannot be read ({exc.strerror}): run `schakel index --rebuild`") from exc
        weakref.finalize(self, os.close, self._fd)
        try:
            with open(path, "rb") as fh:
                version = np.lib.format.read_magic(fh)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f".npy format version {version}")
                shape, fortran, dtype = read_header(fh)
                self._offset = fh.tell()
        except (OSError, ValueError) as exc:
            raise CorruptIndex(f"{path} is not a .npy file ({exc}): run `schakel index --rebuild`") from exc
        if dtype != np.float32 or fortran or len(shape) != 2:
            raise CorruptIndex(f"{path} holds {dtype} {shape} (Fortran order: {fortran}), not float32 rows: "
                               "run `schakel index --rebuild`")
        self.shape = tuple(shape)
        self._row_bytes = shape[1] * 4
        size, want = os.fstat(self._fd).st_size, self._offset + shape[0] * self._row_bytes
        if size < want:
            raise CorruptIndex(f"{path} has {size} bytes, its header promises {want} (cut short?): "
                               "run `schakel index --rebuild`")
        if hasattr(os, "posix_fadvise"):    # random rows: no read-ahead into the page cache either
            os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_RANDOM)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.asarray(rows, np.int64).reshape(-1)
        if len(rows) and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"vector rows out of range 0..{self.shape[0] - 1}")
        out = np.empty((len(rows), self.shape[1]), np.float32)
        view = memoryview(out).cast("B")
        size = self._row_bytes
        for i, row in enumerate(rows.tolist()):
            got = os.preadv(self._fd, [view[i * size:(i + 1) * size]], self._offset + row * size)
            if got != size:
                raise CorruptIndex(f"{self.path} ends before row {row}: run `schakel index --rebuild`")
        return out


def read_concept_vectors(build: Path) -> np.ndarray:
    """Concept vectors of BUILD, float32 of shape (concepts, dim)."""
    return np.load(build / CONCEPT_VECTORS, allow_pickle=False)


def read_concept_query_vectors(build: Path) -> np.ndarray | None:
    """Detection vectors of BUILD, float32 of shape (concepts, dim); None for a build made before they were
    stored (format 2 builds of Schakel up to 0.x; the concept vectors stand in for them then)."""
    path = build / CONCEPT_QUERY_VECTORS
    return np.load(path, allow_pickle=False) if path.exists() else None


def read_passage_concepts(build: Path, passages: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The (indptr, concepts, scores) arrays of ``write_passage_concepts``; None for a build made before they
    were stored (then the matcher finds a passage's concepts when it needs them). Raises CorruptIndex when
    the file does not hold one row per passage of the build (PASSAGES)."""
    path = build / PASSAGE_CONCEPTS
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        indptr, concepts, scores = data["indptr"], data["concepts"], data["scores"]
    if len(indptr) != passages + 1 or len(concepts) != len(scores) or (len(indptr) and indptr[-1] != len(concepts)):
        raise CorruptIndex(f"{path}: passage concepts for {len(indptr) - 1} passages, the build has {passages}: "
                           "run `schakel index --rebuild`")
    return indptr, concepts, scores


def read_bm25(build: Path):
    """The ``bm25s.BM25`` retriever of BUILD (scores in memory, no corpus) and its vocabulary (list of stems).
    Not memory-mapped (bm25s ``mmap=True``): that cost 0.1-0.2 ms per query at 10^5 passages, and at 10^6 the
    postings of common stems were resident after 100 questions anyway (0.38 of 0.6 GB)."""
    import bm25s

    retriever = bm25s.BM25.load(str(build / BM25_DIR), load_corpus=False, mmap=False)
    vocabulary = json.loads((build / VOCABULARY).read_text("utf-8"))
    return retriever, vocabulary


def _record(row: tuple, empty_body: bool = True) -> Record:
    """A Record from a ``records`` row; a NULL body is "" with EMPTY_BODY, else None (not read)."""
    rid, kind, title, source, url, tags, fields, body, derived_from, concepts = row
    return Record(id=rid, kind=kind, title=title, source=source, url=url, tags=json.loads(tags),
                  fields=json.loads(fields), body=body if body is not None or not empty_body else "",
                  derived_from=derived_from,
                  concepts=json.loads(concepts or "[]"))


class IndexReader:
    """Read-only access to the records.db of one build; use as a context manager.

    ``immutable=True`` tells SQLite the file never changes (a published build), which skips locking.
    Raises sqlite3.Error when the file is missing or not a database (callers turn it into CorruptIndex).
    """

    def __init__(self, build: Path, *, immutable: bool = False):
        mode = "ro&immutable=1" if immutable else "ro"
        self.db = sqlite3.connect(f"file:{build / RECORDS_DB}?mode={mode}", uri=True)

    def __enter__(self) -> "IndexReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()

    def records(self, body_kinds: Iterable[str] | None = None) -> list[Record]:
        """All records in table order; ``row`` is the position in that list, ``concepts`` the stored concept ids.
        With BODY_KINDS, only records of those kinds have their ``body`` read; the others get ``body`` None
        (``record(id)`` reads it)."""
        sql = _select("records")
        args: list[str] = []
        if body_kinds is not None:
            kinds = list(body_kinds)
            marks = ", ".join("?" * len(kinds)) or "NULL"
            columns = [f"CASE WHEN kind IN ({marks}) THEN coalesce(body, '') END" if c == "body" else c
                       for c in _COLUMNS["records"]]
            sql = f"SELECT {', '.join(columns)} FROM records"
            args = kinds
        out = [_record(row, body_kinds is None) for row in self.db.execute(sql, args)]
        for i, rec in enumerate(out):
            rec.row = i
        return out

    def record(self, rid: str) -> Record | None:
        """One record by id (``row`` left 0), or None."""
        row = self.db.execute(_select("records", "id = ?"), [rid]).fetchone()
        return _record(row) if row else None

    def passages(self, record_id: str | None = None) -> list[Passage]:
        """Passages in row order (position i = passage row i), or only those of RECORD_ID in ordinal order."""
        if record_id is None:
            rows = self.db.execute(_select("passages", order="row"))
        else:
            rows = self.db.execute(_select("passages", "record_id = ?", "ordinal"), [record_id])
        return [Passage(record_id=rec, ordinal=o, text=t, heading=h, page=pg) for _, rec, o, t, h, pg in rows]

    def passage_meta(self) -> tuple[list[str], list[str | None], list[int | None]]:
        """(record id, heading, page) of every passage in row order, without the texts (``PassageTexts``
        reads those when asked)."""
        rows = self.db.execute("SELECT record_id, heading, page FROM passages ORDER BY row").fetchall()
        return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]

    def links(self, src: str | None = None) -> list[tuple[str, str, str]]:
        """(src, dst, relation) of every link, or of those starting at SRC."""
        if src is None:
            return self.db.execute(_select("links")).fetchall()
        return self.db.execute(_select("links", "src = ?"), [src]).fetchall()

    def files(self) -> dict[str, FileEntry]:
        """The corpus files of the build by key (``"<corpus root>::<path>"``)."""
        out = {}
        for key, corpus, path, sha, size, records in self.db.execute(_select("files")):
            out[key] = FileEntry(key, corpus, path, sha, size, json.loads(records))
        return out

    def problems(self) -> list[dict]:
        """Problems met while reading the corpus: dicts with path, line, level ('error'/'warning'), message."""
        return [dict(zip(_COLUMNS["problems"], r)) for r in self.db.execute(_select("problems"))]

    def concepts(self) -> list[Concept]:
        """Thesaurus concepts in row order (position i = row i of ``concepts.npy``)."""
        return [Concept(cid, label, grp, definition, json.loads(syn), json.loads(broader), json.loads(related),
                        json.loads(org))
                for _, cid, label, grp, definition, syn, broader, related, org
                in self.db.execute(_select("concepts", order="row"))]


class PassageTexts(Sequence):
    """The passage texts of one build by row (a read-only ``Sequence[str]`` of ``count`` items), read from its
    records.db when asked instead of held in memory: at 10^6 passages the texts are ~0.85 GB of Python
    strings, and a question shows some thirty of them. The last ``cache`` texts read are kept (most
    recently used last). One connection, opened read-only and immutable, serves every thread under a
    lock; it is closed when this object is collected. Raises IndexError for a row out of range and
    CorruptIndex when records.db lacks a row the build counts."""

    CHUNK = 2000   # rows per query when iterating over all texts

    def __init__(self, build: Path, count: int, cache: int = 4096):
        self._path = build / RECORDS_DB
        self._db = sqlite3.connect(f"file:{self._path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        weakref.finalize(self, self._db.close)
        self._lock = threading.Lock()
        self._count = count
        self._size = cache
        self._cache: OrderedDict[int, str] = OrderedDict()

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(self._count))]
        row = int(row)
        if row < 0:
            row += self._count
        if not 0 <= row < self._count:
            raise IndexError(f"passage row {row} out of range 0..{self._count - 1}")
        with self._lock:
            text = self._cache.get(row)
            if text is not None:
                self._cache.move_to_end(row)
                return text
            found = self._db.execute("SELECT text FROM passages WHERE row = ?", (row,)).fetchone()
            if found is None:
                raise CorruptIndex(f"{self._path}: no passage {row}: run `schakel index --rebuild`")
            self._cache[row] = found[0]
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
            return found[0]

    def __iter__(self) -> Iterator[str]:
        """Every text in row order, read in chunks of ``CHUNK`` rows (not kept)."""
        for start in range(0, self._count, self.CHUNK):
            with self._lock:
                chunk = self._db.execute("SELECT text FROM passages WHERE row >= ? AND row < ? ORDER BY row",
                                         (start, start + self.CHUNK)).fetchall()
            if len(chunk) != min(self.CHUNK, self._count - start):
                raise CorruptIndex(f"{self._path}: passages missing from row {start}: run `schakel index --rebuild`")
            yield from (t for (t,) in chunk)
