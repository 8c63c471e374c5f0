"""matcher.segments: the padded-table maximum equals np.maximum.reduceat for any segment lengths."""
from __future__ import annotations

import numpy as np

from matcher.segments import Segments, _width


def _reference(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.maximum.reduceat(values, starts)


def test_maximum_equals_reduceat_for_short_long_and_single_segments():
    rng = np.random.default_rng(11)
    for counts in (rng.integers(1, 6, 3000),                                   # all short: table only
                   np.r_[rng.integers(1, 6, 500), [300, 1, 90], rng.integers(1, 4, 200), [700]],   # some long
                   np.array([1]), np.array([2000]),                           # one segment
                   rng.geometric(0.05, 800)):                                 # a long tail
        starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
        seg = Segments(starts, counts.astype(np.int64))
        n = int(counts.sum())
        for values in (rng.random(n).astype(np.float32), rng.standard_normal(n),
                       np.round(rng.random(n) * 2).astype(np.float32), np.full(n, -np.inf, np.float32),
                       np.where(rng.random(n) < 0.01, np.nan, rng.random(n)).astype(np.float32)):
            got = seg.maximum(values)
            assert got.dtype == values.dtype
            assert got.tobytes() == _reference(values, starts).tobytes()


def test_width_balances_the_table_against_reduceat():
    assert _width(np.full(1000, 5)) == 5                      # every segment in the table
    assert _width(np.r_[np.full(1000, 3), [5000]]) == 3       # one long report keeps reduceat
    assert _width(np.array([], np.int64)) == 1
