"""Every file format and layout rule of CORPUS_FORMAT.md v1, read through ``read_corpus``.

Files are generated in tmp by each test (PDF with fpdf2, DOCX with python-docx),
so the tests pin what the readers make of them: kinds, ids, titles, fields,
headings, page numbers, diacritics, and what is skipped.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml
from corpus_files import write

from indexer import build_index
from indexer.corpus import read_corpus
from indexer.passages import make_passages

EMB = "hash:256"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


# --- helpers -------------------------------------------------------------------



def md(root: Path, rel: str, meta: dict | None = None, body: str = "Een korte tekst.") -> Path:
    front = ""
    if meta is not None:
        front = "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n\n"
    return write(root, rel, front + body + "\n")


def by_id(read) -> dict:
    return {r.id: r for r in read.records}


def only(read):
    assert read.errors == [], [str(p) for p in read.errors]
    assert len(read.records) == 1, [r.id for r in read.records]
    return read.records[0]


def make_pdf(path: Path, pages: list[str], title: str | None = None, font: Path | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if font:
        pdf.add_font("Body", fname=str(font))
        pdf.set_font("Body", size=12)
    else:
        pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


# --- Markdown and kinds --------------------------------------------------------

FOLDERS = [
    ("experts", "expert"), ("experten", "expert"),
    ("themegroups", "themegroup"), ("themagroepen", "themegroup"),
    ("literature", "literature"), ("literatuur", "literature"),
    ("products", "product"), ("producten", "product"),
    ("kennisrotonde", "kennisrotonde"),
    ("reports", "report"), ("rapporten", "report"),
]
ALL_REQUIRED = {"name": "Naam", "title": "Titel", "question": "Hoe doe je dat?"}


@pytest.mark.parametrize("folder,kind", FOLDERS)
def test_first_folder_decides_the_kind(tmp_path, folder, kind):
    md(tmp_path, f"{folder}/item.md", dict(ALL_REQUIRED))
    md(tmp_path, f"{folder}/regio-noord/dieper.md", dict(ALL_REQUIRED, id="dieper"))
    read = read_corpus(tmp_path)
    assert read.errors == []
    kinds = {r.id: r.kind for r in read.records if not r.derived_from}
    assert kinds == {f"{folder}/item": kind, "dieper": kind}


def test_kind_in_front_matter_beats_the_folder(tmp_path):
    md(tmp_path, "experten/boek.md", {"kind": "literature", "title": "Een boek over toetsen", "year": 2019})
    md(tmp_path, "literatuur/persoon.md", {"kind": "expert", "name": "Anna de Vries"})
    recs = by_id(read_corpus(tmp_path))
    assert recs["experten/boek"].kind == "literature"
    assert recs["literatuur/persoon"].kind == "expert"
    assert recs["literatuur/persoon"].title == "Anna de Vries"


def test_default_kind_is_report(tmp_path):
    md(tmp_path, "notitie.md", None, "# Notitie\n\nLosse tekst in de hoofdmap.")
    md(tmp_path, "overig/verslag.md", {"title": "Verslag"})
    recs = by_id(read_corpus(tmp_path))
    assert recs["notitie"].kind == "report"
    assert recs["overig/verslag"].kind == "report"
    # without a title the first heading names the record
    assert recs["notitie"].title == "Notitie"


def test_default_id_is_the_path_without_extension(tmp_path):
    md(tmp_path, "rapporten/2020/jaarverslag.md", {"title": "Jaarverslag"})
    md(tmp_path, "rapporten/met-id.md", {"title": "Met id", "id": "rap-met-id"})
    recs = by_id(read_corpus(tmp_path))
    assert set(recs) == {"rapporten/2020/jaarverslag", "rap-met-id"}
    assert recs["rapporten/2020/jaarverslag"].source == "rapporten/2020/jaarverslag.md"


def test_markdown_front_matter_fields_and_body(tmp_path):
    md(tmp_path, "experten/anna.md", {
        "id": "exp-anna", "name": "Anna de Vries", "organisation": "Hogeschool Noord", "role": "docent",
        "expertise": ["programmatisch toetsen", "feedback"], "available": False, "themegroups": ["tg-toetsen"],
        "tags": "toetsen; feedback", "url": "https://example.org/anna", "updated": "2021-03-04",
    }, "## Profiel\n\nAnna werkt aan **feedback** en [toetsing](https://example.org).\n\n## Vraag haar\n\nOver rubrics.")
    rec = only(read_corpus(tmp_path))
    assert (rec.id, rec.kind, rec.title, rec.url) == ("exp-anna", "expert", "Anna de Vries", "https://example.org/anna")
    assert rec.fields["expertise"] == ["programmatisch toetsen", "feedback"]
    assert rec.fields["available"] is False
    assert rec.fields["updated"] == "2021-03-04"
    assert rec.tags == ["toetsen", "feedback"]          # a ';' string is a list too
    assert [b.heading for b in rec.blocks] == ["Profiel", "Vraag haar"]
    assert "Anna werkt aan feedback en toetsing." in rec.body   # light markup stripped
    assert "**" not in rec.body and "](" not in rec.body


def test_title_and_name_are_interchangeable(tmp_path):
    md(tmp_path, "experten/met-title.md", {"title": "Bram Jansen"})
    md(tmp_path, "literatuur/met-name.md", {"name": "Cultivating communities of practice"})
    recs = by_id(read_corpus(tmp_path))
    assert recs["experten/met-title"].title == "Bram Jansen"
    assert recs["experten/met-title"].fields["name"] == "Bram Jansen"
    assert recs["literatuur/met-name"].title == "Cultivating communities of practice"


def test_markdown_without_front_matter_is_a_report(tmp_path):
    md(tmp_path, "rapporten/los.md", None, "Alleen tekst, geen kop.")
    rec = only(read_corpus(tmp_path))
    assert (rec.id, rec.kind, rec.title) == ("rapporten/los", "report", "los")
    assert rec.body == "Alleen tekst, geen kop."


# --- plain text --------------------------------------------------------------

def test_txt_utf8(tmp_path):
    write(tmp_path, "rapporten/flyer.txt", "\ufeffCoöperatie en één café.\n\nTweede alinea: reünie in Zürich.\n")
    read = read_corpus(tmp_path)
    rec = only(read)
    assert read.problems == []                       # no warning for proper UTF-8 (with BOM)
    assert rec.kind == "report" and rec.id == "rapporten/flyer"
    assert [b.text for b in rec.blocks] == ["Coöperatie en één café.", "Tweede alinea: reünie in Zürich."]


def test_txt_cp1252_falls_back_with_a_warning(tmp_path):
    raw = "Caf\u00e9 \u201cde Ru\u00efne\u201d kost \u20ac 5 \u2013 na\u00efef.".encode("cp1252")
    assert raw.decode("utf-8", errors="replace") != raw.decode("cp1252")   # really not UTF-8
    write(tmp_path, "rapporten/oud.txt", raw)
    read = read_corpus(tmp_path)
    rec = only(read)
    assert rec.body == "Café “de Ruïne” kost € 5 – naïef."
    warnings = [p for p in read.problems if p.level == "warning"]
    assert len(warnings) == 1
    assert warnings[0].path == "rapporten/oud.txt"
    assert "cp1252" in warnings[0].message and "UTF-8" in warnings[0].message


def test_cp1252_warning_reaches_the_build_report(tmp_path):
    corpus = tmp_path / "c"
    write(corpus, "rapporten/oud.txt", "Een oude tekst met \u00e9\u00e9n accent.".encode("cp1252"))
    report = build_index([corpus], tmp_path / "h", embedder=EMB, progress=False)
    assert report.errors == []                        # a warning does not skip the file
    assert report.kinds["report"] == 1
    assert any(p.level == "warning" and p.path == "rapporten/oud.txt" for p in report.problems)


# --- PDF ------------------------------------------------------------------------

def test_pdf_pages_title_and_diacritics(tmp_path):
    make_pdf(tmp_path / "rapporten/terugblik.pdf", [
        "Eerste pagina over coöperatie en één café.",
        "",                                          # an empty page keeps the numbering honest
        "Derde pagina: reünie in Zürich, naïef.",
    ], title="Terugblik op het jaar")
    rec = only(read_corpus(tmp_path))
    assert (rec.id, rec.kind, rec.title) == ("rapporten/terugblik", "report", "Terugblik op het jaar")
    assert [b.page for b in rec.blocks] == [1, 3]
    assert "coöperatie en één café" in rec.blocks[0].text
    assert "reünie in Zürich, naïef" in rec.blocks[1].text
    passages = make_passages(rec)
    assert {p.page for p in passages} == {1, 3}
    assert any("Zürich" in p.text and p.page == 3 for p in passages)


def test_pdf_page_numbers_are_kept_in_the_index(tmp_path):
    corpus = tmp_path / "c"
    make_pdf(corpus / "rapporten/lang.pdf", [
        "Over kennisclips. " * 60, "Over programmatisch toetsen. " * 60, "Over stagebegeleiding. " * 60])
    report = build_index([corpus], tmp_path / "h", embedder=EMB, progress=False)
    db = sqlite3.connect(report.build / "records.db")
    rows = db.execute("SELECT page, text FROM passages WHERE record_id = 'rapporten/lang' ORDER BY row").fetchall()
    db.close()
    assert {page for page, _ in rows} == {1, 2, 3}
    for page, text in rows:
        word = {1: "kennisclips", 2: "programmatisch", 3: "stagebegeleiding"}[page]
        assert word in text

    from matcher import Engine

    res = Engine(tmp_path / "h", embedder=EMB).match("stagebegeleiding")
    hit = res.matches["report"][0]
    assert hit.id == "rapporten/lang"
    assert hit.passages[0].page == 3 and hit.passages[0].source == "rapporten/lang.pdf"


@pytest.mark.skipif(not DEJAVU.is_file(), reason="DejaVu Sans font not installed")
def test_pdf_with_embedded_unicode_font(tmp_path):
    make_pdf(tmp_path / "rapporten/dejavu.pdf", ["Pagina één: coöperatie en ‘aanhalingstekens’.", "Reünie."],
             font=DEJAVU)
    rec = only(read_corpus(tmp_path))
    assert [b.page for b in rec.blocks] == [1, 2]
    assert "één: coöperatie en ‘aanhalingstekens’" in rec.blocks[0].text
    assert rec.title == "dejavu"                     # no PDF title: the file name


# --- HTML -----------------------------------------------------------------------

HTML = """<!doctype html><html><head><title>Afronding  CoP 2020</title>
<style>.geheimstijl { color: red }</style><script>var geheimscript = "niet indexeren";</script></head>
<body><nav>menu navigatiebalk</nav>
<h1>Terugblik</h1><p>De themagroepen sloten het jaar af met een <b>slotbijeenkomst</b>.</p>
<script>document.write("ookgeheim")</script><noscript>zetjavascriptaan</noscript>
<h2>Opbrengsten</h2><ul><li>een didactische waaier</li><li>een training</li></ul>
<footer>voettekst copyright</footer></body></html>"""


@pytest.mark.parametrize("ext", ["html", "htm"])
def test_html_title_text_and_no_scripts(tmp_path, ext):
    write(tmp_path, f"rapporten/afronding.{ext}", HTML)
    rec = only(read_corpus(tmp_path))
    assert rec.id == "rapporten/afronding" and rec.kind == "report"
    assert rec.title == "Afronding CoP 2020"
    assert "slotbijeenkomst" in rec.body and "didactische waaier" in rec.body
    for hidden in ("geheimstijl", "geheimscript", "ookgeheim", "zetjavascriptaan", "navigatiebalk", "voettekst"):
        assert hidden not in rec.body
        assert all(hidden not in p.text for p in make_passages(rec))
    assert [b.heading for b in rec.blocks] == ["Terugblik", "Opbrengsten"]


def test_html_title_is_used_in_the_index(tmp_path):
    corpus = tmp_path / "c"
    write(corpus, "rapporten/afronding.html", HTML)
    report = build_index([corpus], tmp_path / "h", embedder=EMB, progress=False)
    db = sqlite3.connect(report.build / "records.db")
    title = db.execute("SELECT title FROM records WHERE id='rapporten/afronding'").fetchone()[0]
    texts = " ".join(t for (t,) in db.execute("SELECT text FROM passages"))
    db.close()
    assert title == "Afronding CoP 2020"
    assert "geheimscript" not in texts and "geheimstijl" not in texts


# --- DOCX -----------------------------------------------------------------------

def make_docx(path: Path, title: str | None = None) -> Path:
    import docx

    d = docx.Document()
    if title:
        d.core_properties.title = title
    d.add_heading("Inleiding", level=1)
    d.add_paragraph("Deze rondetafel ging over toetsing en generatieve AI.")
    d.add_heading("Opbrengsten", level=2)
    d.add_paragraph("Docenten willen vaker mondeling toetsen.")
    d.add_paragraph("Studenten vragen om duidelijke regels.", style="List Bullet")
    d.add_heading("Vervolg", level=2)
    d.add_paragraph("Een handreiking volgt in het voorjaar; één werkgroep start.")
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))
    return path


def test_docx_headings_become_passage_headings(tmp_path):
    make_docx(tmp_path / "rapporten/rondetafel.docx", title="Rondetafel AI en toetsing")
    rec = only(read_corpus(tmp_path))
    assert (rec.id, rec.kind, rec.title) == ("rapporten/rondetafel", "report", "Rondetafel AI en toetsing")
    assert [b.heading for b in rec.blocks] == ["Inleiding", "Opbrengsten", "Vervolg"]
    opbrengsten = rec.blocks[1].text
    assert "mondeling toetsen" in opbrengsten and "duidelijke regels" in opbrengsten   # list paragraphs kept
    assert "één werkgroep" in rec.blocks[2].text
    # headings themselves are not body text, and every passage keeps its heading
    passages = make_passages(rec, target_words=8)
    assert {p.heading for p in passages} >= {"Inleiding", "Opbrengsten", "Vervolg"}
    for p in passages:
        if "mondeling" in p.text:
            assert p.heading == "Opbrengsten"


def test_docx_without_title_uses_first_heading(tmp_path):
    make_docx(tmp_path / "rapporten/zonder-titel.docx")
    rec = only(read_corpus(tmp_path))
    assert rec.title == "Inleiding"


# --- CSV ------------------------------------------------------------------------

CSV = (
    "id,name,organisation,expertise,available,themegroups,tags,kind,title,year,body\n"
    "exp-anna,Anna de Vries,Hogeschool Noord,programmatisch toetsen;feedback;rubrics,true,tg-toetsen,a;b,,,,"
    "Anna helpt bij toetsbeleid.\n"
    ",Bob Bouwer,\"ROC Oost, afdeling zorg\",video,nee,,,,,,\n"
    "lit-boek,,,,,,,literature,Een boek over feedback,2019,Samenvatting van het boek.\n"
)


def test_csv_one_record_per_row_lists_and_kind_column(tmp_path):
    write(tmp_path, "experten/extra.csv", CSV)
    read = read_corpus(tmp_path)
    assert read.errors == []
    recs = by_id(read)
    assert len(recs) == 3
    anna = recs["exp-anna"]
    assert anna.kind == "expert" and anna.title == "Anna de Vries"
    assert anna.fields["expertise"] == ["programmatisch toetsen", "feedback", "rubrics"]
    assert anna.fields["available"] is True
    assert anna.fields["themegroups"] == ["tg-toetsen"]
    assert anna.tags == ["a", "b"]
    assert anna.body == "Anna helpt bij toetsbeleid."
    assert anna.source == "experten/extra.csv#2"
    bob = next(r for r in recs.values() if r.title == "Bob Bouwer")
    assert bob.kind == "expert" and bob.fields["available"] is False
    assert bob.fields["organisation"] == "ROC Oost, afdeling zorg"   # quoted comma stays in the cell
    assert bob.id.startswith("experten/extra")                       # default id from the path
    boek = recs["lit-boek"]
    assert boek.kind == "literature" and boek.title == "Een boek over feedback" and boek.fields["year"] == 2019
    # every row became one file entry's record
    assert sorted(read.files[0].records) == sorted(recs)


def test_csv_semicolon_delimited_excel_export(tmp_path):
    write(tmp_path, "experten/export.csv",
          "id;name;expertise;available\nexp-x;Xandra;\"toetsen;feedback\";ja\nexp-y;Yusuf;video;nee\n")
    recs = by_id(read_corpus(tmp_path))
    assert set(recs) == {"exp-x", "exp-y"}
    assert recs["exp-x"].fields["expertise"] == ["toetsen", "feedback"]
    assert recs["exp-y"].fields["available"] is False


def test_csv_rows_are_indexed_and_found(tmp_path):
    corpus = tmp_path / "c"
    write(corpus, "experten/extra.csv", CSV)
    build_index([corpus], tmp_path / "h", embedder=EMB, progress=False)
    from matcher import Engine

    res = Engine(tmp_path / "h", embedder=EMB).match("Wie weet iets van rubrics en toetsbeleid?")
    assert res.matches["expert"][0].id == "exp-anna"
    assert res.matches["expert"][0].passages[0].source == "experten/extra.csv#2"


# --- layout rules ---------------------------------------------------------------

def test_thesaurus_yaml_at_root_is_not_a_record(tmp_path):
    write(tmp_path, "thesaurus.yaml", "concepts:\n- id: c-netwerkleren\n  label: netwerkleren\n"
                                      "  synonyms: [leren in netwerken]\n")
    md(tmp_path, "rapporten/a.md", {"title": "A"})
    write(tmp_path, "rapporten/thesaurus.yaml", "concepts: []\n")   # only the root one is special
    read = read_corpus(tmp_path)
    assert [r.id for r in read.records] == ["rapporten/a"]
    assert read.thesaurus == tmp_path / "thesaurus.yaml"
    assert read.errors == []
    assert not any(s.startswith("thesaurus.yaml") for s in read.skipped)
    assert any(s.startswith("rapporten/thesaurus.yaml") for s in read.skipped)


def test_corpus_thesaurus_is_merged_into_the_index(tmp_path):
    corpus = tmp_path / "c"
    write(corpus, "thesaurus.yaml", "concepts:\n- id: c-netwerkleren\n  label: netwerkleren\n")
    md(corpus, "rapporten/a.md", {"title": "A"}, "Over netwerkleren in het mbo.")
    report = build_index([corpus], tmp_path / "h", embedder=EMB, progress=False)
    assert report.kinds == {"report": 1}
    db = sqlite3.connect(report.build / "records.db")
    ids = {i for (i,) in db.execute("SELECT id FROM concepts")}
    recs = [i for (i,) in db.execute("SELECT id FROM records")]
    db.close()
    assert "c-netwerkleren" in ids
    assert recs == ["rapporten/a"]


def test_hidden_underscore_and_unknown_files_are_skipped_and_listed(tmp_path):
    md(tmp_path, "rapporten/goed.md", {"title": "Goed"})
    md(tmp_path, ".verborgen.md", {"title": "Verborgen"})
    md(tmp_path, "rapporten/_concept.md", {"title": "Concept"})
    md(tmp_path, "_drafts/klad.md", {"title": "Klad"})
    md(tmp_path, ".git/info.md", {"title": "Git"})
    write(tmp_path, "rapporten/notulen.odt", "geen leesbaar formaat")
    write(tmp_path, "rapporten/LEESMIJ", "geen extensie")
    read = read_corpus(tmp_path)
    assert [r.id for r in read.records] == ["rapporten/goed"]
    assert read.errors == []
    listed = {s.split(":")[0]: s for s in read.skipped}
    assert set(listed) == {".verborgen.md", "rapporten/_concept.md", "_drafts/klad.md", ".git/info.md",
                           "rapporten/notulen.odt", "rapporten/LEESMIJ"}
    assert "unknown extension '.odt'" in listed["rapporten/notulen.odt"]


def test_skipped_files_are_listed_by_the_cli(tmp_path):
    from click.testing import CliRunner

    from schakel.cli import main

    corpus = tmp_path / "c"
    md(corpus, "rapporten/goed.md", {"title": "Goed"})
    write(corpus, "rapporten/notulen.odt", "x")
    md(corpus, "_drafts/klad.md", {"title": "Klad"})
    result = CliRunner().invoke(main, ["index", str(corpus), "--home", str(tmp_path / "h")],
                                env={"SCHAKEL_EMBEDDER": EMB})
    assert result.exit_code == 0, result.output
    assert "rapporten/notulen.odt" in result.stderr and "_drafts/klad.md" in result.stderr


# --- Kennisrotonde --------------------------------------------------------------

KR = """---
id: {id}
question: {question}
date: 2019-04-09
---

