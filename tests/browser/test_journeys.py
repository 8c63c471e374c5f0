"""The three journeys in a real browser (Debian's Chromium via Playwright), at 1280 and 390 pixels wide,
with axe-core (WCAG 2.1 A/AA) on every page: no violation of any impact.

The app runs under waitress on 127.0.0.1 (a free port) over the demo index and
the test embedder. Screenshots (full page) go to a tmp folder, and also to
$SCHAKEL_SCREENSHOTS when that is set (``make screenshots`` sets it to
bench/out/screenshots). Skipped, with the reason, when Playwright or Chromium is
not installed.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import make_web_app
from servers import serve_in_thread

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("SCHAKEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PASSWORD = "een lang wachtwoord"
SEEDED_QUESTION = "Hoe zet ik kennisclips in zodat eerstejaars in hun eigen tempo werken?"

sync_api = pytest.importorskip("playwright.sync_api", reason="the 'playwright' package is not installed "
                                                             "(pip install playwright)")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright",
                                 reason="the 'axe-playwright-python' package is not installed")
if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

AXE_RESULTS: dict[str, list[dict]] = {}


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    dirs = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("SCHAKEL_SCREENSHOTS"):
        extra = Path(os.environ["SCHAKEL_SCREENSHOTS"])
        extra.mkdir(parents=True, exist_ok=True)
        dirs.append(extra)
    yield dirs
    for d in dirs[1:]:
        (d / "axe.json").write_text(json.dumps(AXE_RESULTS, indent=2, ensure_ascii=False), "utf-8")


@pytest.fixture(scope="module")
def server(demo_engine, tmp_path_factory):
    from waitress.server import create_server

    app = make_web_app(demo_engine, tmp_path_factory.mktemp("browser-home"), SECURE_COOKIES=False)
    store = app.extensions["schakel"].store
    store.add_user("anna", PASSWORD, "connector")
    store.add_user("ring", PASSWORD, "tussenring")
    iid = store.add_intake(SEEDED_QUESTION, answers={"niveau": "ons team"})
    store.add_followup(iid, "docent@example.org", "Docent", "Graag een gesprek.")
    srv = create_server(app, host="127.0.0.1", port=0, threads=4, ident="schakel-test")
    stop = serve_in_thread(srv)
    yield {"url": f"http://127.0.0.1:{srv.effective_port}", "app": app, "store": store}
    stop()


@pytest.fixture(scope="module")
def browser():
    pw = sync_api.sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # a broken Chromium install is an environment problem, not a test failure
        pw.stop()
        pytest.skip(f"Chromium at {CHROMIUM} does not start under Playwright: {exc}")
    yield b
    b.close()
    pw.stop()


WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}


@pytest.fixture(params=list(WIDTHS))
def page(browser, request):
    context = browser.new_context(viewport=WIDTHS[request.param], locale="nl-NL", accept_downloads=True)
    p = context.new_page()
    p.set_default_timeout(10_000)
    p.width = request.param
    errors: list[str] = []
    p.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield p
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors  # nothing tried to run inline


def check(page, name: str, shots) -> None:
    """Screenshot the whole page (name-WIDTH.png), run axe (no WCAG 2.1 A/AA violation of any impact) and check
    that nothing but a table in its own scroll box scrolls sideways."""
    name = f"{name}-{page.width}"
    for d in shots:
        page.screenshot(path=str(d / f"{name}.png"), full_page=True)
    results = axe_module.Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                                  "resultTypes": ["violations"]})
    violations = results.response["violations"]
    AXE_RESULTS[name] = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])} for v in violations]
    assert not violations, f"{name}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}" for v in violations)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{name}: the page scrolls sideways by {overflow}px"


def login(page, base: str, username: str) -> None:
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


def h1(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def test_participant_journey(page, server, shots):
    base, store = server["url"], server["store"]
    page.goto(base + "/")
    assert page.locator("html").get_attribute("lang") == "nl"
    page.keyboard.press("Tab")  # the first stop is the skip link
    assert page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
    check(page, "01-vraag", shots)

    question = {"1280": "Hoe zet ik video in?", "390": "Hoe gebruik ik video?"}[page.width]
    page.get_by_label("Je vraag").fill(question)
    page.get_by_label("Bewaar mijn vraag").check()
    page.get_by_role("button", name="Zoek hulp bij mijn vraag").click()
    assert h1(page) == "Je vraag is nog breed"
    check(page, "02-verheldering", shots)
    page.get_by_label("eerstejaars").check()
    page.get_by_role("button", name="Toon de resultaten").click()

    # results: the best answer first, at most three per kind, "meer tonen" works without JavaScript
    assert h1(page) == "Hulp bij je vraag"
    assert page.locator("section.best article.match").count() == 1
    for section in page.locator("section.kind-section").all():
        assert section.locator(":scope > article.match").count() <= 3
    assert "Doelgroep: eerstejaars" in page.locator("form.given-answers").inner_text()
    main = page.locator("main").inner_text()
    assert "Trefwoorden:" not in main and ".md" not in main and "exp-" not in main and "tg-" not in main
    check(page, "03-resultaten", shots)
    # the general question and ladder come before the matches; a phone shows passages folded to their start
    assert page.locator("section.general").bounding_box()["y"] < page.locator("section.best").bounding_box()["y"]
    wide, fold = page.locator("article.match .passage-wide").first, page.locator("details.passage-fold").first
    if fold.count():
        assert (wide.is_visible(), fold.is_visible()) == ((False, True) if page.width == "390" else (True, False))
        if page.width == "390":
            fold.locator(":scope > summary").click()
            assert fold.locator("blockquote.passage").is_visible()
            assert fold.locator("blockquote.passage").inner_text() == wide.inner_text()
    more = page.locator("details.more-matches").first
    if more.count():
        more.locator(":scope > summary").click()
        assert more.locator("article.match").first.is_visible()

    # every expert and group card says how to reach them, or offers the follow-up right there
    for card in page.locator("article.match-expert, article.match-themegroup").all():
        assert card.locator("p.contact, details.card-followup").count() >= 1, card.inner_text()

    # change an answer: "geen voorkeur" undoes it, an own-words answer is used
    page.get_by_role("button", name="Wijzig je antwoorden").click()
    assert h1(page) == "Wijzig je antwoorden"
    assert page.get_by_label("eerstejaars").is_checked()
    page.get_by_label("Geen voorkeur").first.check()
    page.get_by_label("Of in je eigen woorden", exact=False).first.fill("bbl-studenten in de zorg")
    check(page, "02b-antwoorden-wijzigen", shots)
    page.get_by_role("button", name="Toon de resultaten").click()
    assert "bbl-studenten in de zorg" in page.locator("form.given-answers").inner_text()
    assert "eerstejaars" not in page.locator("form.given-answers").inner_text()

    # feedback returns to the same match, with one thank-you
    first = page.locator("section.kind-section article.match").first
    anchor = first.get_attribute("id")
    first.get_by_role("button", name="Ja, nuttig").click()
    # ... at its thank-you line, in sight (was the card's top: on a long card the line was below the fold)
    assert page.url.endswith(f"#fb-{anchor}") and h1(page) == "Hulp bij je vraag"
    assert page.get_by_text("Dank je").count() == 1
    thanks = page.locator(f"#{anchor} .success")
    assert thanks.is_visible() and thanks.get_attribute("id") == f"fb-{anchor}"
    box, height = thanks.bounding_box(), page.evaluate("window.innerHeight")
    assert 0 <= box["y"] and box["y"] + box["height"] <= height, (box, height)
    check(page, "03b-na-oordeel", shots)
    assert store.db.query("SELECT useful FROM feedback ORDER BY id DESC LIMIT 1")[0]["useful"] == 1

    # the ladder: each level its own question, no label twice
    steps = page.locator(".ladder-step")
    texts = steps.all_inner_texts()
    assert len(set(texts)) == len(texts)
    if steps.count() > 2:
        wanted = steps.nth(2).locator(".ladder-text").inner_text()
        steps.nth(2).click()
        assert page.locator(".ladder-step.is-current .ladder-text").inner_text() == wanted
        assert page.locator(".general-question").inner_text() == wanted  # the level's own general question

    # a follow-up with a typing error keeps what was typed; then the confirmation with a reference
    page.locator("#email").fill("docent-at-example.org")
    page.get_by_label("Wat wil je nog kwijt?").fill("Graag een gesprek over video.")
    page.get_by_label("Ik geef toestemming").check()
    page.get_by_role("button", name="Vraag om opvolging").click()
    assert "Vul een geldig e-mailadres in" in page.locator("main").inner_text()
    assert page.get_by_label("Wat wil je nog kwijt?").input_value() == "Graag een gesprek over video."
    check(page, "03c-opvolging-fout", shots)
    page.locator("#email").fill("docent@example.org")
    page.get_by_label("Ik geef toestemming").check()
    page.get_by_role("button", name="Vraag om opvolging").click()
    assert h1(page) == "Je verzoek is ontvangen"
    assert re.search(r"OPV-\d+", page.locator("main").inner_text())
    check(page, "03d-opvolging-ontvangen", shots)
    followups = list(store.db.query("SELECT f.email, i.question FROM followups f JOIN intakes i "
                                    "ON i.id = f.intake_id ORDER BY f.id DESC LIMIT 1"))
    assert followups[0] == {"email": "docent@example.org", "question": question}
    page.get_by_role("button", name="Terug naar je resultaten").click()
    assert h1(page) == "Hulp bij je vraag"
    assert len([r for r in store.intakes() if r["question"] == question]) == 1  # stored once

    page.goto(base + "/wie-weet-wat")
    assert h1(page) == "Wie weet wat"
    check(page, "04-wie-weet-wat", shots)
    page.get_by_label("Soort").select_option("themegroup")
    page.get_by_role("button", name="Filter", exact=True).click()
    assert "soort=themegroup" in page.url

    page.goto(base + "/privacy")
    check(page, "04b-privacy", shots)
    page.goto(base + "/bestaat-niet")
    assert h1(page) == "Deze pagina bestaat niet."
    check(page, "04c-fout-404", shots)


def test_connector_journey(page, server, shots):
    base = server["url"]
    page.goto(base + "/schakelaar/")
    assert "/login?next=" in page.url
    check(page, "05-inloggen", shots)
    login(page, base, "anna")
    assert page.url == base + "/schakelaar/"
    assert h1(page) == "Inbox"
    first = page.locator(".inbox-item").first
    assert "has-followup" in first.get_attribute("class")  # follow-up requests first
    check(page, "06-inbox", shots)

    page.get_by_role("link", name=SEEDED_QUESTION).click()
    assert h1(page).startswith("Intakebrief: vraag")
    main = page.locator("main").inner_text()
    for text in ("Gedeeld doel", "Facilitering in uren door het bestuur", "docent@example.org", "Nog open",
                 "Organisatievragen"):
        assert text in main, text
    check(page, "07-intakebrief", shots)

    # the status control is at the top; saving confirms
    page.get_by_label("Status van deze vraag").select_option("in behandeling")
    page.get_by_role("button", name="Status opslaan").click()
    assert "De status is opgeslagen: in behandeling." in page.locator("div.success").inner_text()
    assert page.get_by_label("Status van deze vraag").input_value() == "in behandeling"

    note = f"Gebeld; vervolgafspraak dinsdag, scherm {page.width}."
    page.get_by_label("Nieuwe notitie").fill(note)
    page.get_by_role("button", name="Notitie toevoegen").click()
    assert "Je notitie is opgeslagen." in page.locator("div.success").inner_text()
    item = page.locator("ul.notes li", has_text=note)
    item.locator("summary").click()
    item.get_by_label("Tekst van de notitie").fill(note + " Gewijzigd.")
    item.get_by_role("button", name="Wijziging opslaan").click()
    assert "De notitie is gewijzigd." in page.locator("div.success").inner_text()
    assert note + " Gewijzigd." in page.locator("ul.notes").inner_text()

    page.get_by_label("Gedeeld doel").check()
    page.get_by_role("button", name="Checklist opslaan").click()
    assert "1 van 4 afgevinkt" in page.locator("div.success").inner_text()
    assert page.get_by_label("Gedeeld doel").is_checked()
    check(page, "07b-intakebrief-opgeslagen", shots)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download als Markdown (.md)").click()
    text = Path(info.value.path()).read_text("utf-8")
    assert text.startswith("# Intakebrief: vraag") and note in text and "- Status: in behandeling" in text
    assert "- [x] **Gedeeld doel**" in text

    page.emulate_media(media="print")  # the printable brief: no forms, no navigation
    for d in shots:
        page.screenshot(path=str(d / f"07c-intakebrief-afdruk-{page.width}.png"), full_page=True)
    assert not page.locator("form.note-form").is_visible() and not page.locator("header.site-header").is_visible()
    page.emulate_media(media="screen")

    item = page.locator("ul.notes li", has_text=note)
    item.locator("summary").click()
    item.get_by_role("button", name="Notitie verwijderen").click()
    assert "De notitie is verwijderd." in page.locator("div.success").inner_text()
    assert note not in page.locator("main").inner_text()


def test_tussenring_journey(page, server, shots):
    base = server["url"]
    page.goto(base + "/login")
    login(page, base, "ring")
    assert page.url == base + "/tussenring/"
    assert h1(page) == "Blinde vlekken in het netwerk"
    check(page, "08-tussenring", shots)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download de dekking als CSV").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    raw = Path(download.path()).read_bytes()
    assert raw.startswith("\ufeff".encode("utf-8"))  # Excel reads UTF-8 with a BOM
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) > 1 and rows[0][0] == "Onderwerp" and all(len(r) == len(rows[0]) for r in rows)
    for row in rows:
        assert not any(c.startswith(("=", "+", "-", "@")) for c in row)
