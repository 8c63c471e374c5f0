"""Bad input (CORPUS_FORMAT.md, "What bad input gets").

A file that cannot be read or parsed is skipped with a message naming the file
(and line, where known) and what is wrong; everything else is still indexed;
``--strict`` makes such messages a non-zero exit; nothing already in the index
is lost because a later run met a bad file.
"""
from __future__ import annotations

import json
import os
import random
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from corpus_files import write

from indexer import build_index
from indexer.corpus import read_corpus
from indexer.store import Home
from schakel.cli import main

EMB = "hash:256"




def good_corpus(root: Path) -> Path:
    write(root, "experten/anna.md", "---\nid: exp-anna\nname: Anna de Vries\nexpertise: [toetsen, feedback]\n---\n"
                                    "Anna helpt teams met programmatisch toetsen.\n")
    write(root, "themagroepen/toetsen.md", "---\nid: tg-toetsen\nname: Themagroep toetsen\nstatus: actief\n"
                                           "members: 12\n---\nDe groep werkt aan toetsbeleid.\n")
    write(root, "literatuur/boek.md", "---\nid: lit-boek\ntitle: Het toetsboek\nyear: 2015\n---\nOver toetsen.\n")
    write(root, "rapporten/verslag.txt", "Verslag van de bijeenkomst over kennisclips.\n")
    return root


def broken_pdf() -> bytes:
    rng = random.Random(20240501)
    return b"%PDF-1.4\n" + bytes(rng.randrange(256) for _ in range(6000))


def problem_for(problems, path: str):
    found = [p for p in problems if p.path == path and p.level == "error"]
    assert len(found) == 1, (path, [str(p) for p in problems])
    return found[0]


def ids_in(build: Path) -> set[str]:
    db = sqlite3.connect(build / "records.db")
    try:
        return {i for (i,) in db.execute("SELECT id FROM records")}
    finally:
        db.close()


# --- each case, reported with file and line ------------------------------------

def test_broken_pdf(tmp_path):
    good_corpus(tmp_path)
    write(tmp_path, "rapporten/kapot.pdf", broken_pdf())
    read = read_corpus(tmp_path)
    p = problem_for(read.problems, "rapporten/kapot.pdf")
    assert "PDF" in p.message
    assert str(p).startswith("rapporten/kapot.pdf")
    assert "rapporten/kapot" not in {r.id for r in read.records}
    assert len(read.records) == 4


