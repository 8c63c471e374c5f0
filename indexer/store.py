"""The index folder on disk and how a build is published.

Layout under HOME::

    index/CURRENT              name of the published build (replaced atomically)
    index/builds/<name>/       one complete, self-describing build (files: ``indexer.index_format``)
    index/.lock                held while a build runs
    cache/embeddings.db        vectors by (embedder, text hash): re-runs re-embed nothing
    app.db                     users, feedback, intakes (never touched by indexing)

A build is written to ``builds/.tmp-*`` and renamed when complete, then
CURRENT is replaced with ``os.replace``. A reader therefore sees the old or
the new build, never half of one, and ``kill -9`` at any moment leaves the
previous build in place.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import CorruptIndex, IndexBusy, IndexMissing

log = logging.getLogger(__name__)

KEEP_BUILDS = 3


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(str(path), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Home:
    """The HOME folder: published builds, the CURRENT pointer, the build lock, the embedding cache and the web
    app's database (see the module docstring for the layout)."""
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser()
        self.index_dir = self.root / "index"
        self.builds = self.index_dir / "builds"
        self.current_file = self.index_dir / "CURRENT"
        self.cache_dir = self.root / "cache"

    @property
    def app_db(self) -> Path:
        """Path of the web app's database (users, intakes, feedback); indexing never touches it."""
        return self.root / "app.db"

    def ensure(self) -> None:
        """Create the builds and cache folders. Raises OSError when HOME cannot be written."""
        self.builds.mkdir(parents=True, exist_ok=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)

    # --- reading ---------------------------------------------------------
    def current_name(self) -> str | None:
        """Name of the published build, or None when there is none yet."""
        try:
            name = self.current_file.read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def current(self) -> Path:
        """Folder of the published build. Raises IndexMissing when nothing is published, CorruptIndex when CURRENT
        names a folder that is gone."""
        name = self.current_name()
        if not name:
            raise IndexMissing(f"no index in {self.root}: run `schakel index` first")
        path = self.builds / name
        if not path.is_dir():
            raise CorruptIndex(f"the published index {path} is missing: run `schakel index --rebuild`")
        return path

    # --- writing ---------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the build lock of HOME (an exclusive ``flock``) while the block runs. Raises IndexBusy when another
        run holds it."""
        self.ensure()
        fh = open(self.index_dir / ".lock", "w")
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusy(f"another `schakel index` is running on {self.root}") from None
            fh.write(str(os.getpid()))
            fh.flush()
            yield
        finally:
            fh.close()

    def new_tmp(self) -> Path:
        """A new, empty ``builds/.tmp-*`` folder to write a build into."""
        self.ensure()
        path = self.builds / f".tmp-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        if path.exists():
            shutil.rmtree(path)
        path.mkdir()
        return path

    def publish(self, tmp: Path) -> Path:
        """Publish the complete build in TMP: fsync its files, rename it to its final name, then replace CURRENT
        atomically (``os.replace``). Returns the published folder. Raises OSError (disk full, I/O
        error); then CURRENT still names the old build and the new one is removed."""
        for f in tmp.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        name = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{int(time.time() * 1000) % 100000:05d}"
        final = self.builds / name
        os.rename(tmp, final)
        _fsync_dir(self.builds)
        pointer = self.index_dir / f".CURRENT.{os.getpid()}"
        try:
            pointer.write_text(name + "\n", "utf-8")
            with open(pointer, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(pointer, self.current_file)
        except BaseException:
            # CURRENT still names the old build: drop the unpublished one (it may be what filled the disk)
            with contextlib.suppress(OSError):
                pointer.unlink()
            if self.current_name() != name:
                shutil.rmtree(final, ignore_errors=True)
            raise
        _fsync_dir(self.index_dir)
        return final

    def cleanup(self, keep: int = KEEP_BUILDS) -> None:
        """Remove unfinished temp builds and all but the newest published builds."""
        if not self.builds.is_dir():
            return
        current = self.current_name()
        done = sorted((p for p in self.builds.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: p.name)
        for p in done[:-keep]:
            if p.name != current:
                shutil.rmtree(p, ignore_errors=True)
        for p in self.builds.iterdir():
            if p.name.startswith(".tmp-"):
                shutil.rmtree(p, ignore_errors=True)
        for p in self.index_dir.glob(".CURRENT.*"):  # pointer of a run killed while publishing
            with contextlib.suppress(OSError):
                p.unlink()


def embedding_key(embedder_name: str, text: str) -> str:
    """The embedding cache's key of TEXT for an embedder: hex SHA-1 of the embedder's name and the text."""
    return hashlib.sha1(f"{embedder_name}\0{text}".encode()).hexdigest()


def cached_text(text: str, as_query: bool = False) -> str:
    """The text the embedding cache keys TEXT under: as it is when embedded as a passage, and as e5's input
    'query: ...' when embedded as a query, apart from the same text as a passage."""
    return "query: " + text if as_query else text


class EmbeddingCache:
    """Vectors by (embedder, sha1 of text). Commits per batch, so a killed run keeps its work."""

    def __init__(self, path: Path, embedder: str, dim: int):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.embedder, self.dim = embedder, dim
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):  # locked, disk full, read-only: not damage
                raise
            self._set_aside(exc)
            self._open()

    def _open(self) -> None:
        self.db = sqlite3.connect(str(self.path), timeout=30)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        except BaseException:
            self.db.close()
            raise

    def _set_aside(self, exc: Exception) -> None:
        """The cache is derived data: a damaged file is moved aside and the cache starts empty."""
        with contextlib.suppress(Exception):
            self.db.close()
        aside = self.path.with_name(self.path.name + ".damaged")
        log.warning("embedding cache %s is damaged (%s); moved to %s, starting an empty cache", self.path, exc, aside)
        os.replace(self.path, aside)
        for extra in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(str(self.path) + extra)

    def key(self, text: str) -> str:
        """Cache key of TEXT for this embedder (``embedding_key``)."""
        return embedding_key(self.embedder, text)

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Cached vectors (float32, (dim,)) by key for those of KEYS that are cached. A damaged cache file is set
        aside and counts as empty; sqlite3.OperationalError (locked, disk full) is raised."""
        try:
            return self._get_many(keys)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise
            self._set_aside(exc)
            self._open()
            return {}

    def _get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self.db.execute(
                f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            for key, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == self.dim:
                    out[key] = vec
        return out

    def put_many(self, items: list[tuple[str, np.ndarray]]) -> None:
        """Store (key, vector) pairs in one transaction. Raises sqlite3.OperationalError (e.g. disk full)."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                                [(k, np.asarray(v, np.float32).tobytes()) for k, v in items])

    def close(self) -> None:
        """Close the cache database."""
        self.db.close()
