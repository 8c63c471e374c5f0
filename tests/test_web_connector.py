"""The connector's inbox and intake brief (HTML, Markdown, PDF), notes and status; hostile text stays inert."""
from __future__ import annotations

import io
import re
import shutil

import pytest

from conftest import DEMO, TEST_EMBEDDER, make_web_app

XSS_QUESTION = "Hoe zet ik video in bij eerstejaars? <script>alert('vraag')</script> [klik](javascript:alert(1))"
EVIL_EXPERT = """---
id: exp-kwaadwillend
name: "<img src=x onerror=alert('naam')> Chatbotkenner"
organisation: "<script>alert('org')</script> Chatbot BV"
role: adviseur kunstmatige intelligentie
expertise:
- chatbots en kunstmatige intelligentie in de les
region: Utrecht
url: "javascript:alert('url')"
---
Deze expert weet alles van chatbots en kunstmatige intelligentie in de les.
<script>alert('body')</script> **vet** [klik](javascript:alert(2))
"""
EVIL_QUESTION = "Wie weet iets van chatbots en kunstmatige intelligentie in de les?"


@pytest.fixture(scope="module")
def evil_engine(tmp_path_factory):
    """The demo corpus plus an expert whose fields and text are an XSS attempt."""
    from indexer import build_index
    from matcher import Engine

    root = tmp_path_factory.mktemp("evil")
    corpus = root / "corpus"
    shutil.copytree(DEMO, corpus)
    (corpus / "experten" / "kwaadwillend.md").write_text(EVIL_EXPERT, "utf-8")
    build_index([corpus], root / "home", embedder=TEST_EMBEDDER, progress=False)
    return Engine(root / "home", embedder=TEST_EMBEDDER)


@pytest.fixture
def connector(web_client, login):
    login(web_client, "connector", username="anna")
    return web_client


@pytest.fixture
def store(web_app):
    return web_app.extensions["schakel"].store


def test_inbox_lists_intakes_with_status_and_followups(connector, store, csrf):
    a = store.add_intake("Hoe zet ik video in bij eerstejaars?", answers={"doel": "zelfstandig werken"})
    b = store.add_intake("Wat weten we over blended leren in de zorg?")
    store.add_followup(b, "docent@example.org", "Docent", "Graag contact")
    store.set_intake_status(a, "afgerond")
    html = connector.get("/schakelaar/").get_data(as_text=True)
    assert "Hoe zet ik video in bij eerstejaars?" in html and "blended leren in de zorg" in html
    assert f'href="/schakelaar/intake/{a}"' in html and "1 opvolgverzoek" in html
    assert html.index("blended leren in de zorg") < html.index("video in bij eerstejaars")  # newest first
    assert "docent@example.org" not in html  # contact details only on the brief
    only = connector.get("/schakelaar/?status=afgerond").get_data(as_text=True)
    assert "video in bij eerstejaars" in only and "blended leren in de zorg" not in only
    follow = connector.get("/schakelaar/?opvolging=ja").get_data(as_text=True)
    assert "blended leren in de zorg" in follow and "video in bij eerstejaars" not in follow
    assert connector.get("/schakelaar/?status=bestaat-niet").status_code == 200  # unknown filter: all


def test_brief_shows_what_an_intake_needs(connector, store):
    iid = store.add_intake("Hoe zet ik kennisclips in zodat studenten in hun eigen tempo werken?",
                           answers={"doelgroep": "eerstejaars"})
    resp = connector.get(f"/schakelaar/intake/{iid}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    for text in ("Intakebrief: vraag", "De vraag", "Algemener gesteld", "Concepten", "Nog open: vragen om te stellen",
                 "Matches", "Checklist voor het intakegesprek", "Gedeeld doel", "Verwachte inzet",
                 "Facilitering in uren door het bestuur", "Afspraken over tussentijds instappen in een themagroep",
                 "Notities", "eerstejaars", 'href="/schakelaar/intake/%d/brief.md"' % iid,
                 'href="/schakelaar/intake/%d/brief.pdf"' % iid):
        assert text in html, text
    # the brief re-runs the match: a match title and its reason are on the page
    assert "Waarom:" in html
    assert "Kennisclips" in html or "kennisclips" in html
    # facets still open come with the question to ask (the question names no ict tool timeline, no level)
    assert "Op welke termijn wil je hiermee aan de slag?" in html


