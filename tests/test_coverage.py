"""Blind-spot / coverage analysis on a small corpus built in tmp with the hash test embedder."""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import TEST_EMBEDDER

THESAURUS = """\
concepts:
- id: t-toegankelijk
  label: toegankelijk onderwijs
  group: inclusie
  synonyms: [toegankelijkheid, functiebeperking, studenten met een beperking]
- id: t-udl
  label: universal design for learning
  group: inclusie
  synonyms: [UDL]
  broader: [t-toegankelijk]
- id: t-micro
  label: microcredentials
  group: organisatie
  synonyms: [micro-credentials, stapelbare modules]
- id: t-coil
  label: COIL
  group: internationalisering
  synonyms: [virtuele uitwisseling]
  broader: [t-int]
- id: t-int
  label: internationalisering thuis
  group: internationalisering
- id: t-llo
  label: leven lang ontwikkelen
  group: organisatie
  synonyms: [lifelong learning]
- id: t-programmatisch
  label: programmatisch toetsen
  group: toetsing
  synonyms: [beslismomenten, datapunten]
- id: t-vr
  label: virtual reality
  group: ict
  synonyms: [VR-bril, vr-brillen]
- id: t-blended
  label: blended leren
  group: ict
  synonyms: [blended onderwijs]
- id: t-stage
  label: stagebegeleiding
  group: werkveld
  synonyms: [stagebegeleider]
- id: t-plg
  label: professionele leergemeenschap
  group: professionalisering
  synonyms: [PLG]
"""

EXPERTS = {
    "anna.md": """---
id: exp-anna
name: Anna de Wit
organisation: Lectoraat Toetsing, Hogeschool Noord & Zuid <test>
role: docent-onderzoeker
expertise:
- programmatisch toetsen
- portfolio
available: true
---
Anna begeleidde de invoering van programmatisch toetsen met datapunten en beslismomenten.
""",
    "bert.md": """---
id: exp-bert
name: Bert Bakker
organisation: Hogeschool West
role: toetscoördinator
expertise:
- programmatisch toetsen
- beslismomenten inrichten
available: true
---
Bert adviseert opleidingen over beslismomenten en datapunten in programmatisch toetsen.
""",
    "carla.md": """---
id: exp-carla
name: Carla Smit
organisation: Hogeschool West
role: praktijkcoördinator
expertise:
- stagebegeleiding
available: true
themegroups:
- tg-innovatie
---
Carla traint stagebegeleiders en organiseert de terugkomdagen.
""",
    "dirk.md": """---
id: exp-dirk
name: Dirk Vos
organisation: Hogeschool Oost
role: ict-docent
expertise:
- virtual reality
- VR-brillen in de les
available: false
---
Dirk ontwikkelde lessen met virtual reality. Hij is tot volgend jaar met verlof.
""",
    "frank.md": """---
id: exp-frank
name: Frank de Groot
organisation: Hogeschool Oost
role: trekker van de Themagroep Leven lang ontwikkelen
expertise:
- roosters en onderwijslogistiek
available: true
themegroups:
- tg-llo
---
Frank is trekker van de Themagroep Leven lang ontwikkelen en regelt de roosters van zijn opleiding.
""",
    "eva.md": """---
id: exp-eva
name: Eva Jansen
organisation: Hogeschool Oost
role: onderwijskundige
expertise:
- blended leren
- professionele leergemeenschap
available: true
---
Eva helpt teams blended onderwijs te ontwerpen en als PLG samen te leren.
""",
}

GROUP = """---
id: tg-innovatie
name: Themagroep Onderwijsinnovatie
status: actief
focus: Vernieuwing van het onderwijs in de hele hogeschool
open: true
contact: exp-carla
---
De themagroep wisselt ervaringen uit over vernieuwing. Microcredentials en stapelbare modules voor werkenden
staan op de wensenlijst, maar niemand in de groep heeft er al mee gewerkt.
"""

GROUP_LLO = """---
id: tg-llo
name: Themagroep Leven lang ontwikkelen
status: in oprichting
open: true
contact: exp-frank
---
De groep is in oprichting en zoekt nog leden.
"""

LITERATURE = {
    "lit-udl.md": """---
id: lit-udl
title: Toegankelijk onderwijs voor studenten met een functiebeperking
authors: [A. Auteur]
year: 2018
---
Overzicht van maatregelen die onderwijs toegankelijk maken voor studenten met een functiebeperking.
""",
    "lit-toegankelijkheid.md": """---
id: lit-toegankelijkheid
title: Digitale toegankelijkheid van lesmateriaal
authors: [B. Schrijver]
year: 2020
---
Over toegankelijkheid van digitaal lesmateriaal: ondertiteling, contrast en schermlezers.
""",
    "lit-udl-boek.md": """---
id: lit-udl-boek
title: Universal design for learning in de praktijk
authors: [D. Ontwerper]
year: 2019
---
Hoe universal design for learning toegankelijk onderwijs voor iedereen mogelijk maakt.
""",
    "lit-micro.md": """---
id: lit-micro
title: Microcredentials in het hoger onderwijs
authors: [C. Onderzoeker]
year: 2022
---
Microcredentials maken korte, stapelbare modules voor werkenden mogelijk.
""",
}