def test_encrypted_pdf_is_named_as_such(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.cell(0, 8, "Vertrouwelijk verslag")
    pdf.set_encryption(owner_password="eigenaar", user_password="geheim")
    write(tmp_path, "rapporten/versleuteld.pdf", bytes(pdf.output()))
    # only an owner password (no password to open): readable as usual
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.cell(0, 8, "Beschermd maar leesbaar verslag")
    pdf.set_encryption(owner_password="eigenaar")
    write(tmp_path, "rapporten/beschermd.pdf", bytes(pdf.output()))
    read = read_corpus(tmp_path)
    p = problem_for(read.problems, "rapporten/versleuteld.pdf")
    assert "encrypted" in p.message and "password" in p.message
    assert [r.id for r in read.records] == ["rapporten/beschermd"]
    assert "leesbaar verslag" in read.records[0].body


def test_pdf_without_text(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 100, 100, style="F")       # like a scan: an image, no text layer
    write(tmp_path, "rapporten/scan.pdf", bytes(pdf.output()))
    p = problem_for(read_corpus(tmp_path).problems, "rapporten/scan.pdf")
    assert "no extractable text" in p.message


def test_bad_yaml_front_matter_names_file_and_line(tmp_path):
    write(tmp_path, "experten/kees.md",
          "---\n"                                   # 1
          "id: exp-kees\n"                          # 2
          "name: Kees Brouwer\n"                    # 3
          "organisation: Hogeschool: Noordwest\n"   # 4  <- ': ' inside a plain value
          "---\n"
          "Kees weet alles van toetsen.\n")
    good_corpus(tmp_path)
    read = read_corpus(tmp_path)
    p = problem_for(read.problems, "experten/kees.md")
    assert p.line == 4
    assert "YAML" in p.message
    assert str(p).startswith("experten/kees.md:4: ")
    assert "exp-kees" not in {r.id for r in read.records}
    assert {"exp-anna", "tg-toetsen", "lit-boek", "rapporten/verslag"} <= {r.id for r in read.records}


def test_unclosed_flow_list_gives_a_line_within_the_front_matter(tmp_path):
    write(tmp_path, "experten/lijst.md", "---\nname: Kees\nexpertise: [toetsen, feedback\nregion: Noord\n---\nx\n")
    p = problem_for(read_corpus(tmp_path).problems, "experten/lijst.md")
    assert p.line in (3, 4) and "YAML" in p.message


@pytest.mark.parametrize("text,line,words", [
    ("---\ntitle: x\nhier eindigt de front matter nooit\n", 1, ["closing"]),
    ("---\n- een\n- twee\n---\ntekst\n", 2, ["mapping"]),
])
def test_malformed_front_matter(tmp_path, text, line, words):
    write(tmp_path, "rapporten/fout.md", text)
    p = problem_for(read_corpus(tmp_path).problems, "rapporten/fout.md")
    assert p.line == line
    for w in words:
        assert w in p.message


@pytest.mark.parametrize("folder,front,field,line", [
    ("experten", "name: Kees\nrole: docent\navailable: misschien\n", "available", 4),
    ("themagroepen", "name: Groep\nstatus: actief\nmembers: veel\n", "members", 4),
    ("experten", "name: Kees\nexpertise:\n  toetsen: ja\n  video: nee\n", "expertise", 3),
    ("literatuur", "title: Boek\nyear: twintig\n", "year", 3),
    ("literatuur", "title: Boek\nupdated: gisteren\n", "updated", 3),
    ("themagroepen", "name: Groep\nstatus: bezig\n", "status", 3),
    ("themagroepen", "name: Groep\nfocus:\n  a: b\n", "focus", 3),
    ("literatuur", "title: Boek\nkind: blog\n", "kind", 3),
    ("experten", "name: Kees\ntags:\n- [a, b]\n", "tags", 3),
])
def test_wrong_field_type(tmp_path, folder, front, field, line):
    write(tmp_path, f"{folder}/fout.md", f"---\n{front}---\nTekst.\n")
    good_corpus(tmp_path)
    read = read_corpus(tmp_path)
    p = problem_for(read.problems, f"{folder}/fout.md")
    assert f"'{field}'" in p.message
    assert p.line == line
    assert f"{folder}/fout" not in {r.id for r in read.records}
    assert len(read.records) == 4


@pytest.mark.parametrize("folder,front,field", [
    ("experten", "organisation: Hogeschool\nexpertise: [toetsen]\n", "name"),
    ("themagroepen", "status: actief\n", "name"),
    ("literatuur", "year: 2001\n", "title"),
    ("producten", "type: training\n", "title"),
    ("kennisrotonde", "date: 2020-01-01\n", "question"),
])
def test_missing_required_field(tmp_path, folder, front, field):
    write(tmp_path, f"{folder}/zonder.md", f"---\nid: x-zonder\n{front}---\n## Kort antwoord\n\nTekst.\n")
    good_corpus(tmp_path)
    read = read_corpus(tmp_path)
    p = problem_for(read.problems, f"{folder}/zonder.md")
    assert f"'{field}'" in p.message and "missing" in p.message
    assert "x-zonder" not in {r.id for r in read.records}
    assert len(read.records) == 4


def test_duplicate_id_names_both_files(tmp_path):
    write(tmp_path, "experten/a.md", "---\nid: exp-dubbel\nname: Eerste\n---\nEerste tekst.\n")
    write(tmp_path, "experten/b.md", "---\nid: exp-dubbel\nname: Tweede\n---\nTweede tekst.\n")
    good_corpus(tmp_path)
    read = read_corpus(tmp_path)
    errors = [p for p in read.errors if "exp-dubbel" in p.message]
    assert len(errors) == 1
    text = str(errors[0])
    assert "experten/a.md" in text and "experten/b.md" in text and "duplicate" in text
    dubbel = [r for r in read.records if r.id == "exp-dubbel"]
    assert len(dubbel) == 1 and dubbel[0].title == "Eerste"
    assert len(read.records) == 5


def test_duplicate_id_across_two_corpora(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    good_corpus(a)
    write(b, "experten/anna.md", "---\nid: exp-anna\nname: Een andere Anna\n---\nAndere tekst.\n")
    write(b, "experten/bert.md", "---\nid: exp-bert\nname: Bert\n---\nBert.\n")
    report = build_index([a, b], tmp_path / "h", embedder=EMB, progress=False)
    errors = [p for p in report.errors if "exp-anna" in p.message]
    assert len(errors) == 1 and "duplicate" in errors[0].message
    assert "experten/anna.md" in str(errors[0])
    assert ids_in(report.build) == {"exp-anna", "tg-toetsen", "lit-boek", "rapporten/verslag", "exp-bert"}


def test_duplicate_id_in_csv_and_markdown(tmp_path):
    good_corpus(tmp_path)
    write(tmp_path, "experten/extra.csv", "id,name\nexp-anna,Anna uit de csv\nexp-carla,Carla\n")
    read = read_corpus(tmp_path)
    errors = [p for p in read.errors if "exp-anna" in p.message]
    assert len(errors) == 1
    assert "experten/anna.md" in str(errors[0]) and "experten/extra.csv" in str(errors[0])
    assert "exp-carla" in {r.id for r in read.records}


@pytest.mark.parametrize("name,content,words", [
    ("rapporten/leeg.md", b"", ["no text"]),
    ("rapporten/spaties.md", b"  \n\n \t\n", ["no text"]),
    ("rapporten/leeg.txt", b"", ["no text"]),
    ("rapporten/leeg.html", b"<html><head><title></title></head><body></body></html>", ["no text"]),
    ("rapporten/leeg.pdf", b"", ["PDF"]),
    ("rapporten/leeg.docx", b"", [".docx"]),
    ("rapporten/nep.docx", b"dit is gewoon tekst, geen zip", [".docx"]),
    ("rapporten/leeg.csv", b"", ["empty"]),
    ("rapporten/kop.csv", b"id,title\n", ["no rows"]),
])
def test_empty_or_unparseable_files(tmp_path, name, content, words):
    write(tmp_path, name, content)
    good_corpus(tmp_path)
    read = read_corpus(tmp_path)
    p = problem_for(read.problems, name)
    for w in words:
        assert w in p.message
    assert len(read.records) == 4


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a file without read permission")
def test_unreadable_file_by_permission(tmp_path):
    path = write(tmp_path, "rapporten/geheim.md", "---\ntitle: Geheim\n---\nTekst.\n")
    good_corpus(tmp_path)
    path.chmod(0)
    try:
        p = problem_for(read_corpus(tmp_path).problems, "rapporten/geheim.md")
        assert "cannot be read" in p.message
    finally:
        path.chmod(0o644)


def test_unreadable_file(tmp_path, monkeypatch):
    import errno

    from indexer import corpus

    write(tmp_path, "rapporten/geheim.md", "---\ntitle: Geheim\n---\nTekst.\n")
    good_corpus(tmp_path)
    real = corpus.file_digest

    def digest(path):
        if path.name == "geheim.md":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(corpus, "file_digest", digest)
    read = read_corpus(tmp_path)
    p = problem_for(read.problems, "rapporten/geheim.md")
    assert "cannot be read" in p.message and "Permission denied" in p.message
    assert len(read.records) == 4


def test_csv_bad_rows_are_reported_by_line_and_other_rows_kept(tmp_path):
    write(tmp_path, "experten/extra.csv",
          "id,name,available\n"
          "exp-1,Een,ja\n"
          "exp-2,Twee,misschien\n"      # line 3: wrong type
          "exp-3,,ja\n"                 # line 4: no name
          "exp-4,Vier,ja,te veel\n"     # line 5: too many cells
          "exp-5,Vijf,nee\n")
    read = read_corpus(tmp_path)
    assert sorted(r.id for r in read.records) == ["exp-1", "exp-5"]
    by_line = {p.line: p for p in read.errors}
    assert set(by_line) == {3, 4, 5}
    assert all(p.path == "experten/extra.csv" for p in read.errors)
    assert "'available'" in by_line[3].message
    assert "'name'" in by_line[4].message
    assert "cells" in by_line[5].message


def test_broken_link_is_listed_not_fatal(tmp_path):
    good_corpus(tmp_path)
    (tmp_path / "rapporten" / "weg.md").symlink_to(tmp_path / "bestaat-niet.md")
    read = read_corpus(tmp_path)
    assert any(s.startswith("rapporten/weg.md") for s in read.skipped)
    assert len(read.records) == 4


# --- all at once, through the build --------------------------------------------

BAD = {
    "rapporten/kapot.pdf": broken_pdf(),
    "experten/kees.md": "---\nid: exp-kees\nname: Kees\norganisation: Hogeschool: Noord\n---\nx\n",
    "experten/misschien.md": "---\nid: exp-misschien\nname: Mis\navailable: misschien\n---\nx\n",
    "themagroepen/veel.md": "---\nid: tg-veel\nname: Veel\nmembers: veel\n---\nx\n",
    "experten/naamloos.md": "---\nid: exp-naamloos\nrole: docent\n---\nx\n",
    "kennisrotonde/vraagloos.md": "---\nid: kr-vraagloos\ndate: 2020-01-01\n---\n## Kort antwoord\n\nx\n",
    "rapporten/leeg.md": "",
    "producten/dubbel.md": "---\nid: exp-ecbo\ntitle: Dubbel\n---\nx\n",   # an id of the demo corpus
}
BAD_IDS = {"exp-kees", "exp-misschien", "tg-veel", "exp-naamloos", "kr-vraagloos", "rapporten/kapot",
           "rapporten/leeg"}


def test_every_bad_file_is_reported_and_everything_else_indexed(tmp_path, copy_corpus):
    corpus = copy_corpus()
    clean = build_index([corpus], tmp_path / "clean", embedder=EMB, progress=False)
    assert clean.errors == []
    for rel, content in BAD.items():
        write(corpus, rel, content)
    report = build_index([corpus], tmp_path / "h", embedder=EMB, progress=False)
    assert {p.path for p in report.errors} == set(BAD)
    assert all(p.message for p in report.errors)
    assert report.changed and report.build is not None
    ids = ids_in(report.build)
    assert ids == ids_in(clean.build)                 # every good record, nothing from a bad file
    assert not ids & BAD_IDS
    # the problems travel with the index, for the web pages and `schakel index --json`
    db = sqlite3.connect(report.build / "records.db")
    stored = {(path, line) for path, line in db.execute("SELECT path, line FROM problems WHERE level='error'")}
    db.close()
    assert {path for path, _ in stored} == set(BAD)
    assert ("experten/kees.md", 4) in stored and ("experten/misschien.md", 4) in stored
    manifest = json.loads((report.build / "manifest.json").read_text("utf-8"))
    assert manifest["counts"]["problems"] == len(BAD)


# --- the CLI --------------------------------------------------------------------

def run_index(args, **env):
    return CliRunner().invoke(main, ["index", *args], env={"SCHAKEL_EMBEDDER": EMB, **env})


def test_cli_strict_exits_non_zero_plain_exits_zero(tmp_path):
    corpus = good_corpus(tmp_path / "c")
    write(corpus, "rapporten/kapot.pdf", broken_pdf())
    write(corpus, "experten/kees.md", BAD["experten/kees.md"])

    plain = run_index([str(corpus), "--home", str(tmp_path / "h1")])
    assert plain.exit_code == 0, plain.output
    assert "rapporten/kapot.pdf" in plain.stderr and "experten/kees.md:4" in plain.stderr
    assert "2 overgeslagen" in plain.stdout

    strict = run_index([str(corpus), "--home", str(tmp_path / "h2"), "--strict"])
    assert strict.exit_code != 0
    assert "rapporten/kapot.pdf" in strict.stderr and "experten/kees.md" in strict.stderr
    # strict still publishes what could be read; the exit code is the signal
    assert ids_in(Home(tmp_path / "h2").current()) == {"exp-anna", "tg-toetsen", "lit-boek", "rapporten/verslag"}

    as_json = run_index([str(corpus), "--home", str(tmp_path / "h3"), "--strict", "--json"])
    assert as_json.exit_code != 0
    body = json.loads(as_json.stdout)
    assert {(p["path"], p["line"]) for p in body["problems"] if p["level"] == "error"} == \
        {("rapporten/kapot.pdf", None), ("experten/kees.md", 4)}


def test_cli_strict_passes_a_clean_corpus_and_warnings(tmp_path):
    corpus = good_corpus(tmp_path / "c")
    write(corpus, "rapporten/oud.txt", "Caf\u00e9 in de oude codering.".encode("cp1252"))  # only a warning
    result = run_index([str(corpus), "--home", str(tmp_path / "h"), "--strict"])
    assert result.exit_code == 0, result.output
    assert "rapporten/oud.txt" in result.stderr and "cp1252" in result.stderr


# --- nothing already stored is lost ---------------------------------------------

def test_adding_a_broken_file_loses_nothing_already_indexed(tmp_path):
    corpus = good_corpus(tmp_path / "c")
    home = tmp_path / "h"
    first = build_index([corpus], home, embedder=EMB, progress=False)
    before = ids_in(first.build)
    assert before == {"exp-anna", "tg-toetsen", "lit-boek", "rapporten/verslag"}

    write(corpus, "rapporten/kapot.pdf", broken_pdf())
    write(corpus, "experten/kees.md", BAD["experten/kees.md"])
    result = run_index([str(corpus), "--home", str(home), "--strict"])
    assert result.exit_code != 0
    current = Home(home).current()
    assert ids_in(current) == before

    from matcher import Engine

    res = Engine(home, embedder=EMB).match("Wie helpt met programmatisch toetsen?")
    assert res.matches["expert"][0].id == "exp-anna"
    assert res.matches["themegroup"][0].id == "tg-toetsen"


def test_a_file_that_turns_bad_keeps_its_last_good_record(tmp_path):
    from matcher.loaded import LoadedIndex

    corpus = good_corpus(tmp_path / "c")
    home = tmp_path / "h"
    build_index([corpus], home, embedder=EMB, progress=False)
    write(corpus, "experten/anna.md", "---\nid: exp-anna\nname: Anna\norganisation: Hogeschool: Noord\n---\nx\n")
    report = build_index([corpus], home, embedder=EMB, progress=False)
    assert [p.path for p in report.errors] == ["experten/anna.md"]
    assert any(p.level == "warning" and p.path == "experten/anna.md" for p in report.problems)
    index = LoadedIndex(Home(home).current())
    assert index.records["exp-anna"].title == "Anna de Vries"          # the last good version
    assert any("programmatisch toetsen" in index.passage_text[i] for i in index.records["exp-anna"].passages)

    # still broken while other files change, and on --rebuild: still kept
    write(corpus, "experten/bert.md", "---\nid: exp-bert\nname: Bert\n---\nBert.\n")
    again = build_index([corpus], home, embedder=EMB, progress=False)
    assert again.changed and "exp-anna" in ids_in(again.build) and "exp-bert" in ids_in(again.build)
    assert "exp-anna" in ids_in(build_index([corpus], home, embedder=EMB, progress=False, rebuild=True).build)

    # fixed: the new version replaces it; deleted: it leaves
    write(corpus, "experten/anna.md", "---\nid: exp-anna\nname: Anna Hersteld\n---\nAnna is terug.\n")
    fixed = build_index([corpus], home, embedder=EMB, progress=False)
    assert fixed.errors == [] and fixed.files["changed"] == 1
    assert LoadedIndex(fixed.build).records["exp-anna"].title == "Anna Hersteld"
    (corpus / "experten" / "anna.md").unlink()
    gone = build_index([corpus], home, embedder=EMB, progress=False)
    assert "exp-anna" not in ids_in(gone.build)


def test_a_file_that_was_never_good_is_not_in_the_index(tmp_path):
    corpus = good_corpus(tmp_path / "c")
    write(corpus, "experten/kees.md", BAD["experten/kees.md"])
    home = tmp_path / "h"
    build_index([corpus], home, embedder=EMB, progress=False)
    write(corpus, "experten/bert.md", "---\nid: exp-bert\nname: Bert\n---\nBert.\n")
    report = build_index([corpus], home, embedder=EMB, progress=False)
    assert "exp-kees" not in ids_in(report.build)
    assert not any(p.level == "warning" and p.path == "experten/kees.md" for p in report.problems)


PRODUCTS = "id,title,type,tags,body\nprod-rubric,Rubric peerfeedback,instrument,feedback,Een rubric voor peerfeedback.\n"


def test_a_table_with_a_bad_row_indexes_again_and_keeps_the_rows_last_good_version(tmp_path):
    corpus, home = good_corpus(tmp_path / "c"), tmp_path / "h"
    # a row that was never good: skipped on every run, also the second (which crashed on a duplicate file entry)
    write(corpus, "producten/lijst.csv", PRODUCTS + "prod-leeg,,instrument,feedback,Rij zonder titel.\n")
    for _ in range(2):
        report = build_index([corpus], home, embedder=EMB, progress=False)
        assert [(p.path, p.line) for p in report.errors] == [("producten/lijst.csv", 3)]
        assert not any(p.level == "warning" and p.path == "producten/lijst.csv" for p in report.problems)
        assert "prod-rubric" in ids_in(Home(home).current()) and "prod-leeg" not in ids_in(Home(home).current())
    # a good row that turns bad keeps its last good version, beside the file's other rows as read now
    write(corpus, "producten/lijst.csv", PRODUCTS + "prod-clip,Kennisclips maken,instrument,video,Clips.\n")
    build_index([corpus], home, embedder=EMB, progress=False)
    write(corpus, "producten/lijst.csv", PRODUCTS.replace("Rubric peerfeedback", "Rubric peer-assessment")
          + "prod-clip,,instrument,video,Clips.\n")
    report = build_index([corpus], home, embedder=EMB, progress=False)
    assert [p.path for p in report.errors] == ["producten/lijst.csv"]
    assert any(p.level == "warning" and p.path == "producten/lijst.csv" for p in report.problems)
    from matcher.loaded import LoadedIndex

    index = LoadedIndex(Home(home).current())
    assert index.records["prod-clip"].title == "Kennisclips maken"
    assert index.records["prod-rubric"].title == "Rubric peer-assessment"
    again = build_index([corpus], home, embedder=EMB, progress=False)          # and the run after that
    assert "prod-clip" in ids_in(again.build or Home(home).current())


def test_the_index_command_reports_each_problem_in_dutch_and_json_keeps_the_english(tmp_path):
    from schakel.messages import PROBLEM_PATTERNS

    corpus = good_corpus(tmp_path / "c")
    for path, content in BAD.items():
        write(corpus, path, content)
    write(corpus, "producten/lijst.csv", PRODUCTS + "prod-leeg,,instrument,feedback,Rij zonder titel.\n")
    write(corpus, "literatuur/open.md", "---\nid: lit-open\ntitle: Open\nx\n")
    result = run_index([str(corpus), "--home", str(tmp_path / "h")])
    lines = [line for line in result.stderr.splitlines() if line.startswith(("overgeslagen:", "waarschuwing:"))]
    assert len(lines) >= len(BAD) + 1
    english = [line for line in lines if any(p.search(line.split(": ", 2)[-1]) for p, _ in PROBLEM_PATTERNS)]
    assert english == [], english            # every message met here has its Dutch text
    assert "het veld 'available' moet true of false zijn, maar is 'misschien'" in result.stderr
    assert "producten/lijst.csv:3: het verplichte veld 'title' ontbreekt (product)" in result.stderr
    as_json = json.loads(run_index([str(corpus), "--home", str(tmp_path / "h2"), "--json"]).stdout)
    assert any("must be true or false" in p["message"] for p in as_json["problems"])    # for scripts: as it was
