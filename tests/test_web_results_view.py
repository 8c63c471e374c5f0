"""The participant's results page model (web.results_view): best answer first, at most three per kind,
compact cards with names and a way to reach people, unavailable matches with an alternative, a ladder whose
levels each show their own question, and reasons without filler words."""
from __future__ import annotations

import re

from indexer.records import KIND_LABELS
from matcher.results import ConceptRef, General, Match, MatchResult, PassageHit
from web import results_view as rv

QUESTION = "Hoe zet ik kennisclips in zodat eerstejaars in hun eigen tempo werken?"


def test_blocks_show_at_most_three_and_exclude_the_best(demo_engine):
    result = demo_engine.match(QUESTION)
    best = rv.best_match(result)
    assert best is not None
    blocks = rv.blocks(demo_engine.index(), result, KIND_LABELS, best)
    for b in blocks:
        assert len(b.shown) <= rv.SHOWN
        assert best.id not in [c.match.id for c in b.shown + b.more]
        assert b.count == len([m for m in result.matches.get(b.kind, []) if m.id != best.id])


def test_a_close_kennisrotonde_answer_is_the_best_answer_and_readable_in_full(demo_engine):
    result = demo_engine.match(QUESTION)
    kr = result.matches["kennisrotonde"][0]
    result.general.similar = [{"id": kr.id, "question": kr.title, "source": "kennisrotonde", "score": 0.95}]
    assert rv.best_match(result).id == kr.id
    card = rv.card(demo_engine.index(), result, kr, full=True)
    text = " ".join(" ".join(items) for _, items in card.full_text)
    body = demo_engine.index().records[kr.id].body
    assert len(text) > 0.8 * (len(body) - len(card.short_answer))  # the whole answer, not a snippet
    assert any(kind == "ul" for kind, _ in card.full_text) or "\n- " not in body


def test_cards_name_people_and_offer_a_way_to_reach_them(demo_engine):
    index = demo_engine.index()
    result = demo_engine.match("Welke themagroep werkt aan gepersonaliseerd leren?")
    groups = result.matches["themegroup"]
    assert groups
    for m in groups:
        card = rv.card(index, result, m)
        assert card.contacts or card.via_connector
        for c in card.contacts:
            assert not re.search(r"\b(exp|tg|prod)-", c.text), c.text  # names, not record ids
        if m.status or (m.details or {}).get("open") is False:
            alt = card.alternative
            assert alt is None or (not alt.status and alt.id != m.id)


def test_excerpt_drops_title_keywords_and_file_paths():
    m = Match("p1", "product", "Didactische waaier", 1.0, "Gaat over x", None,
              passages=[PassageHit("Didactische waaier. Type: instrument. Trefwoorden: a, b, c. De waaier helpt "
                                   "docenten om blended leren stap voor stap te ontwerpen met hun team.",
                                   "producten/waaier.md", highlights=[(60, 66)])])
    text, marks = rv.excerpt(m)
    assert not text.startswith("Didactische waaier") and "Trefwoorden" not in text and "Type:" not in text
    assert ".md" not in text and text.startswith("De waaier helpt")
    assert all(text[a:b] for a, b in marks)


def test_ladder_levels_have_their_own_question_and_no_label_twice():
    ladder = [{"level": 0, "name": "je vraag", "question": "Q0", "concepts": []},
              {"level": 1, "name": "het onderwerp", "question": "Q1", "concepts": ["a", "b"]},
              {"level": 2, "name": "breder", "question": "Q2", "concepts": ["b", "c"]},
              {"level": 3, "name": "het thema", "question": "Q3", "concepts": ["c"]}]
    result = MatchResult("Q0", {}, General("Q1", [ConceptRef("a", "a", 1)], ladder, [], [], []), level=2)
    steps = rv.ladder_steps(result)
    assert [s.level for s in steps] == [0, 1, 2]  # level 3 adds nothing new: left out
    assert [s.question for s in steps] == ["Q0", "Q1", "Q2"]
    assert "‘c’" in steps[2].change and "‘b’" not in steps[2].change.split("in plaats van")[0]
    assert rv.current_general(result) == "Q2"


def test_reason_without_filler_words_and_with_quoted_titles():
    from matcher.loaded import RecordInfo
    from matcher.reasons import why

    rec = RecordInfo("x", "literature", "T", "s", None, [], {}, "", None)
    text = why(rec, [], ["blijft", "vak", "kennisclips"], [], [("Formule werkbezoeken", "made")], None)
    assert "blijft" not in text and "‘vak’" not in text and "‘kennisclips’" in text
    assert "‘Formule werkbezoeken’" in text
    assert rv.reason_text("Gaat over x; met lid Y (gestopt)", "gestopt") == "Gaat over x; met lid Y"


