"""indexer.analysis: the fast fold and token_spans give what the plain definitions give."""
from __future__ import annotations

import random
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.analysis import _WORD, Analyzer, _word_spans, fold, stem


def _plain_fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def _plain_spans(analyzer: Analyzer, text: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _WORD.finditer(text):
        for st_ in _word_spans(m.group(0)):
            spans.append((m.start(), m.end(), st_))
        folded = fold(m.group(0))
        if len(folded) >= 7 and folded.isalpha():
            spans += [(m.start(), m.end(), stem(sub)) for sub in analyzer.split_compound(folded)]
    return spans


LETTERS = "aeioutsnkrlbdgvé èëïöüçñÅßﬁǅ\u0301\u0308-’'.,1"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=LETTERS, max_size=60) | st.text(max_size=30))
def test_fold_equals_the_plain_definition(text):
    assert fold(text) == _plain_fold(text)


def test_token_spans_equal_the_plain_definition_twice():
    rng = random.Random(7)
    words = ["kennisclips", "leerplatform", "toetsbeleid", "café-eigenaar", "Ëerstejaars", "werkplek", "de",
             "stagiair’s", "ICT-onderwijs", "coöperatie", "feedback", "x"]
    analyzer = Analyzer(["kennis", "clips", "leer", "platform", "toets", "beleid", "werk", "plek", "onderwijs"])
    for _ in range(200):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        assert analyzer.token_spans(text) == _plain_spans(analyzer, text)
        assert analyzer.token_spans(text) == _plain_spans(analyzer, text)   # from the per-word cache
