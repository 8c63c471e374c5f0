"""FAISS index by size: exact inner product below a threshold, HNSW above.

Vectors are L2-normalised, so inner product is cosine similarity. An exact index is scanned whole
(``inner_products``, every score) up to ``QUANTIZED_SCAN_MIN`` vectors; from there the matcher first scans
8-bit codes of the vectors (``QuantizedScan``) and scores the candidates again with the float32 vectors
(``inner_products_at``).
"""
from __future__ import annotations

import errno
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .errors import EmbedderUnavailable


def faiss():
    """The ``faiss`` module. Raises EmbedderUnavailable when faiss-cpu is not installed."""
    try:
        import faiss as _faiss
    except ImportError as exc:  # pragma: no cover - core dependency
        raise EmbedderUnavailable("vector search needs faiss: pip install faiss-cpu") from exc
    return _faiss


HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128  # recall@10 0.98 on 10^6 e5-like vectors (96: 0.954); p95 0.6 ms


def build(vectors: np.ndarray, exact_limit: int):
    """A FAISS index of VECTORS (float32, shape (n, dim), L2-normalised): exact inner product (``IndexFlatIP``) up
    to EXACT_LIMIT vectors, HNSW above (``empty_hnsw``). Building uses every core."""
    f = faiss()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    index = f.IndexFlatIP(dim) if kind_for(len(vectors), exact_limit) == "flat" else empty_hnsw(dim, vectors)
    if len(vectors):
        before = f.omp_get_max_threads()
        f.omp_set_num_threads(os.cpu_count() or 1)  # building uses every core, even in a thread that searched
        try:
            index.add(vectors)
        finally:
            f.omp_set_num_threads(before)
    tune(index)
    return index


def kind_for(n: int, exact_limit: int) -> str:
    """The kind of index ``build`` makes for N vectors: 'flat' (exact) up to EXACT_LIMIT and for none, else 'hnsw'."""
    return "flat" if n <= exact_limit or not n else "hnsw"


def empty_hnsw(dim: int, sample: np.ndarray):
    """An empty HNSW graph (Malkov & Yashunin 2018; M=``HNSW_M``, efConstruction=``HNSW_EF_CONSTRUCTION``) over
    8-bit scalar-quantised vectors (faiss ``IndexHNSWSQ``, QT_8bit: per dimension, 256 steps between the
    smallest and largest value in SAMPLE (float32, (n, dim)), on which it is trained). A quarter of the memory
    of float32 vectors (at 10^6 x 384: 0.37 GB instead of 1.5 GB) for the same recall@400 on e5-like vectors
    (0.8525 against 0.8528 at 10^5, ``bench/scale_bench.py``); the scores it finds are approximate, so the
    matcher re-scores the passages found with their float32 vectors (``index_format.VectorRows``)."""
    f = faiss()
    index = f.IndexHNSWSQ(dim, f.ScalarQuantizer.QT_8bit, HNSW_M, f.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    return index


def is_hnsw(index) -> bool:
    """Whether INDEX is an HNSW graph index (``IndexHNSWFlat`` of older builds or ``IndexHNSWSQ``)."""
    return isinstance(index, faiss().IndexHNSW)


def approximate_scores(index) -> bool:
    """Whether INDEX's search returns approximate scores (quantised vectors: re-score what it finds)."""
    return is_hnsw(index) and not isinstance(index, faiss().IndexHNSWFlat)


def tune(index) -> None:
    """Set the search-time beam (efSearch = ``HNSW_EF_SEARCH``) of an HNSW index; other indexes are left alone."""
    if is_hnsw(index):
        index.hnsw.efSearch = HNSW_EF_SEARCH


def kind_of(index) -> str:
    """'hnsw' or 'flat': the kind of a FAISS index, as recorded in the manifest."""
    return "hnsw" if is_hnsw(index) else "flat"


def stored_vectors(index) -> np.ndarray | None:
    """The vectors of an exact index (``IndexFlat``) as a float32 array of shape (ntotal, d) that views faiss's
    own storage (no copy: keep INDEX alive while the view is used, and do not write to it); None for any
    other index (HNSW keeps its vectors too, but is searched through its graph)."""
    f = faiss()
    if not isinstance(index, f.IndexFlat) or index.ntotal == 0:
        return None
    return f.rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)


#: an exact scan of at least this many vectors is split over ``SCAN_THREADS`` threads (below it the hand-over
#: to another thread costs more than it saves)
SCAN_SPLIT_MIN = 20_000
#: threads an exact scan may use: the calling thread plus a shared pool of SCAN_THREADS - 1
SCAN_THREADS = max(1, min(2, os.cpu_count() or 1))
_scan_pool: ThreadPoolExecutor | None = None
_scan_pool_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _scan_pool
    with _scan_pool_lock:
        if _scan_pool is None:
            _scan_pool = ThreadPoolExecutor(max(1, SCAN_THREADS - 1), thread_name_prefix="schakel-scan")
        return _scan_pool