def test_teaser_is_the_passage_start_cut_at_a_word_with_its_highlights():
    text = "Kennisclips helpen eerstejaars om in hun eigen tempo te werken; docenten maken ze samen met de " \
           "mediatheek en zetten ze in de elo, met vragen erbij voor de les."
    short, marks = rv.teaser(text, [(0, 11), (150, 155)], limit=60)
    assert short.endswith("…") and len(short) <= 61 and text.startswith(short[:-1])
    assert text[len(short) - 1] in " ,;"                         # cut between words, not inside one
    assert marks == [(0, 11)]                                     # the highlight past the cut is dropped
    assert rv.teaser("Kort fragment van een bron.", [], limit=60) == ("", [])   # nothing to fold


def _results_page(client, anonymous_csrf, question: str) -> str:
    token = anonymous_csrf(client)
    res = client.post("/vraag", data={"csrf_token": token, "question": question, "step": "answered"})
    assert res.status_code == 200
    return res.get_data(as_text=True)


def test_results_page_puts_the_general_question_first_and_folds_passages_for_phones(web_app, anonymous_csrf):
    html = _results_page(web_app.test_client(), anonymous_csrf, QUESTION)
    general, first_card = html.find('class="general"'), html.find('<article class="match')
    assert 0 < general < first_card, "the general question and ladder come before the matches"
    assert html.find('class="ladder"') < first_card
    folds = re.findall(r'<blockquote class="passage passage-wide">(.*?)</blockquote>\s*<details class="passage-fold">'
                       r'\s*<summary><span class="passage-teaser">(.*?)</span>.*?</summary>\s*'
                       r'<blockquote class="passage">(.*?)</blockquote>', html, re.S)
    assert folds, "a long passage has a folded version for narrow screens"
    for wide, teaser, folded in folds:
        assert folded == wide                                     # the phone loses nothing: the whole passage
        plain = re.sub(r"</?mark>", "", teaser)
        assert plain.endswith("…") and re.sub(r"</?mark>", "", wide).startswith(plain[:-1])
    assert "<script" not in html.split("<main", 1)[1].split("</main>")[0]   # folding needs no JavaScript


def test_a_question_without_matches_leads_with_the_notice_and_no_empty_sections(web_app, anonymous_csrf):
    html = _results_page(web_app.test_client(), anonymous_csrf, "Hallo, goedemorgen allemaal!")
    main = html.split("<main", 1)[1]
    assert 'class="notice"' in main and "Hallo! Schakel helpt" in main
    assert 'class="kind-section"' not in main and 'class="jump-links"' not in main
    assert 'id="opvolging"' in main                   # a connector can still be asked to help
    full = _results_page(web_app.test_client(), anonymous_csrf, QUESTION)
    assert 'class="kind-section"' in full and 'class="jump-links"' in full


def test_marked_escapes_and_marks_as_the_template_macro_did():
    """``results_view.marked`` (a template global) gives the HTML of the Jinja macro it replaced, for spans in order,
    overlapping, past the end or empty, around text that needs escaping."""
    import random

    from jinja2 import Environment

    macro = Environment(autoescape=True).from_string(
        "{% macro marked(text, highlights) -%}{%- set ns = namespace(pos=0) -%}{%- for h in highlights -%}"
        "{%- if h[0] >= ns.pos and h[1] <= text|length -%}{{ text[ns.pos:h[0]] }}<mark>{{ text[h[0]:h[1]] }}</mark>"
        "{%- set ns.pos = h[1] -%}{%- endif -%}{%- endfor -%}{{ text[ns.pos:] }}{%- endmacro %}").module.marked
    rng = random.Random(4)
    for _ in range(300):
        text = "".join(rng.choice("ab <&>\"'é ") for _ in range(rng.randint(0, 40)))
        spans = sorted((a, a + rng.randint(0, 6)) for a in (rng.randint(0, len(text) + 3) for _ in range(rng.randint(0, 5))))
        assert str(rv.marked(text, spans)) == str(macro(text, spans)), (text, spans)


def test_label_spans_are_those_of_the_patterns_led_by_white_space():
    """``_label_spans`` finds the spans the label patterns found when they began with ``\\s*`` (which scanned every
    character of a passage), on texts made of label words, colons, periods and several kinds of white space."""
    import random

    old = [re.compile(r"\s*(Trefwoorden|Tags|Keywords)\s*:[^.\n]*\.?", re.I), re.compile(r"\s*Type\s*:[^.\n]*\.", re.I)]
    parts = [" ", "  ", "\n", "\t", "\u00a0", "Tags", "tags", "TYPE", "Type", "Trefwoorden", "Keywords", ":", ".", "x",
             "video", "Typen"]
    rng = random.Random(9)
    for _ in range(3000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 14)))
        want = [(mo.start(), mo.end()) for pat in old for mo in pat.finditer(text)]
        assert rv._label_spans(text) == want, repr(text)
