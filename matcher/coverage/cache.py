"""What the coverage analysis keeps between runs for one loaded index.

Owned by the index (``LoadedIndex.coverage_cache``): when a new build is published the engine
loads a new index and these caches go with the old one. Question vectors and detections are kept
in memory only: stored questions are personal data with a retention period, so nothing is written
to disk.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

VECTORS_MAX = 50_000    # question vectors kept (least recently stored dropped first)


class CoverageCache:
    """Thread-safe caches of one index: record coverage per threshold, question vectors by (embedder, text),
    concept detections by question text and the best BM25 sources by text. Computation happens outside
    the lock; two threads may compute the same value, and the first stored wins."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.record_coverage: dict[float, Any] = {}
        self.vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self.detected: dict[str, list[tuple[int, float]]] = {}
        self.top_sources: dict[str, list[tuple[str, float]]] = {}

    def coverage_for(self, weak: float, make: Callable[[], Any]) -> Any:
        """The record coverage for threshold WEAK, made with ``make()`` the first time."""
        with self.lock:
            hit = self.record_coverage.get(weak)
        if hit is None:
            hit = make()
            with self.lock:
                hit = self.record_coverage.setdefault(weak, hit)
        return hit

    def store_vectors(self, embedder: str, items: dict[str, np.ndarray]) -> None:
        """Keep query vectors (text -> float32 (dim,)) of EMBEDDER, dropping the oldest beyond ``VECTORS_MAX``."""
        with self.lock:
            for text, vec in items.items():
                self.vectors[(embedder, text)] = vec
            while len(self.vectors) > VECTORS_MAX:
                self.vectors.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (for benchmarks and tests)."""
        with self.lock:
            self.record_coverage.clear()
            self.vectors.clear()
            self.detected.clear()
            self.top_sources.clear()