def test_brief_of_missing_intake_is_404(connector):
    assert connector.get("/schakelaar/intake/999").status_code == 404
    assert connector.get("/schakelaar/intake/999/brief.md").status_code == 404


def test_brief_survives_a_question_that_cannot_be_matched(connector, store):
    iid = store.add_intake("?!? 123")  # a follow-up request stores the question without matching it
    html = connector.get(f"/schakelaar/intake/{iid}").get_data(as_text=True)
    assert "Schakel kon deze vraag niet opnieuw zoeken" in html
    assert connector.get(f"/schakelaar/intake/{iid}/brief.pdf").status_code == 200


def test_notes_are_added_with_author_and_date(connector, store, csrf):
    iid = store.add_intake("Hoe zet ik video in bij eerstejaars?")
    resp = connector.post(f"/schakelaar/intake/{iid}/notitie", data={"csrf_token": csrf,
                                                                    "text": "Gebeld; <b>terugbellen</b> dinsdag."})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/schakelaar/intake/{iid}#notities")
    note = store.intake(iid)["notes"][0]
    assert note["author"] == "anna" and note["text"] == "Gebeld; <b>terugbellen</b> dinsdag."
    html = connector.get(f"/schakelaar/intake/{iid}").get_data(as_text=True)
    assert "Gebeld; &lt;b&gt;terugbellen&lt;/b&gt; dinsdag." in html and "<b>terugbellen" not in html
    assert "<strong>anna</strong>" in html and f'datetime="{note["created"]}"' in html
    md = connector.get(f"/schakelaar/intake/{iid}/brief.md").get_data(as_text=True)
    assert "anna: Gebeld; \\<b\\>terugbellen\\</b\\> dinsdag." in md


def test_empty_note_is_refused_on_the_page(connector, store, csrf):
    iid = store.add_intake("Hoe zet ik video in bij eerstejaars?")
    resp = connector.post(f"/schakelaar/intake/{iid}/notitie", data={"csrf_token": csrf, "text": "   "})
    assert resp.status_code == 400
    assert "een lege notitie wordt niet bewaard" in resp.get_data(as_text=True)
    assert store.intake(iid)["notes"] == []


def test_status_change(connector, store, csrf):
    iid = store.add_intake("Hoe zet ik video in bij eerstejaars?")
    resp = connector.post(f"/schakelaar/intake/{iid}/status", data={"csrf_token": csrf, "status": "in behandeling"})
    assert resp.status_code == 303
    assert store.intake(iid)["status"] == "in behandeling"
    assert connector.post(f"/schakelaar/intake/{iid}/status",
                          data={"csrf_token": csrf, "status": "weggegooid"}).status_code == 400
    assert store.intake(iid)["status"] == "in behandeling"
    html = connector.get(f"/schakelaar/intake/{iid}").get_data(as_text=True)
    assert '<option value="in behandeling" selected>' in html


def test_markdown_download(connector, store):
    iid = store.add_intake("Hoe zet ik kennisclips in voor eerstejaars?")
    store.add_followup(iid, "geheim@example.org", "Piet")
    resp = connector.get(f"/schakelaar/intake/{iid}/brief.md")
    assert resp.status_code == 200
    assert resp.mimetype == "text/markdown" and resp.mimetype_params.get("charset") == "utf-8"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="intakebrief-{iid}.md"'
    md = resp.get_data(as_text=True)
    assert md.startswith(f"# Intakebrief: vraag {iid}")
    for text in ("## De vraag", "## Algemener gesteld", "## Concepten", "## Nog open", "## Matches",
                 "- [ ] **Gedeeld doel**", "**Facilitering in uren door het bestuur**", "## Notities",
                 "Waarom:"):
        assert text in md, text
    assert "geheim@example.org" not in md  # contact details stay in Schakel