QUESTIONS = [
    {"question": "Hoe maak ik mijn lesmateriaal toegankelijk voor een student met een functiebeperking?",
     "date": "2024-03-05"},
    {"question": "Wie weet iets van toegankelijk onderwijs voor studenten met een beperking?", "date": "2024-03-20"},
    {"question": "Welke aanpassingen helpen bij toegankelijkheid van digitale toetsen?", "date": "2024-04-02"},
    {"question": "Kunnen we microcredentials aanbieden als stapelbare modules voor werkenden?", "date": "2024-04-10"},
    {"question": "Wat weten we over micro-credentials in het hbo?"},
    {"question": "Hoe richten we beslismomenten in bij programmatisch toetsen?", "date": "2024-04-11"},
    {"question": "Hoeveel datapunten heb je nodig bij programmatisch toetsen?"},
    {"question": "Wie kan helpen met virtual reality in de les?", "date": "bad-date"},
    {"question": "Hoe zet ik VR-brillen in bij praktijkvakken?"},
    {"question": "Wie weet iets van leven lang ontwikkelen voor onze opleiding?"},
    {"question": "Hoe zetten we een COIL-project op met een partner in het buitenland?"},
    {"question": "Hoe bieden we internationalisering thuis aan zonder reizen?"},
    {"question": "   "},        # no words: ignored
]


