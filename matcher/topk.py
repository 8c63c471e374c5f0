"""The k largest values of a score array without sorting all of it, in the order a full sort gives.

``np.argsort(-values)[:k]`` sorts every record or passage for the sake of a few; at 10^5 records
that is most of a millisecond per call. ``top_k`` selects with ``np.argpartition`` (introselect,
linear time) and sorts only the k selected. Where the selection is not unique (a tie at the k-th
value) or the order among the selected is not (a tie among them), it returns what the full sort
returns, so callers get the same rows in the same order as before.
"""
from __future__ import annotations

import numpy as np


def top_k(values: np.ndarray, k: int) -> np.ndarray:
    """Positions (int64) of the ``k`` largest of ``values`` (1-d), largest first: equal to
    ``np.argsort(-values)[:k]`` (numpy's default sort) for every input, NaN-free or not.
    ``k`` <= 0 gives an empty array; ``k`` >= len(values) sorts all."""
    n = len(values)
    if k <= 0:
        return np.zeros(0, np.int64)
    if k >= n or n <= 4 * k or np.isnan(values).any():
        return np.argsort(-values)[:k]
    part = np.argpartition(-values, k - 1)[:k]
    chosen = values[part]
    kth = chosen.min()
    # a tie at the boundary, or among the chosen: only the full sort knows its order
    if np.count_nonzero(values == kth) > 1 or len(np.unique(chosen)) < k:
        return np.argsort(-values)[:k]
    return part[np.argsort(-chosen)]


def top_k_stable(values: np.ndarray, k: int) -> np.ndarray:
    """Positions (int64) of the ``k`` largest of ``values`` (1-d, NaN-free), largest first and equal values by
    position: equal to ``np.argsort(-values, kind="stable")[:k]`` for every such input, ties at the k-th value
    included. Selects with ``np.argpartition`` and sorts only the values at or above the k-th (stably, so
    equal ones keep their order of position). ``k`` <= 0 gives an empty array; ``k`` >= len(values) sorts all."""
    n = len(values)
    if k <= 0:
        return np.zeros(0, np.int64)
    if k >= n or n <= 4 * k:
        return np.argsort(-values, kind="stable")[:k]
    kth = values[np.argpartition(-values, k - 1)[k - 1]]
    rows = np.flatnonzero(values >= kth)
    return rows[np.argsort(-values[rows], kind="stable")[:k]]


def top_set(values: np.ndarray, k: int) -> np.ndarray:
    """Positions (int64, ascending) of the ``k`` largest of ``values`` (1-d, NaN-free) as a set: of values equal
    to the k-th largest, those at the lowest positions. For callers that use the selection, not its order:
    unlike ``top_k`` it never sorts, also when the k-th value is shared by many (a corpus where most records
    score 0). ``k`` <= 0 gives an empty array; ``k`` >= len(values) gives every position."""
    n = len(values)
    if k <= 0:
        return np.zeros(0, np.int64)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    kth = values[np.argpartition(-values, k - 1)[k - 1]]
    above = np.flatnonzero(values > kth)
    tied = np.flatnonzero(values == kth)[:k - len(above)]
    return np.sort(np.concatenate([above, tied]))
