"""matcher.topic: questions without a topic in the corpus get a notice and no match."""
from __future__ import annotations

import numpy as np
import pytest

from matcher import Engine
from matcher.generalise import NO_TOPIC_GENERAL
from matcher.topic import GREETING_PREFIX, NO_TOPIC_NOTICE, NullRange, no_topic_notice, nonsense_queries

TEST_EMBEDDER = "hash:256"


@pytest.fixture(scope="module")
def engine(demo_home):
    return Engine(demo_home, embedder=TEST_EMBEDDER)


@pytest.mark.parametrize("question", ["asdfgh qwerty zxcvbn", "de het een van en", "Hallo, goedemorgen!",
                                      # everyday words only; 'weer' and 'niemand' occur in the demo corpus
                                      "Wat is het weer morgen?", "Is er vandaag weer niemand?"])
def test_nonsense_and_greetings_get_no_match(engine, question):
    res = engine.match(question)
    assert not any(res.matches.values())
    assert res.notices[0].endswith(NO_TOPIC_NOTICE) and len(res.notices) == 1
    assert res.notices[0].startswith(GREETING_PREFIX) == question.startswith("Hallo")
    assert res.clarify == []
    assert [c for c in res.general.concepts if c.level == 1] == []
    assert res.general.question == NO_TOPIC_GENERAL      # it does not claim to search with the asker's words


def test_a_greeting_is_greeted_back_but_a_question_with_a_greeting_is_not():
    assert no_topic_notice("Hallo, goedemorgen allemaal!").startswith(GREETING_PREFIX)
    assert no_topic_notice("Good morning everyone").startswith(GREETING_PREFIX)
    assert no_topic_notice("Hallo, wat is de hoofdstad van Frankrijk?") == NO_TOPIC_NOTICE
    assert no_topic_notice("asdfgh") == NO_TOPIC_NOTICE


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


# --- a known topic the corpus does not hold (bug case 09): no recommendation, a blind-spot notice ---

def _scores(lexical, dense):
    from matcher.retrieval import RecordScores

    lexical, dense = np.asarray(lexical, np.float32), np.asarray(dense, np.float32)
    return RecordScores(lexical, dense, np.zeros(len(lexical), np.int64), lexical, dense)


def test_evidence_needs_words_or_closeness_beyond_the_null_range():
    from matcher.topic import has_evidence

    null = NullRange(mean=0.80, sd=0.01, n=24)          # evidence_sd 3 -> beyond 0.83
    none = _scores([0, 0, 0], [0.80, 0.82, 0.79])
    assert not has_evidence(none, none, null)
    assert has_evidence(_scores([0, 0.2, 0], [0.8, 0.8, 0.8]), none, null)       # a word (or a concept's word) matches
    assert has_evidence(none, _scores([0, 0, 0], [0.80, 0.84, 0.79]), null)      # the question as asked is close
    # closeness after moving towards the concepts does not count: the null range is for the question as asked
    assert not has_evidence(_scores([0, 0, 0], [0.9, 0.9, 0.9]), none, null)
    assert not has_evidence(none, None, None)            # BM25-only: words decide


def test_a_known_topic_without_corpus_evidence_gets_no_match(demo_home, monkeypatch):
    from matcher.topic import NullRange as NR

    engine = Engine(demo_home, embedder=TEST_EMBEDDER)
    question = "Scripties en afstudeeronderzoek?"     # a thesaurus concept the demo corpus has no word of
    index = engine.index()
    assert not any(t in index.bm25.vocab_dict for t in index.analyzer.tokens(question))
    # a null range no passage exceeds: all the corpus offers this question is random closeness
    monkeypatch.setattr(engine, "null_range", lambda index: NR(mean=1.0, sd=0.0, n=24))
    res = engine.match(question)
    assert [h.label for h in res.general.concepts if h.level == 1], "the thesaurus knows the topic"
    assert not any(res.matches.values())
    assert len(res.notices) == 1 and "nog niets te vinden" in res.notices[0]
    assert "afstudeeronderzoek" in res.notices[0]
    # the same engine with a question the corpus holds keeps its matches
    assert any(engine.match("Hoe zet ik blended leren in voor zelfregulatie?").matches.values())


@pytest.mark.parametrize("question, english", [
    ("Hello, can you help me?", True),
    ("How can I use short instructional videos so my students learn at their own pace?", True),
    ("Is there any research on peer feedback?", True),
    ("Hoe zet ik blended learning in met feedback?", False),          # loanwords in a Dutch sentence
    ("Wat werkt voor de flipped classroom en peer instruction?", False),
    ("Hallo!", False),
    ("kennisclips", False),
])
def test_english_is_recognised_by_its_function_words(question, english):
    from matcher.topic import looks_english

    assert looks_english(question) is english


def test_an_english_question_is_told_that_schakel_works_in_dutch(engine):
    from matcher.topic import ENGLISH_NOTICE

    english = engine.match("How can I use short videos so my students learn at their own pace?")
    assert english.notices and english.notices[0] == ENGLISH_NOTICE
    greeting = engine.match("Hello, can you help me?")
    assert greeting.notices[0] == ENGLISH_NOTICE and len(greeting.notices) == 2   # and the no-topic notice
    dutch = engine.match("Hoe zet ik blended learning in met feedback voor mijn studenten?")
    assert ENGLISH_NOTICE not in dutch.notices