def _flat_query(index, x: np.ndarray) -> np.ndarray | None:
    """X as a contiguous float32 query for an exact index (``IndexFlat``); None for any other index. Raises
    ValueError for a vector of another dimension."""
    if not isinstance(index, faiss().IndexFlat):
        return None
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.shape != (index.d,):
        raise ValueError(f"query vector of shape {x.shape} for an index of dimension {index.d}")
    return x


def inner_products(index, x: np.ndarray) -> np.ndarray | None:
    """Every stored vector's inner product with X (float32, shape (d,)) for an exact index: float32 of shape
    (ntotal,), by faiss's ``fvec_inner_products_ny``, the SIMD kernel that ``IndexFlatIP.search`` itself runs
    (on one core about 1.4x faster than numpy's BLAS matrix-vector product over the same 10^5 x 384 vectors,
    and without a heap it keeps every score). None for any other index. Raises ValueError for a vector of
    another dimension.

    From ``SCAN_SPLIT_MIN`` vectors on, the scan is split in ``SCAN_THREADS`` slices: the calling thread
    scans the first and a shared pool the others (faiss releases the GIL). A slice the pool has not started
    when the caller is done is taken back and scanned by the caller, so a busy pool (other questions'
    scans) never makes a question wait: on an idle 2-core machine a 10^5 x 384 scan takes 6 ms instead of
    9.5 ms; under load it costs the same CPU as one thread. Plain threads, not OpenMP, whose spin-waiting
    threads slow a loaded machine down (see ``SEARCH_THREADS``)."""
    f = faiss()
    x = _flat_query(index, x)
    if x is None:
        return None
    n, d = index.ntotal, index.d
    out = np.empty(n, np.float32)
    if not n:
        return out
    base = stored_vectors(index)

    def scan(lo: int, hi: int) -> None:
        f.fvec_inner_products_ny(f.swig_ptr(out[lo:hi]), f.swig_ptr(x), f.swig_ptr(base[lo:hi]), d, hi - lo)

    _split_scan(_slices(n), scan)
    return out


