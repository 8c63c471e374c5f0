"""Matcher behaviour on a small corpus written by the test: entity ranking, reasons,
generalisation, clarification, blind-spot honesty, levels."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from indexer import build_index
from indexer.errors import InvalidInput
from matcher import Engine
from matcher.evaluate import concept_matches, ndcg, recall

EMB = "hash:256"

THESAURUS = """
version: 1
concepts:
  - id: toetsing-en-examinering
    label: toetsing en examinering
    group: toetsing
    definition: Hoe opleidingen beoordelen wat studenten kunnen.
    synonyms: [toetsing, examinering, assessment]
  - id: programmatisch-toetsen
    label: programmatisch toetsen
    group: toetsing
    definition: Toetsen als reeks datapunten met beslismomenten.
    synonyms: [programmatic assessment, beslismomenten, datapunten]
    broader: [toetsing-en-examinering]
    organisation: [facilitering-in-uren]
  - id: peerfeedback
    label: peerfeedback
    group: toetsing
    definition: Studenten geven elkaar feedback.
    synonyms: [peer feedback, feedback van medestudenten]
    broader: [toetsing-en-examinering]
  - id: toegankelijk-onderwijs
    label: toegankelijk onderwijs
    group: inclusie
    definition: Onderwijs dat werkt voor studenten met een functiebeperking.
    synonyms: [toegankelijk lesmateriaal, functiebeperking, slechtziend]
  - id: facilitering-in-uren
    label: facilitering in uren
    group: organisatie
    definition: Tijd die het bestuur docenten geeft.
    synonyms: [uren voor ontwikkeling]
