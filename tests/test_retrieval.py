"""matcher.retrieval: fusion of BM25 and dense evidence (weighted CombSUM and RRF)."""
from __future__ import annotations

import numpy as np

from matcher.knobs import K
from matcher.retrieval import RecordScores, fuse, rrf


def _scores(lexical, dense):
    n = len(lexical)
    return RecordScores(np.array(lexical, np.float32), np.array(dense, np.float32), np.full(n, -1),
                        np.zeros(0, np.float32), np.zeros(0, np.float32))


def test_rrf_ranks_within_each_kind():
    kinds = np.array(["expert", "expert", "literature", "literature"])
    out = rrf(np.array([0.2, 0.9, 0.5, 0.1], np.float32), kinds)
    assert out[1] == 1 / (K.rrf_k + 1) and out[0] == 1 / (K.rrf_k + 2)
    assert out[2] == 1 / (K.rrf_k + 1) and out[3] == 1 / (K.rrf_k + 2)


def test_rrf_mask_gives_no_credit_to_records_without_evidence():
    kinds = np.array(["expert"] * 3)
    out = rrf(np.array([0.0, 0.5, 0.0], np.float32), kinds, mask=np.array([False, True, False]))
    assert out[0] == 0 and out[2] == 0 and out[1] > 0


def test_baselines_use_one_signal_only():
    rs = _scores([1.0, 0.0, 0.5], [0.1, 0.9, 0.5])
    kinds = np.array(["expert"] * 3)
    assert np.argmax(fuse(rs, kinds, "bm25")) == 0
    assert np.argmax(fuse(rs, kinds, "dense")) == 1


def test_weighted_fusion_needs_both_signals_to_win():
    rng = np.random.default_rng(0)
    lexical = [1.0, 0.0, 0.8] + [0.0] * 20
    dense = [0.80, 0.90, 0.89] + list(0.80 + 0.01 * rng.standard_normal(20))
    out = fuse(_scores(lexical, dense), np.array(["expert"] * 23), "weighted", 0.5)
    assert np.argmax(out) == 2          # strong on both beats strong on one
    assert out.shape == (23,)
