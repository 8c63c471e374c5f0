"""matcher.topk: top_k gives exactly what a full argsort gives, ties and all; top_set the k largest as a set,
ties by position."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.topk import top_k, top_set


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 0.25, 0.5, 0.5000001, 1.0, 2.0, -1.0, float("nan")]) | st.floats(-5, 5),
                min_size=0, max_size=200),
       st.integers(-1, 60), st.sampled_from([np.float32, np.float64]))
def test_top_k_equals_the_head_of_a_full_argsort(values, k, dtype):
    arr = np.array(values, dtype=dtype)
    assert top_k(arr, k).tolist() == np.argsort(-arr)[:max(k, 0)].tolist()


def test_top_k_takes_the_fast_path_on_distinct_scores_and_still_agrees():
    rng = np.random.default_rng(5)
    scores = rng.random(50_000).astype(np.float32)
    scores[rng.integers(0, 50_000, 5_000)] = 0.0          # many ties, but below the top
    for k in (1, 3, 8, 400):
        assert top_k(scores, k).tolist() == np.argsort(-scores)[:k].tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, -1.0]) | st.floats(-5, 5), min_size=0, max_size=200),
       st.integers(-1, 60), st.sampled_from([np.float32, np.float64]))
def test_top_set_is_the_k_largest_with_ties_taken_by_position(values, k, dtype):
    arr = np.array(values, dtype=dtype)
    want = sorted(np.lexsort((np.arange(len(arr)), -arr))[:max(k, 0)].tolist())   # by value, then position
    assert top_set(arr, k).tolist() == want