"""


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), "utf-8")


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    root = tmp_path_factory.mktemp("corpus")
    (root / "thesaurus.yaml").write_text(THESAURUS, "utf-8")
    write(root, "experts/anna.md", """
        ---
        id: exp-anna
        name: Anna de Vries
        organisation: Hogeschool Test
        expertise: [programmatisch toetsen, beslismomenten]
        themegroups: [tg-toetsen]
        ---
        Anna voerde programmatisch toetsen in met datapunten en beslismomenten.
        """)
    write(root, "experts/bas.md", """
        ---
        id: exp-bas
        name: Bas Bakker
        organisation: ROC Test
        expertise: [roosteren]
        ---
        Bas maakt roosters voor opleidingen.
        """)
    write(root, "experts/cor.md", """
        ---
        id: exp-cor
        name: Cor Claassen
        organisation: ROC Test
        expertise: [groepsdynamiek]
        themegroups: [tg-toetsen]
        available: false
        ---
        Cor begeleidt groepen studenten.
        """)
    write(root, "themagroepen/toetsen.md", """
        ---
        id: tg-toetsen
        name: Themagroep Toetsen
        status: actief
        open: true
        contact: exp-anna
        products: [prod-waaier]
        ---
        De themagroep werkt aan peerfeedback en programmatisch toetsen.
        """)
    write(root, "producten/waaier.md", """
        ---
        id: prod-waaier
        title: Feedbackwaaier
        made_by: tg-toetsen
        ---
        Werkvormen voor peerfeedback in de les.
        """)
    write(root, "literatuur/cast.md", """
        ---
        id: lit-cast
        title: Universal design for learning
        authors: [CAST]
        year: 2018
        ---
        Richtlijnen voor toegankelijk lesmateriaal voor studenten met een functiebeperking.
        """)
    home = tmp_path_factory.mktemp("home")
    build_index([root], home, embedder=EMB, progress=False)
    return Engine(home, embedder=EMB)


def ids(result, kind):
    return [m.id for m in result.matches[kind]]


def test_expert_with_matching_work_ranks_first_with_reason(engine):
    r = engine.match("Hoe richten we programmatisch toetsen met beslismomenten in?")
    assert ids(r, "expert")[0] == "exp-anna"
    top = r.matches["expert"][0]
    assert "programmatisch toetsen" in top.why
    assert top.passages and top.passages[0].highlights, "the supporting passage marks the matched words"
    s, e = top.passages[0].highlights[0]
    assert top.passages[0].text[s:e].lower().startswith(("programmatisch", "beslismoment", "toets"))


def test_group_gains_from_its_product_and_contact(engine):
    r = engine.match("Welke werkvormen voor peerfeedback zijn er?")
    assert ids(r, "themegroup") == ["tg-toetsen"]
    assert "prod-waaier" in r.matches["themegroup"][0].via or "exp-anna" in r.matches["themegroup"][0].via


def test_unavailable_expert_is_marked(engine):
    r = engine.match("Wie begeleidt groepen studenten en doet iets met toetsen?", top=10)
    cor = [m for m in r.matches["expert"] if m.id == "exp-cor"]
    assert cor and cor[0].status == "niet beschikbaar"
    assert cor[0].why.startswith("Niet beschikbaar: score daarom verlaagd.")


def test_general_question_drops_specifics_and_climbs_the_ladder(engine):
    q = "Bij de opleiding Verpleegkunde in Leeuwarden willen we programmatisch toetsen invoeren met Scorion."
    g = engine.match(q).general
    for specific in ("Verpleegkunde", "Leeuwarden", "Scorion"):
        assert specific in g.dropped
        assert specific.lower() not in g.question.lower()
    labels = [c.label for c in g.concepts]
    assert "programmatisch toetsen" in labels
    assert [s["level"] for s in g.ladder][:3] == [0, 1, 2]
    assert g.ladder[2]["concepts"] == ["toetsing en examinering"]
    assert g.question.endswith("?") and g.question[0].isupper()
    assert any(o["id"] == "facilitering-in-uren" for o in g.organisation)


def test_vague_question_gets_at_most_three_clarifying_questions(engine):
    r = engine.match("Hoe kan ik toetsing beter doen?")
    assert 1 <= len(r.clarify) <= 3
    assert {c.facet for c in r.clarify} <= {"doelgroep", "opleiding/context", "doel", "ict-middel", "niveau", "tijdpad"}
    specific = engine.match("Hoe richten we bij de opleiding voor eerstejaars programmatisch toetsen met beslismomenten "
                            "in, zodat de commissie volgend studiejaar goed kan beslissen?")
    assert specific.clarify == []


def test_answers_refine_and_are_validated(engine):
    r = engine.match("Hoe kan ik toetsing beter doen?", answers={"doel": "programmatisch toetsen invoeren"})
    assert ids(r, "expert")[0] == "exp-anna"
    with pytest.raises(InvalidInput) as exc:
        engine.match("Hoe kan ik toetsing beter doen?", answers={"kleur": "blauw"})
    assert exc.value.field == "answers"


def test_level_zero_searches_the_question_as_asked(engine):
    r0 = engine.match("programmatisch toetsen", level=0)
    r2 = engine.match("programmatisch toetsen", level=2)
    assert r0.level == 0 and r2.level == 2
    assert ids(r0, "expert")[0] == "exp-anna"


def test_blind_spot_topic_returns_literature_and_says_no_expert(engine):
    r = engine.match("Hoe maak ik mijn lesmateriaal toegankelijk voor een slechtziende student met een functiebeperking?")
    assert "lit-cast" in ids(r, "literature")
    assert ids(r, "expert") == []
    assert any("Geen expert" in n for n in r.notices)


@pytest.mark.parametrize("bad", ["", "   ", "?!", "x" * 2001, None, 42])
def test_bad_questions_are_refused_with_the_field(engine, bad):
    with pytest.raises(InvalidInput) as exc:
        engine.match(bad)
    assert exc.value.field == "question"


def test_metrics():
    rel = {"a": 2, "b": 1}
    assert ndcg(["a", "b"], rel, 5) == pytest.approx(1.0)
    assert ndcg(["b", "a"], rel, 5) < 1.0
    assert ndcg(["x", "y"], rel, 5) == 0.0
    assert recall(["a", "x", "b"], rel, 2) == 0.5


def test_concept_label_matching_is_lenient_on_form_not_on_meaning():
    assert concept_matches("portfolio-beoordeling", [["portfoliobeoordeling", "beoordelen met een portfolio"]], "")
    assert concept_matches("programmatisch toetsen", [["programmatisch toetsen"]], "")
    assert concept_matches("peerfeedback", [], "Wat werkt bij peerfeedback?")
    assert not concept_matches("peerfeedback", [["programmatisch toetsen"]], "Hoe pak je toetsing aan?")


def test_a_work_cited_by_an_answer_names_the_answer_not_itself(demo_engine):
    """A corpus literature record that gains from its derived twin (the same work as a Kennisrotonde answer cites
    it) says which answer cites it, not 'aangehaald in' its own title."""
    index = demo_engine.index()
    checked = 0
    for rec in index.record_list:
        twins = [o for o, rel in index.neighbours(rec.id) if rel == "same_as_of"]
        if rec.kind != "literature" or not twins:
            continue
        answers = {index.records[a].title for t in twins for a, r in index.neighbours(t) if r == "cited_by"}
        result = demo_engine.match(rec.title, clarify=False)
        for m in result.matches["literature"]:
            if m.id == rec.id and set(m.via) & set(twins):
                assert f"aangehaald in ‘{rec.title}’" not in m.why.lower().replace("Aangehaald", "aangehaald")
                assert any(f"‘{title}’" in m.why for title in answers), m.why
                checked += 1
    assert checked, "no literature record in the demo index gained from a cited twin"