## Kort antwoord

{short}

## Toelichting

Uitgebreide toelichting bij de vraag over {topic}.

## Geraadpleegde bronnen

- Jansen, P. (2012). Leren in netwerken. Utrecht: Netwerkpers.
- {other}
"""


def kr(root: Path, name: str, **kw) -> Path:
    return write(root, f"kennisrotonde/{name}.md", KR.format(**kw))


def test_kennisrotonde_answer_and_derived_literature(tmp_path):
    kr(tmp_path, "a", id="kr-a", question="Hoe houden we een netwerk levend?", short="Geef het een eigenaar.",
       topic="netwerken", other="Pietersen, K., & Smit, L. (2019). Waarde van netwerken. Amsterdam: Boom.")
    read = read_corpus(tmp_path)
    assert read.errors == [] and read.problems == []
    recs = by_id(read)
    answer = recs["kr-a"]
    assert answer.kind == "kennisrotonde"
    assert answer.title == "Hoe houden we een netwerk levend?"          # the question is the title
    assert answer.fields["question"] == "Hoe houden we een netwerk levend?"
    assert answer.fields["short_answer"] == "Geef het een eigenaar."
    assert answer.fields["date"] == "2019-04-09"
    derived = [r for r in read.records if r.derived_from]
    assert len(derived) == 2
    assert all(r.kind == "literature" and r.derived_from == "kr-a" for r in derived)
    assert all(("kr-a", "cited_by") in r.links for r in derived)
    assert {(r.id, "cites") for r in derived} <= set(answer.links)
    smit = next(r for r in derived if "Smit" in r.fields["citation"])
    assert smit.title == "Waarde van netwerken"
    assert smit.fields["year"] == 2019
    assert smit.fields["authors"] == ["Pietersen, K.", "Smit, L."]
    assert smit.fields["publisher"] == "Amsterdam: Boom"
    assert smit.source == "kennisrotonde/a.md"
    assert "Waarde van netwerken" in smit.body


@pytest.mark.parametrize("line,authors", [
    ("Guo, P. J., Kim, J., & Rubin, R. (2014). How video production affects student engagement. "
     "Proceedings of L@S, 41-50.", ["Guo, P. J.", "Kim, J.", "Rubin, R."]),
    ("Van der Vleuten, C. P. M., & Schuwirth, L. W. T. (2005). Assessing professional competence. "
     "Medical Education, 39(3), 309-317.", ["Van der Vleuten, C. P. M.", "Schuwirth, L. W. T."]),
    ("Hattie, J. en Timperley, H. (2007). The power of feedback. Review of Educational Research.",
     ["Hattie, J.", "Timperley, H."]),
    ("Brame, C. J. (2016). Effective educational videos. CBE.", ["Brame, C. J."]),
    ("CAST (2018). Universal Design for Learning Guidelines version 2.2.", ["CAST"]),
    ("Kasneci, E., et al. (2023). ChatGPT for good? Learning and Individual Differences, 103.", ["Kasneci, E."]),
])
def test_source_line_authors(line, authors):
    from indexer.corpus import parse_source_line

    parsed = parse_source_line("- " + line)
    assert parsed["authors"] == authors
    assert parsed["citation"] == line


def test_same_source_in_two_answers_is_one_record(tmp_path):
    corpus = tmp_path / "c"
    kr(corpus, "a", id="kr-a", question="Vraag a?", short="Kort a.", topic="a",
       other="Derde, X. (2001). Een derde bron.")
    kr(corpus, "b", id="kr-b", question="Vraag b?", short="Kort b.", topic="b",
       other="Vierde, Y. (2002). Een vierde bron.")
    read = read_corpus(corpus)
    jansen = [r for r in read.records if r.derived_from and r.title == "Leren in netwerken"]
    assert len(jansen) == 1
    assert {dst for dst, rel in jansen[0].links if rel == "cited_by"} == {"kr-a", "kr-b"}
    recs = by_id(read)
    assert (jansen[0].id, "cites") in recs["kr-a"].links and (jansen[0].id, "cites") in recs["kr-b"].links
    assert len([r for r in read.records if r.kind == "literature"]) == 3
    assert len({r.id for r in read.records}) == len(read.records)      # no duplicate ids

    report = build_index([corpus], tmp_path / "h", embedder=EMB, progress=False)
    assert report.errors == []
    assert report.kinds == {"kennisrotonde": 2, "literature": 3}
    from matcher.loaded import LoadedIndex

    index = LoadedIndex(report.build)
    assert {src for src, rel in index.links_in[jansen[0].id] if rel == "cites"} == {"kr-a", "kr-b"}


def test_kennisrotonde_missing_section_is_a_warning(tmp_path):
    write(tmp_path, "kennisrotonde/kaal.md", "---\nquestion: Waarom?\n---\n\n## Kort antwoord\n\nDaarom.\n")
    read = read_corpus(tmp_path)
    rec = only(read)
    assert rec.fields["short_answer"] == "Daarom."
    warnings = [p for p in read.problems if p.level == "warning"]
    assert len(warnings) == 1 and "Geraadpleegde bronnen" in warnings[0].message
    assert warnings[0].path == "kennisrotonde/kaal.md"


# --- links ----------------------------------------------------------------------

def test_links_resolve_between_records(tmp_path):
    corpus = tmp_path / "c"
    md(corpus, "experten/anna.md", {"id": "exp-anna", "name": "Anna", "themegroups": ["tg-toetsen", "tg-weg"]})
    md(corpus, "themagroepen/toetsen.md", {"id": "tg-toetsen", "name": "Themagroep toetsen", "status": "actief",
                                          "contact": "exp-anna", "products": ["prod-waaier"]})
    md(corpus, "producten/waaier.md", {"id": "prod-waaier", "title": "Feedbackwaaier", "made_by": "tg-toetsen"})
    md(corpus, "literatuur/jansen.md", {"id": "lit-jansen", "title": "Leren in netwerken", "authors": ["Jansen, P."],
                                       "year": 2012})
    kr(corpus, "a", id="kr-a", question="Vraag?", short="Kort.", topic="netwerken",
       other="Anders, Q. (1999). Nog een bron.")
    read = read_corpus(corpus)
    recs = by_id(read)
    assert ("tg-toetsen", "member_of") in recs["exp-anna"].links
    assert ("prod-waaier", "made") in recs["tg-toetsen"].links
    assert ("exp-anna", "contact") in recs["tg-toetsen"].links
    assert ("tg-toetsen", "made_by") in recs["prod-waaier"].links

    report = build_index([corpus], tmp_path / "h", embedder=EMB, progress=False)
    from matcher.loaded import LoadedIndex

    index = LoadedIndex(report.build)
    # the derived record of the source that is also a corpus record points at its twin
    twin = next(r for r in index.record_list if r.derived_from and r.title == "Leren in netwerken")
    assert twin.fields["same_as"] == "lit-jansen"
    assert ("lit-jansen", "same_as") in index.links_out[twin.id]
    other = next(r for r in index.record_list if r.derived_from and r.title == "Nog een bron")
    assert "same_as" not in other.fields
    # links to ids that exist are kept in both directions; a dangling one is dropped, not fatal
    assert ("tg-toetsen", "member_of") in index.links_out["exp-anna"]
    assert ("exp-anna", "member_of") in index.links_in["tg-toetsen"]
    assert all(dst != "tg-weg" for dst, _ in index.links_out["exp-anna"])
    assert ("tg-toetsen", "made_by") in index.links_out["prod-waaier"]
    assert ("kr-a", "cited_by") in index.links_out[other.id]
