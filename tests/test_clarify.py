"""matcher.clarify: when a question is too vague, and which facets are asked."""
from __future__ import annotations

import pytest

from matcher import Engine
from matcher.clarify import FACETS, facets_present, with_answers

TEST_EMBEDDER = "hash:256"


@pytest.fixture(scope="module")
def engine(demo_home):
    return Engine(demo_home, embedder=TEST_EMBEDDER)


def test_a_broad_short_question_is_clarified_with_at_most_three_facets(engine):
    res = engine.match("Hoe kan ik ict beter inzetten?")
    assert 1 <= len(res.clarify) <= 3
    assert all(c.facet in FACETS and c.question.endswith("?") for c in res.clarify)


def test_a_specific_question_is_not_clarified(engine):
    res = engine.match("Welke themagroep helpt eerstejaars bbl-studenten in de zorg met blended leren, "
                       "zodat ze hun zelfregulatie versterken tijdens de stage dit studiejaar?")
    assert res.clarify == []


def test_two_answers_end_the_asking(engine):
    res = engine.match("Hoe kan ik ict beter inzetten?", answers={"doel": "studenten actiever maken",
                                                                   "doelgroep": "eerstejaars"})
    assert res.clarify == []


def test_facets_present_reads_the_words_of_each_facet():
    present = facets_present("Voor eerstejaars bbl in de zorg wil ik volgend studiejaar een app inzetten "
                             "zodat ons team ...", [])
    assert {"doelgroep", "opleiding/context", "tijdpad", "ict-middel", "niveau", "doel"} <= present


def test_answers_join_the_question_without_facet_names():
    text = with_answers("Hoe begin ik?", {"doel": "minder uitval", "doelgroep": "eerstejaars"})
    assert "minder uitval" in text and "eerstejaars" in text and "doel" not in text.replace("doelgroep", "")
