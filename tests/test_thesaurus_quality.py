"""The built-in thesaurus as data: well-formed, and its words name their concepts.

A synonym must NAME its concept (a SKOS altLabel), not be a word that merely occurs in questions about it:
a role ("teammanager"), a place ("lokalen", "regio"), a medium ("video"), an intent ("praktijkvoorbeelden"),
or a much broader word ("geld", "curriculum") lifts every question that mentions it to the wrong concept.
"""
from __future__ import annotations

from collections import defaultdict

import pytest

from indexer import thesaurus
from indexer.analysis import Analyzer, content_words, stem
from indexer.conceptterms import GENERIC, ConceptTerms


@pytest.fixture(scope="module")
def concepts() -> list[thesaurus.Concept]:
    return thesaurus.builtin()


@pytest.fixture(scope="module")
def terms(concepts) -> ConceptTerms:
    vocab = Analyzer.vocabulary_from([t for c in concepts for t in c.terms()])
    return ConceptTerms(concepts, Analyzer(vocab))


def test_ids_and_labels_are_unique_and_links_resolve(concepts):
    ids = [c.id for c in concepts]
    labels = [c.label.lower() for c in concepts]
    assert len(set(ids)) == len(ids), "duplicate concept ids"
    assert len(set(labels)) == len(labels), "duplicate concept labels"
    known = set(ids)
    for c in concepts:
        assert c.group in thesaurus.GROUPS, f"{c.id}: unknown group {c.group!r}"
        assert c.definition, f"{c.id}: no definition (it is embedded to detect the concept)"
        for name in ("broader", "related", "organisation"):
            dangling = [r for r in getattr(c, name) if r not in known]
            assert not dangling, f"{c.id}: {name} names unknown concepts {dangling}"


def test_broader_hierarchy_has_no_cycles(concepts):
    by_id = {c.id: c for c in concepts}

    def walk(cid: str, path: tuple[str, ...]) -> None:
        assert cid not in path, f"broader cycle: {' -> '.join(path + (cid,))}"
        for b in by_id[cid].broader:
            walk(b, path + (cid,))

    for c in concepts:
        walk(c.id, ())


def test_no_term_names_two_concepts(concepts):
    named: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for c in concepts:
        for t in c.terms():
            named[tuple(sorted(stem(w) for w in content_words(t)))].add(c.id)
    shared = {" ".join(k): sorted(v) for k, v in named.items() if k and len(v) > 1}
    assert not shared, f"terms that name more than one concept: {shared}"


def test_no_term_is_only_general_words(concepts):
    """A term whose stems are all general words ("leren leren", "onderwijs voor studenten") escapes the
    single-word filter of ``ConceptTerms`` and matches almost every question."""
    general = {stem(g) for g in GENERIC}
    bad = []
    for c in concepts:
        for t in c.terms():
            st = [stem(w) for w in content_words(t)]
            if len(st) > 1 and set(st) <= general:
                bad.append((c.id, t))
    assert not bad, f"terms made of general or repeated words: {bad}"


@pytest.mark.parametrize("word", [
    "teammanager", "leidinggevende", "regio", "gemeente", "lokalen", "video", "filmpjes", "geld", "lesgeven",
    "curriculum", "presenteren", "aanwezigheid", "doorverwijzen", "werkvormen", "training", "cursus", "workshop",
    "onderwijsteam", "randvoorwaarden", "praktijkvoorbeelden", "vragenlijst", "smartphone", "dashboard",
    "Moodle", "itslearning", "networking", "testing", "signaleren", "mobiliteit", "effectiviteit", "kaders",
    "vraag", "vragen", "weet", "samen in de klas",
])
def test_setting_words_do_not_name_a_concept_on_their_own(terms, word):
    """Each of these words is the setting of many questions (a role, place, medium, intent or a much broader
    word); alone it must not lift a question to a concept."""
    found = [terms.concepts[i].id for i in terms.lexical(f"Ik heb een vraag over {word} bij ons.")]
    assert not found, f"'{word}' alone names {found}"


@pytest.mark.parametrize("phrase, concept", [
    ("leidinggeven aan vernieuwing", "leiderschap"),
    ("een training voor docenten", "nascholing-en-training"),
    ("korte video's maken met uitleg", "kennisclips"),
    ("samenwerking met gemeenten", "regionale-samenwerking"),
    ("telefoonbeleid", "smartphonegebruik"),
])
def test_specific_phrases_still_name_their_concept(terms, phrase, concept):
    found = {terms.concepts[i].id for i in terms.lexical(phrase)}
    assert concept in found, f"'{phrase}' should name {concept}, found {sorted(found)}"


@pytest.mark.parametrize("phrase, concept", [
    ("zelfregulerend leren", "zelfregulatie"),
    ("adaptieve leermiddelen", "adaptieve-leersystemen"),
    ("simulatieonderwijs in de zorg", "serious-games-en-simulaties"),
    ("een instructievideo", "kennisclips"),
    ("docentprofessionalisering", "professionalisering-van-docenten"),
    ("de nabespreking na een oefening", "debriefing"),
    ("videofeedback op lesopnames", "videofeedback"),
    ("check for understanding", "begripscontrole"),
    ("privacy in het onderwijs", "privacy-en-avg"),
    ("digitaal burgerschap", "digitaal-burgerschap"),
    ("een e-portfolio in de bpv", "digitaal-portfolio"),
    ("itemanalyse van een toets", "itemanalyse"),
    ("begeleiding van startende docenten", "startende-docenten"),
    ("samenwerking school en bedrijf", "samenwerking-met-het-werkveld"),
    ("digitale vaardigheden van docenten", "ict-bekwaamheid-docenten"),
    ("studentbetrokkenheid", "motivatie-en-betrokkenheid"),
    ("flexibel roosteren", "roostering"),
    ("een kennismakelaar", "kennismakelaardij"),
    ("kennisinfrastructuur", "kennisinfrastructuur"),
    ("digitalisering in het mbo", "digitaliseringsbeleid"),
    ("duurzaamheidscompetenties", "duurzaamheid-in-het-curriculum"),
    ("auteursrecht op beeldmateriaal", "licenties-en-auteursrecht"),
    ("informatiebeveiliging en phishing", "informatiebeveiliging"),
    ("online proctoring", "online-proctoring"),
    ("afspraken over AI-gebruik", "ai-beleid"),
    ("beweegmomenten in de les", "bewegend-leren"),
    ("werken met tekstgenerators", "generatieve-ai"),
])
def test_standard_names_find_their_concept(terms, phrase, concept):
    """Practitioners' standard names (SKOS altLabels) of concepts, including those added for the domain
    'leren en ict' in the mbo, lift a question to the concept."""
    found = {terms.concepts[i].id for i in terms.lexical(phrase)}
    assert concept in found, f"'{phrase}' should name {concept}, found {sorted(found)}"
