"""Blind-spot merging (matcher/coverage/blind_spots.py) on a small hand-made thesaurus."""
from __future__ import annotations

import numpy as np

from indexer.thesaurus import Concept
from matcher.coverage.blind_spots import _thesaurus_links, merge, source_factor
from matcher.coverage.demand import ConceptDemand


def _concept(cid: str, broader=(), related=()) -> Concept:
    return Concept(cid, cid, broader=list(broader), related=list(related))


def test_merge_groups_connected_concepts():
    concepts = [_concept("c0"), _concept("c1", broader=["c0"]), _concept("c2", related=["c1"]),
                _concept("c3"), _concept("c4", related=["c3"]), _concept("c5"), _concept("c6", related=["c5"])]
    # c0 and c1 are asked in the same questions; c2 (unasked) has c1's sources; c4 (unasked) shares no source
    # with c3; c5 and c6 are asked in different questions and are not on one branch
    questions = [[0, 1], [0, 1], [], [2], [], [3], [4]]
    demand = ConceptDemand(questions, [{q: 1.0 for q in qs} for qs in questions], np.zeros(5, np.float32), {})
    sources = [set(), {"a", "b"}, {"a"}, set(), {"x"}, set(), set()]
    groups = merge(len(concepts), list(range(7)), demand, sources, _thesaurus_links(concepts))
    assert groups == [[0, 1, 2], [3], [4], [5], [6]]
    # only blind-spot concepts take part: without c1, c0 and c2 stay apart
    assert merge(len(concepts), [0, 2], demand, sources, _thesaurus_links(concepts)) == [[0], [2]]


def test_source_factor_rises_to_one_at_three_sources():
    assert [source_factor(n) for n in range(5)] == [0.25, 0.55, 0.85, 1.0, 1.0]