@pytest.fixture(scope="module")
def cov_home(tmp_path_factory) -> Path:
    from indexer import build_index
    import indexer.thesaurus as thesaurus

    root = tmp_path_factory.mktemp("cov-corpus")
    (root / "experts").mkdir()
    (root / "themagroepen").mkdir()
    (root / "literatuur").mkdir()
    for name, text in EXPERTS.items():
        (root / "experts" / name).write_text(text, "utf-8")
    (root / "themagroepen" / "innovatie.md").write_text(GROUP, "utf-8")
    (root / "themagroepen" / "llo.md").write_text(GROUP_LLO, "utf-8")
    for name, text in LITERATURE.items():
        (root / "literatuur" / name).write_text(text, "utf-8")
    (root / "thesaurus.yaml").write_text(THESAURUS, "utf-8")
    home = tmp_path_factory.mktemp("cov-home")
    # only the tiny thesaurus, so the test does not depend on the built-in one (an empty built-in:
    # a missing one is an error)
    (root.parent / "empty-builtin.yaml").write_text("concepts: []\n", "utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(thesaurus, "BUILTIN", root.parent / "empty-builtin.yaml")
        build_index([root], home, embedder=TEST_EMBEDDER, progress=False)
    return home


@pytest.fixture(scope="module")
def engine(cov_home):
    from matcher import Engine

    return Engine(cov_home, embedder=TEST_EMBEDDER)


@pytest.fixture(scope="module")
def report(engine):
    from matcher import coverage

    return coverage.compute(engine, QUESTIONS)


def _concept(report, cid):
    return next(c for c in report["concepts"] if c["id"] == cid)


def _spot(report, label):
    for n, b in enumerate(report["blind_spots"]):
        if label in b["concepts"]:
            return n, b
    raise AssertionError(f"{label!r} is not a blind spot: {[b['concepts'] for b in report['blind_spots']]}")


def test_demand_and_literature_without_expert_is_a_blind_spot(report):
    c = _concept(report, "t-toegankelijk")
    assert c["blind_spot"] is True
    assert c["demand"] == 3
    assert c["sources"] == 3
    assert not [e for e in c["experts"] if e["score"] >= report["weak"]]
    rank, spot = _spot(report, "toegankelijk onderwijs")
    assert rank == 0, "most demand and sources: first"
    assert spot["label"] == "toegankelijk onderwijs"
    assert spot["why"] == "3 vragen, 3 bronnen, geen expert"
    assert spot["demand"] == 3 and len(spot["questions"]) == 3
    # its narrower concept nobody asked about, with the same sources, is part of the entry
    assert _concept(report, "t-udl")["demand"] == 0
    assert "universal design for learning" in spot["concepts"]


def test_one_branch_without_experts_is_one_blind_spot(report):
    # COIL and its broader concept are asked about in different questions; nobody covers either
    assert _concept(report, "t-coil")["blind_spot"] and _concept(report, "t-int")["blind_spot"]
    rank, spot = _spot(report, "COIL")
    assert _spot(report, "internationalisering thuis")[0] == rank
    assert spot["demand"] == 2 and spot["why"] == "2 vragen, 0 bronnen, geen expert"
    assert spot["clear"] is False and _spot(report, "toegankelijk onderwijs")[1]["clear"] is True
    # no sources: ranked below topics with the same demand and sources
    assert rank > _spot(report, "microcredentials")[0]


def test_theme_group_mention_alone_is_still_a_blind_spot(report):
    c = _concept(report, "t-micro")
    assert c["blind_spot"] is True
    assert c["demand"] == 2
    # the group names the topic, its contact person does not cover it
    assert [g["id"] for g in c["themegroups"]][:1] == ["tg-innovatie"]
    carla = [e for e in c["experts"] if e["id"] == "exp-carla"]
    assert not carla or carla[0]["score"] < report["weak"]
    _, spot = _spot(report, "microcredentials")
    assert "geen expert" in spot["why"]
    assert "Themagroep Onderwijsinnovatie noemt het" in spot["why"]


def test_naming_a_theme_group_is_not_expertise(report):
    # Frank's role and profile name the group "Leven lang ontwikkelen": a link to the group, not expertise
    c = _concept(report, "t-llo")
    assert c["blind_spot"] is True and c["demand"] == 1
    frank = [e for e in c["experts"] if e["id"] == "exp-frank"]
    assert not frank or frank[0]["score"] < report["weak"]
    _, spot = _spot(report, "leven lang ontwikkelen")
    assert spot["why"].startswith("1 vraag, ") and "geen expert" in spot["why"]
    assert "Themagroep Leven lang ontwikkelen noemt het" in spot["why"]


def test_topic_with_two_experts_is_not_a_blind_spot(report):
    c = _concept(report, "t-programmatisch")
    assert c["blind_spot"] is False
    assert c["demand"] == 2
    covering = {e["id"] for e in c["experts"] if e["score"] >= report["weak"] and e["available"]}
    assert covering == {"exp-anna", "exp-bert"}
    assert all("programmatisch toetsen" not in b["concepts"] for b in report["blind_spots"])


def test_unavailable_expert_only(report):
    c = _concept(report, "t-vr")
    assert c["blind_spot"] is True
    dirk = c["experts"][0]
    assert dirk["id"] == "exp-dirk" and dirk["available"] is False and dirk["score"] >= report["weak"]
    _, spot = _spot(report, "virtual reality")
    assert "alleen een niet-beschikbare expert (Dirk Vos)" in spot["why"]


def test_topics_without_demand_or_sources_are_not_blind_spots(report):
    c = _concept(report, "t-stage")
    assert c["demand"] == 0 and c["sources"] == 0
    assert c["blind_spot"] is False


def test_ranking_puts_demand_first(report):
    ranks = {label: _spot(report, label)[0] for label in ("toegankelijk onderwijs", "microcredentials",
                                                          "virtual reality")}
    assert ranks["toegankelijk onderwijs"] < ranks["microcredentials"]
    no_demand = [n for n, b in enumerate(report["blind_spots"]) if b["demand"] == 0]
    with_demand = [n for n, b in enumerate(report["blind_spots"]) if b["demand"] > 0]
    assert not no_demand or max(with_demand) < min(no_demand)


def test_json_shape(report):
    json.dumps(report)  # JSON-able
    assert {"concepts", "blind_spots", "months"} <= set(report)
    for c in report["concepts"]:
        assert {"id", "label", "experts", "themegroups", "sources", "demand", "blind_spot"} <= set(c)
        for e in c["experts"]:
            assert {"id", "score"} <= set(e)
        for g in c["themegroups"]:
            assert {"id", "score"} <= set(g)
    for b in report["blind_spots"]:
        assert {"label", "concepts", "demand", "questions", "why"} <= set(b)
        assert isinstance(b["why"], str) and "\n" not in b["why"]
    assert report["months"]["2024-03"]["toegankelijk onderwijs"] == 2
    assert report["months"]["2024-04"]["programmatisch toetsen"] == 1
    assert set(report["months"]) == {"2024-03", "2024-04"}, "undated and badly dated questions have no month"
    assert report["questions"] == 12, "the question without words is ignored"


def test_record_coverage_is_cached_per_index(engine):
    from matcher import coverage

    index = engine.index()
    assert coverage.record_coverage(index) is coverage.record_coverage(index)


def test_csv_neutralises_formulas(report):
    from matcher import coverage

    evil = json.loads(json.dumps(report))
    evil["concepts"][0].update(id="=1+1", label="+cmd|' /C calc'!A0", group="-2",
                               experts=[{"id": "@SUM(A1)", "score": 0.9, "available": True}],
                               themegroups=[{"id": "\tx", "score": 0.4}])
    evil["concepts"][1]["label"] = "\r=HYPERLINK(\"http://x\")"
    text = coverage.to_csv(evil)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["id", "label", "group"]
    assert len(rows) == len(report["concepts"]) + 1
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert rows[1][0] == "'=1+1" and rows[1][1].startswith("'+cmd") and rows[1][7] == "'@SUM(A1)"
    assert rows[2][1].startswith("'\r=HYPERLINK")


def test_heatmap_is_accessible_escaped_xml(report, engine):
    from matcher import coverage

    tricky = json.loads(json.dumps(report))
    tricky["concepts"][0].update(label='Taal & <rekenen> "x"', demand=1)
    svg = coverage.heatmap_svg(tricky, engine.index())
    root = ET.fromstring(svg)  # parses: everything is escaped
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == ns + "svg" and root.get("role") == "img"
    assert root.find(ns + "title").text and root.find(ns + "desc").text
    texts = ["".join(t.itertext()) for t in root.iter(ns + "text")]
    assert any('Taal & <rekenen> "x"' in t for t in texts)
    assert "Taal &amp; &lt;rekenen&gt;" in svg and "<rekenen>" not in svg
    # columns are shortened organisations; the blind spots come first
    assert any(t == "Hogeschool Noord & Zuid <…" or t.startswith("Hogeschool Noord & Zuid") for t in texts)
    assert "Hogeschool West" in texts and "Hogeschool Oost" in texts
    labels = [t for t in texts if t.startswith("● ")]
    assert labels and labels[0] == "● toegankelijk onderwijs"
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", ""), "no external assets"


def test_cli_outputs(cov_home, tmp_path):
    from click.testing import CliRunner

    from schakel.cli import main

    qfile = tmp_path / "q.jsonl"
    qfile.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS) + "\n", "utf-8")
    csv_path, svg_path = tmp_path / "c.csv", tmp_path / "h.svg"
    args = ["coverage", "--home", str(cov_home), "--embedder", TEST_EMBEDDER, "--questions", str(qfile)]
    res = CliRunner().invoke(main, args + ["--csv", str(csv_path), "--plot", str(svg_path)])
    assert res.exit_code == 0, res.output
    assert "Blinde vlekken" in res.output and "toegankelijk onderwijs" in res.output
    assert "3 vragen, 3 bronnen, geen expert" in res.output
    assert csv_path.read_text("utf-8").startswith("id,label,")
    ET.parse(svg_path)
    res = CliRunner().invoke(main, args + ["--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["blind_spots"][0]["label"] == "toegankelijk onderwijs"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok"}\nnot json\n', "utf-8")
    res = CliRunner().invoke(main, ["coverage", "--home", str(cov_home), "--embedder", TEST_EMBEDDER,
                                    "--questions", str(bad)])
    assert res.exit_code == 1 and "bad.jsonl:2" in res.output


def test_cli_reads_stored_intakes(cov_home, tmp_path):
    import shutil

    from click.testing import CliRunner

    from schakel.cli import main
    from web.store import AppStore

    home = tmp_path / "home"
    shutil.copytree(cov_home, home)
    store = AppStore(home / "app.db")
    store.add_intake("Hoe zet ik VR-brillen in bij de opleiding?")
    store.add_intake("Wie helpt met virtual reality in de les?")
    res = CliRunner().invoke(main, ["coverage", "--home", str(home), "--embedder", TEST_EMBEDDER, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["questions"] == 2
    vr = next(c for c in data["concepts"] if c["id"] == "t-vr")
    assert vr["demand"] == 2
    res = CliRunner().invoke(main, ["coverage", "--home", str(home), "--embedder", TEST_EMBEDDER, "--json",
                                    "--no-intakes"])
    assert json.loads(res.output)["questions"] == 0


def test_no_questions_and_bad_arguments(engine):
    from indexer.errors import InvalidInput
    from matcher import coverage

    rep = coverage.compute(engine, [])
    assert rep["questions"] == 0 and rep["months"] == {}
    assert all(c["demand"] == 0 for c in rep["concepts"])
    # knowledge without an expert is still a blind spot, ranked by its sources
    spots = {label for b in rep["blind_spots"] for label in b["concepts"]}
    assert "toegankelijk onderwijs" in spots and "programmatisch toetsen" not in spots
    assert rep["blind_spots"][0]["why"] == "3 bronnen, geen expert"
    for bad in (0, -1, 1.5, "0.5", True):
        with pytest.raises(InvalidInput):
            coverage.compute(engine, [], weak=bad)
    with pytest.raises(InvalidInput):
        coverage.compute(engine, "Hoe toets ik?")
    rep = coverage.compute(engine, [{"question": 42}, {"vraag": "x"}, "los", {"question": "Hoe toets ik?"}])
    assert rep["questions"] == 1
