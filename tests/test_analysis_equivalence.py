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


def _plain_words(text: str) -> list[str]:
    import re

    out = []
    for w in _WORD.findall(_plain_fold(text)):
        w = w.replace("’", "'")
        if "-" in w or "'" in w:
            parts = [p for p in re.split(r"[-']", w) if p]
            joined = "".join(parts)
            out.append(joined)
            out.extend(p for p in parts if p != joined)
        else:
            out.append(w)
    return out


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=LETTERS + "－＇﹣", max_size=60))
def test_words_equal_the_plain_definition(text):
    from indexer.analysis import words

    assert words(text) == _plain_words(text)


def test_concept_positions_and_nearness_equal_the_plain_definitions():
    from collections import defaultdict

    from indexer import conceptterms
    from indexer.analysis import content_words
    from indexer.conceptterms import ConceptTerms

    analyzer = Analyzer(["kennis", "clips", "leer", "platform", "toets", "beleid", "werk", "plek"])
    terms = ConceptTerms([], analyzer)
    rng = random.Random(3)
    vocab = ["kennisclips", "leerplatform", "toetsbeleid", "werkplek", "toets", "beleid", "leren", "platform",
             "feedback", "peer", "de", "clips"]
    for _ in range(300):
        text = " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 40)))
        plain = defaultdict(list)
        for i, w in enumerate(content_words(text)):
            plain[stem(w)].append(i)
            for part in analyzer.split_compound(w):
                plain[stem(part)].append(i)
        pos = terms.positions(text)
        assert pos == plain
        stems = tuple(rng.sample(sorted(pos) or ["x"], min(len(pos), rng.randint(1, 3)))) if pos else ("x",)
        window = len(stems) + 3
        near = all(s in pos for s in stems) and (len(stems) == 1 or any(
            all(any(abs(q - p) <= window for q in pos[s]) for s in stems[1:]) for p in pos[stems[0]]))
        assert conceptterms._near(stems, pos) == near


def test_tokens_equal_the_plain_definition_twice():
    from indexer.analysis import STOPWORDS, content_words

    analyzer = Analyzer(["kennis", "clips", "leer", "platform", "toets", "beleid", "werk", "plek", "over"])
    rng = random.Random(11)
    vocab = ["kennisclips", "leerplatform", "toetsbeleid", "werkplek", "overwerk", "Café", "de", "toets-beleid"]
    for _ in range(200):
        text = " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 15)))
        plain = []
        for w in content_words(text):
            plain.append(stem(w))
            plain += [stem(p) for p in analyzer.split_compound(w) if p not in STOPWORDS]
        assert analyzer.tokens(text) == plain
        assert analyzer.tokens(text) == plain


def _plain_marked(analyzer: Analyzer, text: str, stems: set[str]) -> list[tuple[int, int]]:
    return sorted({(s, e) for s, e, st_ in analyzer.token_spans(text) if st_ in stems})


MARK_WORDS = ["kennisclips", "clips", "toets", "toetsbeleid", "café-eigenaar", "eigenaar", "ICT-onderwijs", "ict",
              "onderwijs", "stagiair’s", "x", "werkplek", "plek", "Feedback", "feedback", "a", "1"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(MARK_WORDS) | st.text(alphabet=LETTERS, max_size=8), max_size=14),
       st.lists(st.sampled_from(["", " ", "-", "'", "’", "--", ". ", "_", "x-", "-1"]), max_size=14),
       st.sets(st.sampled_from(MARK_WORDS), max_size=5))
def test_marked_spans_equal_the_token_spans_definition(parts, glue, marked):
    """Words glued by nothing, joiners, doubled joiners and underscores: the found-and-checked offsets are the
    regex tokens' offsets (a word inside a longer token or hyphenated word is not marked on its own)."""
    analyzer = Analyzer(["kennis", "clips", "toets", "beleid", "werk", "plek", "onderwijs"])
    text = "".join(p + (glue[i] if i < len(glue) else " ") for i, p in enumerate(parts))
    stems = {s for w in marked for s in analyzer.tokens(w)} | {stem(w) for w in marked}
    want = _plain_marked(analyzer, text, stems)
    assert analyzer.marked_spans(text, stems) == want
    marker = analyzer.marker(stems)
    assert marker.spans(text) == want and marker.spans(text) == want      # the chunks it has seen already


def test_marked_spans_on_the_demo_corpus(demo_engine):
    """Every passage of the demo index, marked with the stems of other passages' words."""
    index = demo_engine.index()
    analyzer = index.analyzer
    rng = random.Random(3)
    shared = analyzer.marker({stem("feedback"), stem("studenten"), stem("toetsen"), stem("video")})
    for row, text in enumerate(index.passage_text):
        other = index.passage_text[rng.randrange(len(index.passage_text))]
        stems = set(rng.sample(analyzer.tokens(other), min(6, len(analyzer.tokens(other)))))
        want = _plain_marked(analyzer, text, stems)
        assert analyzer.marked_spans(text, stems) == want, row
        # one marker over every passage, as a question marks the passages it shows
        assert shared.spans(text) == _plain_marked(analyzer, text, shared.stems), row


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=LETTERS + "_\t\n\xa0\u2009\u3000²½٣", max_size=80) | st.text(max_size=40),
       st.text(alphabet=LETTERS + "_\t\n\xa0\u2009\u3000²½٣", max_size=80))
def test_a_marker_looks_at_white_space_chunks_and_finds_the_regex_tokens(text, before):
    """A ``Marker`` looks at the words chunk by chunk of white space (any Unicode space), also after marking another
    text that shares chunks with this one: the marked spans are those of the ``_WORD`` tokens of the whole text."""
    analyzer = Analyzer(["kennis", "clips", "toets", "beleid"])
    stems = {st_ for w in set(_WORD.findall(text + " " + before)) for st_ in analyzer._span_stems(w)}
    stems = set(sorted(stems)[::2])
    marker = analyzer.marker(stems)
    marker.spans(before)
    assert marker.spans(text) == _plain_marked(analyzer, text, stems)


def test_a_marker_beyond_the_kept_chunks_marks_the_same(monkeypatch):
    """Past ``CHUNK_CACHE`` kept chunks a marker keeps the rest itself: the same spans, and the analyzer keeps no
    more; a marker made before another one learnt chunks still marks its words in them."""
    from indexer import analysis

    monkeypatch.setattr(analysis, "CHUNK_CACHE", 3)
    analyzer = Analyzer(["kennis", "clips", "toets", "beleid"])
    text = "Kennisclips, toetsbeleid en (toetsen) - kennis-clips: toets! clips van het toetsbeleid."
    stems = {stem("toets"), stem("clips")}
    early = analyzer.marker(stems)
    want = _plain_marked(analyzer, text, stems)
    assert want and analyzer.marker({stem("kennis")}).spans(text)
    assert len(analyzer._chunk_forms) == 3
    assert early.spans(text) == want and analyzer.marker(stems).spans(text) == want