def inner_products_at(index, x: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
    """The inner products of X (float32, shape (d,)) with the stored vectors ROWS (int, shape (m,)) of an exact index:
    float32 of shape (m,), by faiss's ``fvec_inner_products_by_idx`` (the kernel of ``inner_products``, so the same
    values as a full scan; no gathered copy of the rows: ~2x faster than numpy's ``X[rows] @ x`` for 1,600 rows of
    384). None for any other index. Raises ValueError for a vector of another dimension or a row out of range."""
    f = faiss()
    x = _flat_query(index, x)
    if x is None:
        return None
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    out = np.empty(len(rows), np.float32)
    if not len(rows):
        return out
    if int(rows.min()) < 0 or int(rows.max()) >= index.ntotal:
        raise ValueError(f"rows out of range 0..{index.ntotal - 1}")
    base = stored_vectors(index)
    f.fvec_inner_products_by_idx(f.swig_ptr(out), f.swig_ptr(x), f.swig_ptr(base), f.swig_ptr(rows), index.d, 1,
                                 len(rows))
    return out


def _slices(n: int) -> list[int]:
    """Bounds of the slices a scan of N vectors is split in: ``SCAN_THREADS`` from ``SCAN_SPLIT_MIN`` on, else one."""
    parts = SCAN_THREADS if n >= SCAN_SPLIT_MIN else 1
    return [n * i // parts for i in range(parts + 1)]


def _split_scan(bounds: list[int], scan) -> None:
    """Run SCAN(lo, hi) for each slice [lo, hi) of BOUNDS (ascending, as ``_slices`` gives): the calling thread
    runs the first, the shared pool the others, and a slice the pool has not started when the caller is done is
    taken back by the caller, so a busy pool never makes a question wait. SCAN must release the GIL to gain
    (faiss does)."""
    pending = [(_pool().submit(scan, lo, hi), lo, hi) for lo, hi in zip(bounds[1:-1], bounds[2:])]
    scan(bounds[0], bounds[1])
    for future, lo, hi in pending:
        if future.cancel():
            scan(lo, hi)
        else:
            future.result()


#: an exact index of at least this many vectors is searched through 8-bit codes first (``QuantizedScan``)
QUANTIZED_SCAN_MIN = 20_000
#: a quantised search asks this many times the passages wanted, which their float32 vectors then score again
QUANTIZED_OVERSAMPLE = 2


class QuantizedScan:
    """An exhaustive scan over 8-bit codes of an exact index's vectors, for finding candidates that float32
    vectors then score again (re-ranking the candidates of a compressed-domain search, as in Jégou, Douze &
    Schmid 2011, "Product quantization for nearest neighbor search", section 4.3).

    The codes are faiss's ``ScalarQuantizer`` QT_8bit_uniform: one range for all dimensions, 256 steps
    (``IndexScalarQuantizer``, trained on the vectors it holds). They take a quarter of the float32 vectors'
    memory, and a scan reads a quarter of the bytes: at 10^5 x 384 one core scans the codes in ~4 ms against
    ~11.5 ms for the float32 vectors (``bench/scale_bench.py``; the float scan is bound by memory bandwidth).
    On the synthetic 10^5 set (``scale_bench``) the 800 best by the codes held all of the exact 400 best.

    VECTORS: float32 (n, d). The codes are kept in ``SCAN_THREADS`` shards of consecutive rows, scanned like
    ``inner_products`` (``_split_scan``); memory n x d bytes."""

    def __init__(self, vectors: np.ndarray):
        f = faiss()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.n, self.d = vectors.shape
        self.bounds = _slices(self.n)
        trained = f.IndexScalarQuantizer(self.d, f.ScalarQuantizer.QT_8bit_uniform, f.METRIC_INNER_PRODUCT)
        trained.train(vectors)
        self.shards = []
        for lo, hi in zip(self.bounds, self.bounds[1:]):
            shard = f.clone_index(trained)
            shard.add(vectors[lo:hi])
            self.shards.append(shard)

    def search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores): the rows (int64, in no particular order) of the min(K, n) vectors with the largest inner
        product with X (float32, shape (d,)) by their codes, and those approximate inner products (float32).
        Raises ValueError for a vector of another dimension."""
        f = faiss()
        x = np.ascontiguousarray(x, dtype=np.float32).reshape(1, -1)
        if x.shape[1] != self.d:
            raise ValueError(f"query vector of shape {x.shape[1:]} for an index of dimension {self.d}")
        k = min(int(k), self.n)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        found: list = [None] * len(self.shards)
        starts = {lo: i for i, lo in enumerate(self.bounds[:-1])}

        def scan(lo: int, hi: int) -> None:
            i = starts[lo]
            f.omp_set_num_threads(SEARCH_THREADS)   # per thread: one query on one core (see SEARCH_THREADS)
            sims, ids = self.shards[i].search(x, min(k, hi - lo))
            found[i] = (sims[0], ids[0] + lo)

        _split_scan(self.bounds, scan)
        sims = np.concatenate([s for s, _ in found])
        ids = np.concatenate([i for _, i in found])
        keep = ids >= 0
        sims, ids = sims[keep], ids[keep]
        if len(ids) > k:
            keep = np.argpartition(-sims, k - 1)[:k]
            sims, ids = sims[keep], ids[keep]
        return ids.astype(np.int64, copy=False), sims.astype(np.float32, copy=False)

    @property
    def nbytes(self) -> int:
        """Bytes of the codes."""
        return self.n * self.d


def write(index, path) -> None:
    """Write a FAISS index to PATH. Raises OSError (ENOSPC for a full disk, else EIO) where faiss raises
    RuntimeError."""
    try:
        faiss().write_index(index, str(path))
    except RuntimeError as exc:  # faiss reports I/O errors (disk full) as RuntimeError
        text = str(exc)
        code = errno.ENOSPC if "No space left" in text else errno.EIO
        raise OSError(code, f"{os.strerror(code)}: {text.splitlines()[-1][-200:]}", str(path)) from exc


def read(path, mmap: bool = False):
    """Read a FAISS index from PATH (memory-mapped read-only with MMAP), tuned for search and searching one query
    on one core. Raises RuntimeError from faiss for a missing or damaged file."""
    f = faiss()
    flags = f.IO_FLAG_MMAP | f.IO_FLAG_READ_ONLY if mmap else 0
    index = f.read_index(str(path), flags) if flags else f.read_index(str(path))
    tune(index)
    _single_threaded_search(index)
    return index


# A query is searched on one core. For one query, faiss splits an exact search over all cores
# with OpenMP; under any other load (a server's other requests, the embedder) its threads
# spin-wait at barriers and a 10^5-passage search gets 2-5x slower at p50 and up to 40x at p95
# on 2 cores (bench/scale_bench.py). omp_set_num_threads is per calling thread, so it is set
# on every search, in whatever (waitress) thread runs it; it costs nanoseconds.
SEARCH_THREADS = 1


def _single_threaded_search(index) -> None:
    f = faiss()
    search = index.search
    hnsw = is_hnsw(index)

    def search_one_core(x, k, **kwargs):
        f.omp_set_num_threads(SEARCH_THREADS)
        if hnsw and "params" not in kwargs and k > index.hnsw.efSearch:
            # faiss does not widen the beam to k by itself: with efSearch 96, a k=400 search (the
            # matcher's DENSE_K) returns only ~75% of the true top 400. A beam of k costs ~1 ms at 10^6.
            kwargs["params"] = f.SearchParametersHNSW(efSearch=int(k))
        return search(x, k, **kwargs)

    index.search = search_one_core