def test_pdf_download(connector, store):
    from pypdf import PdfReader

    iid = store.add_intake("Hoe zet ik kennisclips in voor eerstejaars? Ëën café – “test”")
    resp = connector.get(f"/schakelaar/intake/{iid}/brief.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="intakebrief-{iid}.pdf"'
    assert resp.data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    flat = " ".join(text.split())
    assert f"Intakebrief: vraag {iid}" in flat
    assert "Checklist voor het intakegesprek" in flat and "Gedeeld doel" in flat
    assert "Ëën café" in flat


def test_pdf_is_tagged_pdf_ua_with_page_numbers_and_no_longer_than_needed(connector, store):
    """PDF/UA-1: marked, structure tree with headings and lists, language, title shown, the PDF/UA id in the
    XMP metadata; every page says "pagina N van M"; a short brief fits on few pages."""
    from pypdf import PdfReader

    iid = store.add_intake("Hoe zet ik kennisclips in voor eerstejaars?")
    store.add_note(iid, "anna", "Gebeld.")
    data = connector.get(f"/schakelaar/intake/{iid}/brief.pdf").data
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and str(root["/Lang"]) == "nl"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title == f"Intakebrief vraag {iid}"
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()
    tags = set()

    def walk(node):
        node = node.get_object()
        if isinstance(node, dict) and "/S" in node:
            tags.add(str(node["/S"]))
        kids = node.get("/K") if isinstance(node, dict) else None
        for kid in kids if isinstance(kids, list) else ([kids] if kids is not None else []):
            if hasattr(kid, "get_object") or isinstance(kid, dict):
                walk(kid)

    walk(root["/StructTreeRoot"])
    assert {"/Document", "/H1", "/H2", "/P", "/L", "/LI"} <= tags, tags
    n = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        assert f"pagina {number} van {n}" in page.extract_text()
    assert n <= 4, f"a short brief takes {n} pages"


# --- hostile text ---------------------------------------------------------------

def test_xss_in_the_question_is_inert_everywhere(connector, store):
    iid = store.add_intake(XSS_QUESTION)
    html = connector.get(f"/schakelaar/intake/{iid}").get_data(as_text=True)
    assert "<script>alert('vraag')" not in html
    assert "&lt;script&gt;alert(&#39;vraag&#39;)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    inbox = connector.get("/schakelaar/").get_data(as_text=True)
    assert "<script>alert" not in inbox and "&lt;script&gt;alert(&#39;vraag&#39;)" in inbox

    md = connector.get(f"/schakelaar/intake/{iid}/brief.md").get_data(as_text=True)
    _assert_plain_md(md)
    assert "\\<script\\>alert\\('vraag'\\)\\</script\\>" in md
    assert "\\[klik\\]\\(javascript:alert\\(1\\)\\)" in md

    pdf = connector.get(f"/schakelaar/intake/{iid}/brief.pdf").data
    _assert_plain_pdf(pdf, "<script>alert('vraag')</script>")


def _assert_plain_md(md: str) -> None:
    """No character a Markdown renderer would turn into HTML or a link is left unescaped."""
    assert not re.search(r"(?<!\\)[<>]", md.replace("\n> ", "\n")), "unescaped < or > in the Markdown"
    assert not re.search(r"(?<!\\)\]\(", md), "a Markdown link survived"


def _assert_plain_pdf(data: bytes, literal: str) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    text = " ".join("\n".join(p.extract_text() for p in reader.pages).split())
    assert literal in text  # shown as the characters it is
    for page in reader.pages:
        assert "/Annots" not in page  # no links, no actions
    for action in (b"/JavaScript", b"/JS", b"/URI", b"/Launch", b"/Annots", b"/AA", b"/SubmitForm"):
        assert action not in data, action  # (fpdf2's /OpenAction only sets the opening zoom)


def test_xss_in_a_corpus_file_is_inert_everywhere(evil_engine, tmp_path, login):
    app = make_web_app(evil_engine, tmp_path / "evil-web")
    client = app.test_client()
    login(client, "connector")
    iid = app.extensions["schakel"].store.add_intake(EVIL_QUESTION)
    html = client.get(f"/schakelaar/intake/{iid}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(&#39;naam&#39;)&gt; Chatbotkenner" in html, "the evil expert should match"
    assert "<img src=x" not in html and "<script>alert('org')" not in html
    assert 'href="javascript:' not in html

    md = client.get(f"/schakelaar/intake/{iid}/brief.md").get_data(as_text=True)
    assert "\\<img src=x onerror=alert\\('naam'\\)\\> Chatbotkenner" in md
    _assert_plain_md(md)

    pdf = client.get(f"/schakelaar/intake/{iid}/brief.pdf").data
    _assert_plain_pdf(pdf, "<img src=x onerror=alert('naam')> Chatbotkenner")

    # the participant's result page and the directory escape it too
    page = client.get("/wie-weet-wat").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(&#39;naam&#39;)&gt; Chatbotkenner" in page and "<img src=x" not in page
    assert 'href="javascript:' not in page
    with client.session_transaction() as s:
        token = s["_csrf"]
    res = client.post("/vraag", data={"csrf_token": token, "question": EVIL_QUESTION, "step": "answered"})
    page = res.get_data(as_text=True)
    assert "Chatbotkenner" in page and "<img src=x" not in page and "<script>alert" not in page
    assert 'href="javascript:' not in page


def test_html_markdown_and_pdf_carry_the_same_brief(connector, store, web_app):
    from pypdf import PdfReader

    from web.brief import build_brief

    iid = store.add_intake("Hoe zet ik kennisclips in zodat studenten in hun eigen tempo werken bij ROC Rijn IJssel?")
    store.add_note(iid, "anna", "Eerste gesprek gepland.")
    with web_app.app_context():
        brief = build_brief(web_app.extensions["schakel"].engine, store.intake(iid))
    assert brief.match_count > 5 and brief.open_facets
    html = connector.get(f"/schakelaar/intake/{iid}").get_data(as_text=True)
    md = connector.get(f"/schakelaar/intake/{iid}/brief.md").get_data(as_text=True)
    pdf = connector.get(f"/schakelaar/intake/{iid}/brief.pdf").data
    pdf_text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    from markupsafe import escape

    from web.brief_render import md as md_escape

    expected = [m.title for _, _, ms in brief.matches for m in ms] + [f.question for f in brief.open_facets] + \
        [label for _, label, _ in brief.checklist] + [brief.general, "Eerste gesprek gepland."] + list(brief.dropped)
    for text in expected:
        assert str(escape(text)) in html, text
        assert md_escape(text) in md, text
        # a line may break after a hyphen ("mbo-" / "opleiding"): compare without that break
        assert " ".join(text.split()).replace("- ", "-") in pdf_text.replace("- ", "-"), text


def test_earlier_consented_questions_show_to_connectors_only(connector, store, web_app):
    """Similar stored intakes are in the connector's brief (with a link), never in the downloads."""
    earlier = store.add_intake("Hoe maak ik kennisclips voor eerstejaars? Mail me op a@b.nl", concepts=["kennisclips"])
    store.add_intake("Iets heel anders over roosters", concepts=["roostering"])
    similar = store.similar_intakes("Hoe lang mag een kennisclip zijn?", ["kennisclips", "flipped classroom"])
    assert [s["question"] for s in similar] == ["Hoe maak ik kennisclips voor eerstejaars? Mail me op "
                                                "[e-mailadres verwijderd]"]
    iid = store.add_intake("Hoe lang mag een kennisclip zijn voor studenten?", concepts=["kennisclips"])
    html = connector.get(f"/schakelaar/intake/{iid}").get_data(as_text=True)
    assert "Vergelijkbare eerdere vragen" in html and f'href="/schakelaar/intake/{earlier}"' in html
    md = connector.get(f"/schakelaar/intake/{iid}/brief.md").get_data(as_text=True)
    assert "Mail me op" not in md


def test_status_notes_and_checklist_are_saved_with_a_confirmation(connector, store, csrf):
    iid = store.add_intake("Hoe zet ik video in bij eerstejaars?")
    res = connector.post(f"/schakelaar/intake/{iid}/status", data={"csrf_token": csrf, "status": "in behandeling"})
    assert res.status_code == 303 and res.headers["Location"].endswith("#status")
    page = connector.get(f"/schakelaar/intake/{iid}").get_data(as_text=True)
    assert page.index("De status is opgeslagen: in behandeling.") < page.index('id="vraag"')  # at the top
    connector.post(f"/schakelaar/intake/{iid}/notitie", data={"csrf_token": csrf, "text": "Eerste versie"})
    note = store.intake(iid)["notes"][0]
    res = connector.post(f"/schakelaar/intake/{iid}/notitie/{note['id']}", data={"csrf_token": csrf,
                                                                                 "text": "Tweede versie"})
    assert res.headers["Location"].endswith(f"#notitie-{note['id']}")
    page = connector.get(f"/schakelaar/intake/{iid}").get_data(as_text=True)
    notes = page.split('id="notities"', 1)[1]
    assert "De notitie is gewijzigd." in notes and "Tweede versie" in notes and "Eerste versie" not in notes
    connector.post(f"/schakelaar/intake/{iid}/notitie/{note['id']}", data={"csrf_token": csrf, "text": "x",
                                                                           "delete": "ja"})
    assert store.intake(iid)["notes"] == []
    other = store.add_intake("Een andere vraag")
    assert connector.post(f"/schakelaar/intake/{other}/notitie/{note['id']}",
                          data={"csrf_token": csrf, "text": "x"}).status_code == 404
    connector.post(f"/schakelaar/intake/{iid}/checklist", data={"csrf_token": csrf,
                                                                "item": ["gedeeld doel", "facilitering", "onzin"]})
    assert store.intake(iid)["checklist"] == ["facilitering", "gedeeld doel"]
    page = connector.get(f"/schakelaar/intake/{iid}").get_data(as_text=True)
    assert "De checklist is opgeslagen (2 van 4 afgevinkt)." in page
    assert re.search(r'value="gedeeld doel" checked', page)
    md = connector.get(f"/schakelaar/intake/{iid}/brief.md").get_data(as_text=True)
    assert "- [x] **Gedeeld doel**" in md and "- [ ] **Verwachte inzet**" in md


def test_inbox_puts_open_follow_up_requests_first(connector, store):
    a = store.add_intake("Vraag zonder opvolging")
    b = store.add_intake("Vraag met opvolging")
    c = store.add_intake("Nieuwste vraag zonder opvolging")
    store.add_followup(b, "docent@example.org")
    html = connector.get("/schakelaar/").get_data(as_text=True)
    order = [int(n) for n in re.findall(r'href="/schakelaar/intake/(\d+)"', html)]
    assert order == [b, c, a]


def test_markdown_lists_render_as_lists():
    """Every match line, fact and checklist item is a list item (no lazy continuation lines)."""
    from web.brief import Brief, BriefMatch
    from web.brief_render import to_markdown

    brief = Brief(intake_id=1, created="2024-05-03T12:00:00+00:00", status="nieuw", question="Vraag?", general="Alg?",
                  answers=[], ladder=[], concepts=[("Onderwerp", "kennisclips")], dropped=[], open_facets=[],
                  organisation=["Welke afspraken?"], similar=[],
                  matches=[("expert", "Experts", [BriefMatch("e", "expert", "Naam", "Gaat over x", meta=["rol"])])],
                  notices=[])
    md = to_markdown(brief)
    block = md.split("### Experts (1)", 1)[1].split("##", 1)[0].strip().splitlines()
    assert block == ["1. **Naam**", "    - rol", "    - Waarom: Gaat over x"]
