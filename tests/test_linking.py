"""Index-time links between experts and documents (Model 2's associations): authors, bylines, mentions."""
from indexer.linking import expert_aliases, link_people
from indexer.records import Record


def _expert(rid: str, name: str) -> Record:
    return Record(id=rid, kind="expert", title=name, source=f"experts/{rid}.md", fields={"name": name})


def _doc(rid: str, body: str, kind: str = "kennisrotonde", **fields) -> Record:
    return Record(id=rid, kind=kind, title=rid, source=f"{rid}.md", body=body, fields=fields)


def _links(expert: Record) -> set[tuple[str, str]]:
    return set(expert.links)


def test_a_byline_in_the_first_lines_makes_an_author_and_a_later_name_a_mention():
    gerda, niels = _expert("exp-g", "Gerda Pleiter"), _expert("exp-n", "Niels Harbers")
    answer = _doc("kr-1", "*Opgesteld door: Gerda Pleiter (Lectoraat). Vraagsteller: docent.*\n\n## Kort antwoord\n"
                          "Zie ook het werk van Niels Harbers.")
    link_people([gerda, niels, answer])
    assert _links(gerda) == {("kr-1", "author_of")}
    assert _links(niels) == {("kr-1", "mentioned_in")}


def test_a_name_deep_in_the_text_after_a_cue_word_is_no_byline():
    gerda = _expert("exp-g", "Gerda Pleiter")
    body = "\n".join(["Inleiding.", "Tweede regel.", "Derde regel.", "Vierde regel.", "Door: Gerda Pleiter"])
    report = _doc("rap-1", body, kind="report")
    link_people([gerda, report])
    assert _links(gerda) == {("rap-1", "mentioned_in")}


def test_authors_field_still_makes_an_author():
    chantal = _expert("exp-c", "Chantal Visscher")
    report = _doc("rap-1", "Evaluatie van de themagroep.", kind="report", authors=["Chantal Visscher", "X. Y."])
    link_people([chantal, report])
    assert _links(chantal) == {("rap-1", "author_of")}


def test_organisations_are_found_by_their_acronym_and_by_their_name_without_parenthetical():
    elto = _expert("exp-elto", "Expertisecentrum Leren met Technologie Oost (ELTO)")
    lectoraat = _expert("exp-lec", "Lectoraat Innovatie in het Beroepsonderwijs (Hogeschool IJsselmond)")
    report = _doc("rap-1", "ELTO organiseert netwerkdagen met het Lectoraat Innovatie in het Beroepsonderwijs.",
                  kind="report")
    unrelated = _doc("rap-2", "De delta van de rivier (elto is geen woord) en het lectoraat.", kind="report")
    link_people([elto, lectoraat, report, unrelated])
    assert _links(elto) == {("rap-1", "mentioned_in")}      # acronyms match with their case only
    assert _links(lectoraat) == {("rap-1", "mentioned_in")}


def test_names_match_whole_words_only():
    jan = _expert("exp-j", "Jan Smit")
    doc = _doc("rap-1", "Een verslag van Jan Smitsma over stages.", kind="report")
    link_people([jan, doc])
    assert jan.links == []


def test_aliases_skip_ambiguous_one_word_names_but_keep_acronyms():
    assert expert_aliases("Kennisrotonde") == []
    assert expert_aliases("SURF") == ["SURF"]
    assert expert_aliases("Practoraat Digitale Didactiek (ROC Oostervaart)") == [
        "Practoraat Digitale Didactiek (ROC Oostervaart)", "Practoraat Digitale Didactiek"]


def test_a_maker_statement_in_the_first_paragraphs_makes_an_author_up_to_its_sentence_end():
    esra, naima = _expert("exp-e", "Esra Yilmaz"), _expert("exp-n", "Naima Bouzid")
    product = _doc("prod-1", "Handleiding voor korte video's.\n\nOntwikkeld door Esra Yilmaz (ROC) binnen de "
                             "themagroep, op basis van eigen clips. Later getest met Naima Bouzid.", kind="product")
    link_people([esra, naima, product])
    assert _links(esra) == {("prod-1", "author_of")}
    assert _links(naima) == {("prod-1", "mentioned_in")}


def test_an_author_list_with_initials_is_read_to_its_end():
    a, b = _expert("exp-a", "Anna Jansen"), _expert("exp-b", "Bert de Vries")
    note = _doc("rap-1", "Auteurs: A. Jansen, Anna Jansen; B. de Vries en Bert de Vries\n\nTekst.", kind="report")
    link_people([a, b, note])
    assert _links(a) == {("rap-1", "author_of")} and _links(b) == {("rap-1", "author_of")}


def test_a_sentence_starting_with_door_is_no_byline():
    gerda = _expert("exp-g", "Gerda Pleiter")
    report = _doc("rap-1", "Door de krapte op de arbeidsmarkt zoeken scholen hulp, zegt Gerda Pleiter.", kind="report")
    link_people([gerda, report])
    assert _links(gerda) == {("rap-1", "mentioned_in")}


def test_name_finder_finds_what_its_regular_expression_finds():
    """The first-word index gives the same matches as the alternation over all aliases: leftmost, longest
    first, whole words, acronyms by case, names in any case; prefixes of other names, hyphens, underscores,
    digits and diacritics around them."""
    import random

    from indexer.linking import _NameFinder

    names = ["Anna Jansen", "Anna Jansen-Smit", "Anna Jansen Smit", "Jansen Smit", "Bram de Vries", "Ëlla Çelik",
             "Expertisecentrum Leren met Technologie Oost (ELTO)", "SURF", "Lectoraat Innovatie (Hogeschool IJsselmond)",
             "Stichting Kennisnet", "O'Brien Consult", "A.B. Dekker"]
    experts = [_expert(f"exp-{i}", n) for i, n in enumerate(names)]
    finder = _NameFinder(experts)
    assert finder.by_first is not None
    pieces = ["Anna Jansen", "anna jansen", "ANNA JANSEN", "Anna Jansen-Smit", "Anna Jansen Smit", "Jansen Smit",
              "Bram de Vries", "bram de vriesje", "ëlla çelik", "ELTO", "elto", "ELTOs", "SURF", "Surf", "_SURF",
              "SURF2", "Lectoraat Innovatie", "Stichting Kennisnet", "o'brien consult", "A.B. Dekker", "a.b. dekker",
              "Anna", "Jansen", "de", "-", "_", " ", ", ", ".", "\n", "(", ")", "2", "x"]
    rng = random.Random(5)
    checked = 0
    for _ in range(3000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", " ", "-", "_", ".", "\n"]) for _ in range(rng.randint(0, 9)))
        want = [m.group(0) for m in finder.pattern.finditer(text)]
        assert finder._hits(text) == want, text
        checked += bool(want)
    assert checked > 1000
