"""matcher.topic: questions without a topic in the corpus get a notice and no match."""
from __future__ import annotations

import numpy as np
import pytest

from matcher import Engine
from matcher.topic import NO_TOPIC_NOTICE, NullRange, nonsense_queries

TEST_EMBEDDER = "hash:256"


@pytest.fixture(scope="module")
def engine(demo_home):
    return Engine(demo_home, embedder=TEST_EMBEDDER)


@pytest.mark.parametrize("question", ["asdfgh qwerty zxcvbn", "de het een van en", "Hallo, goedemorgen!"])
def test_nonsense_and_greetings_get_no_match(engine, question):
    res = engine.match(question)
    assert not any(res.matches.values())
    assert res.notices == [NO_TOPIC_NOTICE]
    assert res.clarify == []
    assert [c for c in res.general.concepts if c.level == 1] == []


def test_a_practice_question_keeps_its_matches(engine):
    res = engine.match("Hoe zet ik blended leren in om de zelfregulatie van studenten te versterken?")
    assert res.matches["expert"] and NO_TOPIC_NOTICE not in res.notices


def test_baselines_are_not_filtered(engine):
    from matcher.query import BASELINES

    res = engine.match("asdfgh qwerty zxcvbn", options=BASELINES["dense"], clarify=False)
    assert any(res.matches.values())   # the dense baseline always ranks something: only the full system abstains


def test_null_range_is_calibrated_once_per_build(engine):
    index = engine.index()
    first = engine.null_range(index)
    assert isinstance(first, NullRange) and first.n == len(nonsense_queries())
    assert engine.null_range(index) is first
    assert first.threshold >= first.mean
    assert np.isfinite(first.threshold)


def test_nonsense_queries_are_fixed():
    assert nonsense_queries() == nonsense_queries()
    assert len(set(nonsense_queries())) > len(nonsense_queries()) // 2


def test_a_question_with_corpus_words_is_answered_without_calibrating(demo_home):
    fresh = Engine(demo_home, embedder=TEST_EMBEDDER)
    res = fresh.match("Hoe zet ik blended leren in om de zelfregulatie van studenten te versterken?")
    assert res.matches["expert"]
    assert fresh._null == (None, None)           # the first answer did not wait for 24 nonsense embeddings
    assert fresh.match("asdfgh qwerty zxcvbn").notices == [NO_TOPIC_NOTICE]
    assert fresh._null[1] is not None            # a question without known words calibrates it
