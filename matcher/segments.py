"""The maximum of a per-passage array over each record's passages, when every record's passages are
consecutive rows (as a build writes them).

``np.maximum.reduceat`` does this in one call but pays about 25 ns per segment: at 10^5 passages in
20,000 records that is half a millisecond, as slow as the scatter ``np.maximum.at``, and the matcher
takes such maxima six times per question. ``Segments`` lays the short segments (most records have a
few passages) out as a padded (width, segments) table of passage rows once per index, so a maximum is
one ``np.take`` and a maximum over the table's first axis; the long segments (long reports) keep one
``reduceat``. The width is chosen to minimise the work: ``width x short segments + 10 x long
segments``. The result is the same number as any other way of taking a maximum (NaN propagates, as in
``np.maximum``).
"""
from __future__ import annotations

import numpy as np

#: reduceat's cost per segment in units of one padded gather-and-maximum (measured on numpy 2.4)
_LONG_COST = 10
_MAX_WIDTH = 64


class Segments:
    """Consecutive segments of an array of length ``n``, given by ``starts`` (int64, ascending, the first
    at 0) and ``counts`` (int64, each >= 1, summing to ``n``)."""

    def __init__(self, starts: np.ndarray, counts: np.ndarray):
        self.n = int(counts.sum()) if len(counts) else 0
        self.size = len(starts)
        self.width = _width(counts)
        short = np.flatnonzero(counts <= self.width)
        self.short = short
        # row j of the table: the j-th passage of each short segment, or n (the padding slot) past its end
        offsets = np.arange(self.width)[:, None]
        self.table = np.where(offsets < counts[short][None, :], starts[short][None, :] + offsets, self.n)
        self.long = np.flatnonzero(counts > self.width)
        self.pairs = np.stack([starts[self.long], starts[self.long] + counts[self.long]], axis=1).ravel()

    def maximum(self, values: np.ndarray) -> np.ndarray:
        """Per segment, the maximum of VALUES (shape (n,)): shape (segments,), VALUES' dtype."""
        padded = np.empty(self.n + 1, values.dtype)
        padded[:self.n] = values
        padded[self.n] = -np.inf
        out = np.empty(self.size, values.dtype)
        if len(self.short):
            out[self.short] = np.take(padded, self.table).max(axis=0)
        if len(self.long):
            out[self.long] = np.maximum.reduceat(padded, self.pairs)[::2]
        return out


def _width(counts: np.ndarray) -> int:
    """The table width (>= 1) that minimises width x (segments up to it) + _LONG_COST x (longer segments)."""
    if not len(counts):
        return 1
    sizes = np.bincount(np.minimum(counts, _MAX_WIDTH + 1), minlength=_MAX_WIDTH + 2)
    up_to = np.cumsum(sizes)[1:_MAX_WIDTH + 1]          # segments with count <= w, for w = 1.._MAX_WIDTH
    widths = np.arange(1, _MAX_WIDTH + 1)
    cost = widths * up_to + _LONG_COST * (len(counts) - up_to)
    return int(widths[np.argmin(cost)])
