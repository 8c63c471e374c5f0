"""matcher.topk: top_k gives exactly what a full argsort gives, ties and all, top_k_stable what a full stable argsort
gives; top_set the k largest as a set, ties by position. explain._best_first walks a whole kind in that stable order."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.explain import _best_first
from matcher.topk import top_k, top_k_stable, top_set


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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 0.25, 0.5, 0.5000001, 1.0, 2.0, -1.0]) | st.floats(-5, 5),
                min_size=0, max_size=300),
       st.integers(-1, 80), st.sampled_from([np.float32, np.float64]))
def test_top_k_stable_equals_the_head_of_a_full_stable_argsort(values, k, dtype):
    arr = np.array(values, dtype=dtype)
    assert top_k_stable(arr, k).tolist() == np.argsort(-arr, kind="stable")[:max(k, 0)].tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0.1, 0.2, 0.3, 0.9]), min_size=0, max_size=300), st.integers(1, 12))
def test_best_first_yields_every_row_in_stable_order_however_far_the_caller_reads(values, wanted):
    scores = np.array(values, np.float32)
    rows = np.arange(len(scores), dtype=np.int64) * 3 + 7     # ascending record rows of one kind
    assert list(_best_first(rows, scores, wanted)) == rows[np.argsort(-scores, kind="stable")].tolist()
