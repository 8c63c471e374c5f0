"""Real documents in, nothing lost (issue 14): one test (or more) per case in ../shared/bugcases.

Each case stands for a kind of fault, so each is tested on the case's own input (the small PDFs
made with reportlab are kept in tests/data/bugcases) and on inputs of the same kind made here with
other tools and other words (fpdf2, python-docx, hand-written HTML/CSV/bytes).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import unicodedata
from pathlib import Path

import pytest
import yaml

from indexer import build_index
from indexer.corpus import read_corpus
from indexer.passages import make_passages

EMB = "hash:256"
DATA = Path(__file__).parent / "data" / "bugcases"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    return path


def md(root: Path, rel: str, meta: dict, body: str = "Een korte tekst.") -> Path:
    return write(root, rel, "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + body + "\n")


def base_corpus(root: Path) -> Path:
    md(root, "experten/a-jansen.md", {"name": "Adviseur toetsing", "expertise": ["toetsing", "feedback"]},
       "Helpt teams met formatief evalueren en digitale toetsen in het mbo.")
    md(root, "themagroepen/hybride.md", {"name": "Hybride onderwijs", "status": "actief"},
       "Werkt aan hybride lessen.")
    return root


def by_id(read) -> dict:
    return {r.id: r for r in read.records}


def problem(read, path: str):
    found = [p for p in read.problems if p.path == path]
    assert found, (path, [str(p) for p in read.problems])
    return found[0]


def fpdf_doc(lines: list[str], title: str | None = None, font: Path | None = None, bold_first: bool = False):
    from fpdf import FPDF

    pdf = FPDF()
    if title is not None:
        pdf.set_title(title)
    if font:
        pdf.add_font("Body", fname=str(font))
    pdf.add_page()
    for i, line in enumerate(lines):
        if font:
            pdf.set_font("Body", size=11)
        else:
            pdf.set_font("Helvetica", style="B" if bold_first and i == 0 else "", size=14 if bold_first and i == 0 else 11)
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return pdf


# --- 01 PDF ligature glyphs ----------------------------------------------------------------------

def test_01_ligature_glyphs_are_letters(tmp_path):
    shutil.copy(DATA / "ligaturen.pdf", write(tmp_path, "rapporten/ligaturen.pdf", b""))
    rec = by_id(read_corpus(tmp_path))["rapporten/ligaturen"]
    assert "reflectie inzetten bij het certificeren" in rec.body
    assert "efficiënt" in rec.body and "financiële" in rec.body
    assert not any("\ufb00" <= ch <= "\ufb06" for ch in rec.body)


@pytest.mark.skipif(not DEJAVU.is_file(), reason="DejaVu Sans font not installed")
def test_01_ligatures_in_another_pdf(tmp_path):
    fpdf_doc(["Het pro\ufb01el van de o\ufb03ciële stage\ufb02yer."], title="Stage", font=DEJAVU).output(
        str(write(tmp_path, "rapporten/flyer.pdf", b"")))
    rec = by_id(read_corpus(tmp_path))["rapporten/flyer"]
    assert "profiel van de officiële stageflyer" in rec.body


# --- 02 words hyphenated at a line end ---------------------------------------------------------

def test_02_line_end_hyphenation_rejoined_compound_hyphens_kept(tmp_path):
    shutil.copy(DATA / "afbreking.pdf", write(tmp_path, "rapporten/afbreking.pdf", b""))
    rec = by_id(read_corpus(tmp_path))["rapporten/afbreking"]
    for word in ("differentiatie", "gepersonaliseerde", "studieloopbaanbegeleiding"):
        assert word in rec.body
    assert "lees- en schrijfvaardigheid" in rec.body
    assert "differenti-" not in rec.body and all(word in make_passages(rec)[0].text
                                                 for word in ("differentiatie", "gepersonaliseerde"))


def test_02_hyphenation_in_another_pdf(tmp_path):
    lines = ["Het team bespreekt de loopbaan-", "oriëntatie van eerstejaars en de taak-",
             "verdeling. Ook ICT-", "beleid, e-learning en e-", "learning komen aan bod, net als Noord-",
             "Brabant en reken- of taalbeleid."]
    fpdf_doc(lines, title="Overleg").output(str(write(tmp_path, "rapporten/overleg.pdf", b"")))
    body = by_id(read_corpus(tmp_path))["rapporten/overleg"].body
    assert "loopbaanoriëntatie" in body and "taakverdeling" in body
    assert "ICT-beleid" in body                     # an abbreviation keeps its hyphen
    assert "e-learning en e-learning" in body       # the form written elsewhere in the text decides
    assert "Noord-Brabant" in body                  # a capital after the break: a real hyphen
    assert "reken- of taalbeleid" in body           # suspended hyphen before a conjunction


def test_02_dehyphenate_rules():
    from indexer.pdftext import dehyphenate

    assert dehyphenate("werk-\nplekleren") == "werkplekleren"
    assert dehyphenate("mbo-\nstudent en mbo-student") == "mbo-student en mbo-student"
    assert dehyphenate("hoofd- en\nbijzaken") == "hoofd- en\nbijzaken"
    assert dehyphenate("hoofd-\nen bijzaken") == "hoofd- en bijzaken"
    assert dehyphenate("21e-\neeuwse") == "21e-eeuwse"


# --- 03 encrypted PDFs ---------------------------------------------------------------------------

def test_03_owner_password_only_is_indexed_user_password_is_reported(tmp_path):
    base_corpus(tmp_path)
    for name in ("aes-alleen-rechten.pdf", "rc4-alleen-rechten.pdf", "wachtwoord.pdf"):
        shutil.copy(DATA / name, write(tmp_path, f"rapporten/{name}", b""))
    read = read_corpus(tmp_path)
    recs = by_id(read)
    assert "stagebegeleiding op afstand" in recs["rapporten/aes-alleen-rechten"].body
    assert "proeve van bekwaamheid" in recs["rapporten/rc4-alleen-rechten"].body
    assert "rapporten/wachtwoord" not in recs
    assert "needs a password" in problem(read, "rapporten/wachtwoord.pdf").message
    assert [p.path for p in read.errors] == ["rapporten/wachtwoord.pdf"]


@pytest.mark.parametrize("method", ["RC4", "AES_128", "AES_256"])
def test_03_other_encrypted_pdfs(tmp_path, method):
    from fpdf.enums import EncryptionMethod

    open_pdf = fpdf_doc(["Verslag over intervisie en collegiale consultatie."], title="Intervisie")
    open_pdf.set_encryption(owner_password="baas", user_password="", encryption_method=EncryptionMethod[method],
                            permissions=0)
    open_pdf.output(str(write(tmp_path, "rapporten/open.pdf", b"")))
    closed = fpdf_doc(["Geheim."], title="Geheim")
    closed.set_encryption(owner_password="baas", user_password="sleutel", encryption_method=EncryptionMethod[method])
    closed.output(str(write(tmp_path, "rapporten/dicht.pdf", b"")))
    read = read_corpus(tmp_path)
    assert "collegiale consultatie" in by_id(read)["rapporten/open"].body
    assert "needs a password" in problem(read, "rapporten/dicht.pdf").message


# --- 04 scanned PDF / rotated page ---------------------------------------------------------------

def test_04_scan_is_reported_rotated_page_is_indexed(tmp_path):
    for name in ("scan.pdf", "gedraaid.pdf"):
        shutil.copy(DATA / name, write(tmp_path, f"rapporten/{name}", b""))
    read = read_corpus(tmp_path)
    assert "no extractable text" in problem(read, "rapporten/scan.pdf").message
    assert "inzet van onderwijsassistenten" in by_id(read)["rapporten/gedraaid"].body


# --- 19 junk metadata titles ---------------------------------------------------------------------

def test_19_tool_made_pdf_titles_give_way_to_the_first_line(tmp_path):
    for name in ("evaluatie-mentoraat.pdf", "werkdruk-onderzoek.pdf"):
        shutil.copy(DATA / name, write(tmp_path, f"rapporten/{name}", b""))
    recs = by_id(read_corpus(tmp_path))
    assert recs["rapporten/evaluatie-mentoraat"].title == "Evaluatie mentoraat eerstejaars"
    assert recs["rapporten/werkdruk-onderzoek"].title == "Onderzoek werkdruk docenten"
    first = make_passages(recs["rapporten/werkdruk-onderzoek"])[0].text
    assert first.count("Onderzoek werkdruk docenten") == 1        # the headline is not repeated


@pytest.mark.parametrize("junk", ["Naamloos document", "Document1", "Microsoft PowerPoint - dia's.pptx",
                                  "verslag_def_v3", "rapport.docx", "   "])
def test_19_other_junk_titles(tmp_path, junk):
    fpdf_doc(["Plan van aanpak burgerschap", "Het team start in september met een pilot burgerschap."],
             title=junk, bold_first=True).output(str(write(tmp_path, "rapporten/plan.pdf", b"")))
    rec = by_id(read_corpus(tmp_path))["rapporten/plan"]
    assert rec.title in ("Plan van aanpak burgerschap", "plan")


def test_19_real_titles_are_kept():
    from indexer.titles import is_junk_title

    for title in ("Evaluatie mentoraat", "Wat werkt bij taal?", "Jaarverslag 2023", "ICT-beleid ROC Noord"):
        assert not is_junk_title(title)


# --- 05 / 06 DOCX as Word shows it ---------------------------------------------------------------

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx_with(parts: list[str], title: str = "Evaluatie rekenonderwijs", header: str | None = None,
               footer: str | None = None) -> bytes:
    """A DOCX whose body holds the given raw paragraph-level XML snippets, in order."""
    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    d.core_properties.title = title
    d.add_heading(title, level=1)
    for xml in parts:
        d.element.body.insert(len(d.element.body) - 1, parse_xml(xml))
    if header:
        d.sections[0].header.paragraphs[0].text = header
    if footer:
        d.sections[0].footer.paragraphs[0].text = footer
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _p(inner: str) -> str:
    return f"<w:p {W_NS}>{inner}</w:p>"


def _r(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def test_05_tracked_insertions_kept_deletions_dropped(tmp_path):
    ins = '<w:ins w:id="{}" w:author="R" w:date="2024-03-01T10:00:00Z">{}</w:ins>'
    dele = '<w:del w:id="{}" w:author="R" w:date="2024-03-01T10:00:00Z"><w:r><w:delText>{}</w:delText></w:r></w:del>'
    data = _docx_with([
        _p(_r("Het team gebruikt een leerplatform met ") + dele.format(1, "losse werkbladen")
           + ins.format(2, _r("adaptieve oefeningen voor rekenen")) + _r(".")),
        _p(ins.format(3, _r("Studenten oefenen met gamification en krijgen direct feedback op hun sommen."))),
        _p('<w:moveFrom w:id="4" w:author="R"><w:r><w:t>Verplaatste zin oud.</w:t></w:r></w:moveFrom>'
           '<w:moveTo w:id="5" w:author="R"><w:r><w:t>Verplaatste zin nieuw.</w:t></w:r></w:moveTo>'),
        _p('<w:r><w:rPr><w:vanish/></w:rPr><w:t>Verborgen tekst.</w:t></w:r>' + _r("Zichtbare tekst.")),
    ])
    write(tmp_path, "rapporten/revisies.docx", data)
    rec = by_id(read_corpus(tmp_path))["rapporten/revisies"]
    assert "Het team gebruikt een leerplatform met adaptieve oefeningen voor rekenen." in rec.body
    assert "gamification en krijgen direct feedback" in rec.body
    assert "Verplaatste zin nieuw." in rec.body and "Zichtbare tekst." in rec.body
    for gone in ("losse werkbladen", "Verplaatste zin oud", "Verborgen tekst"):
        assert gone not in rec.body


def test_06_text_box_content_control_table_header_in_reading_order(tmp_path):
    box = ('<w:r><w:drawing xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
           'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
           'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
           '<wp:inline><wp:extent cx="3000000" cy="800000"/><wp:docPr id="1" name="Tekstvak 1"/>'
           '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
           '<wps:wsp><wps:txbx><w:txbxContent>'
           '<w:p><w:r><w:t>Kernboodschap: peer feedback met rubrics verhoogt de kwaliteit.</w:t></w:r></w:p>'
           '</w:txbxContent></wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:inline>'
           '</w:drawing></w:r>')
    alternate = ('<w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
                 '<mc:Choice Requires="wps"><w:txbxContent><w:p><w:r><w:t>Tweede tekstvak over stages.</w:t></w:r>'
                 '</w:p></w:txbxContent></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r>'
                 '<w:t>Tweede tekstvak over stages.</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback>'
                 '</mc:AlternateContent></w:r>')
    sdt = (f'<w:sdt {W_NS}><w:sdtPr><w:alias w:val="Samenvatting"/></w:sdtPr><w:sdtContent>'
           f'<w:p>{_r("Inhoudsbesturingselement met de samenvatting van de pilot.")}</w:p></w:sdtContent></w:sdt>')
    table = (f'<w:tbl {W_NS}><w:tr><w:tc><w:p>{_r("Fase")}</w:p></w:tc><w:tc><w:p>{_r("Planning")}</w:p></w:tc></w:tr>'
             f'<w:tr><w:tc><w:p>{_r("Start")}</w:p></w:tc><w:tc><w:p>{_r("september")}</w:p></w:tc></w:tr></w:tbl>')
    data = _docx_with([_p(_r("Factsheet van de pilot in het eerste leerjaar.")), _p(box), sdt, table,
                       _p(_r("Slotzin na de tabel.")), _p(alternate)],
                      title="Factsheet pilot", header="Projectgroep digitale didactiek ROC Noord",
                      footer="Pagina 1")
    write(tmp_path, "rapporten/tekstvak.docx", data)
    rec = by_id(read_corpus(tmp_path))["rapporten/tekstvak"]
    body = rec.body
    order = ["Projectgroep digitale didactiek ROC Noord", "Factsheet van de pilot", "Kernboodschap: peer feedback",
             "Inhoudsbesturingselement", "Fase | Planning", "Start | september", "Slotzin na de tabel",
             "Tweede tekstvak over stages."]
    positions = [body.find(t) for t in order]
    assert -1 not in positions, body
    assert positions == sorted(positions), body
    assert body.count("Tweede tekstvak over stages.") == 1      # not the VML fallback as well
    assert "Pagina 1" not in body                               # a footer with no content
