"""The three journeys in a real browser (Debian's Chromium via Playwright), with axe-core on every page.

The app runs under waitress on 127.0.0.1 (a free port) over the demo index and
the test embedder. Screenshots go to a tmp folder, and also to
$SCHAKEL_SCREENSHOTS when that is set. Skipped, with the reason, when Playwright
or Chromium is not installed.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from conftest import make_web_app

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
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{srv.effective_port}", "app": app, "store": store}
    srv.close()


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


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL", accept_downloads=True)
    p = context.new_page()
    p.set_default_timeout(10_000)
    errors: list[str] = []
    p.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield p
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors  # nothing tried to run inline


def check(page, name: str, shots) -> None:
    """Screenshot the page and run axe: no serious or critical WCAG 2.1 A/AA violation."""
    for d in shots:
        page.screenshot(path=str(d / f"{name}.png"), full_page=True)
    results = axe_module.Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                                  "resultTypes": ["violations"]})
    violations = results.response["violations"]
    AXE_RESULTS[name] = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])} for v in violations]
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}" for v in bad)


def fits_a_phone(page, name: str, shots) -> None:
    """At 360 px wide nothing but wide tables (in their own scroll box) may scroll sideways."""
    size = page.viewport_size
    page.set_viewport_size({"width": 360, "height": 740})
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name}: the page scrolls sideways by {overflow}px on a phone"
        shots_dir = shots[-1]
        page.screenshot(path=str(shots_dir / f"{name}-telefoon.png"), full_page=False)
    finally:
        page.set_viewport_size(size)


def login(page, base: str, username: str) -> None:
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


def test_participant_journey(page, server, shots):
    base, store = server["url"], server["store"]
    page.goto(base + "/")
    assert page.locator("html").get_attribute("lang") == "nl"
    page.keyboard.press("Tab")  # the first stop is the skip link
    assert page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
    check(page, "01-vraag", shots)

    page.get_by_label("Je vraag").fill("Hoe zet ik video in?")
    page.get_by_label("Bewaar mijn vraag").check()
    page.get_by_role("button", name="Zoek hulp bij mijn vraag").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Je vraag is nog breed"
    check(page, "02-verheldering", shots)

    page.get_by_label("eerstejaars").check()
    page.get_by_role("button", name="Toon de resultaten").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Hulp bij je vraag"
    assert page.locator("article.match").count() > 3
    check(page, "03-resultaten", shots)
    fits_a_phone(page, "03-resultaten", shots)

    first = page.locator("article.match").first
    record_title = first.locator("h3").inner_text()
    first.get_by_role("button", name="Ja, nuttig").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Dank je"
    check(page, "03b-bedankt", shots)
    feedback = list(store.db.query("SELECT * FROM feedback"))
    assert feedback and feedback[-1]["useful"] == 1 and feedback[-1]["question"] == "Hoe zet ik video in?"
    assert record_title

    # back to the results without the browser's resend-form prompt, with the answers and the stored intake
    page.get_by_role("button", name="Terug naar je resultaten").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Hulp bij je vraag"
    page.get_by_label("Je e-mailadres").fill("docent@example.org")
    page.get_by_label("Ik geef toestemming").check()
    page.get_by_role("button", name="Vraag om opvolging").click()
    assert "Je verzoek is doorgestuurd" in page.locator("main").inner_text()
    followups = list(store.db.query("SELECT f.email, i.question FROM followups f JOIN intakes i "
                                    "ON i.id = f.intake_id ORDER BY f.id DESC LIMIT 1"))
    assert followups[0] == {"email": "docent@example.org", "question": "Hoe zet ik video in?"}

    page.goto(base + "/wie-weet-wat")
    assert page.get_by_role("heading", level=1).inner_text() == "Wie weet wat"
    check(page, "04-wie-weet-wat", shots)
    fits_a_phone(page, "04-wie-weet-wat", shots)
    page.get_by_label("Soort").select_option("themegroup")
    page.get_by_role("button", name="Filter", exact=True).click()
    assert "soort=themegroup" in page.url
    assert page.locator("section.kind-section h2").all_inner_texts()[0].startswith("Themagroepen")


def test_connector_journey(page, server, shots):
    base = server["url"]
    page.goto(base + "/schakelaar/")
    assert "/login?next=" in page.url
    check(page, "05-inloggen", shots)
    login(page, base, "anna")
    assert page.url == base + "/schakelaar/"
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"
    check(page, "06-inbox", shots)
    fits_a_phone(page, "06-inbox", shots)

    page.get_by_role("link", name=SEEDED_QUESTION).click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Intakebrief: vraag")
    main = page.locator("main").inner_text()
    for text in ("Gedeeld doel", "Facilitering in uren door het bestuur", "docent@example.org", "Nog open"):
        assert text in main, text
    check(page, "07-intakebrief", shots)
    fits_a_phone(page, "07-intakebrief", shots)

    page.get_by_label("Nieuwe notitie").fill("Gebeld; vervolgafspraak dinsdag.")
    page.get_by_role("button", name="Notitie toevoegen").click()
    notes = page.locator("ul.notes").inner_text()
    assert "Gebeld; vervolgafspraak dinsdag." in notes and "anna" in notes
    page.get_by_label("Status van deze vraag").select_option("in behandeling")
    page.get_by_role("button", name="Status opslaan").click()
    assert "in behandeling" in page.locator("p.meta").first.inner_text()

    with page.expect_download() as info:
        page.get_by_role("link", name="Download als Markdown (.md)").click()
    download = info.value
    assert download.suggested_filename.startswith("intakebrief-") and download.suggested_filename.endswith(".md")
    text = Path(download.path()).read_text("utf-8")
    assert text.startswith("# Intakebrief: vraag") and "Gebeld; vervolgafspraak dinsdag." in text
    assert "- Status: in behandeling" in text

    page.emulate_media(media="print")  # the printable brief: no forms, no navigation
    for d in shots:
        page.screenshot(path=str(d / "07b-intakebrief-afdruk.png"), full_page=True)
    assert not page.locator("form.note-form").is_visible() and not page.locator("header.site-header").is_visible()


def test_tussenring_journey(page, server, shots):
    base = server["url"]
    page.goto(base + "/login")
    login(page, base, "ring")
    assert page.url == base + "/tussenring/"
    assert page.get_by_role("heading", level=1).inner_text() == "Blinde vlekken in het netwerk"
    img = page.locator("figure.heatmap img")
    assert img.get_attribute("alt")
    assert page.evaluate("document.querySelector('figure.heatmap img').naturalWidth") > 0  # the SVG loaded
    check(page, "08-tussenring", shots)
    fits_a_phone(page, "08-tussenring", shots)

    with page.expect_download() as info:
        page.get_by_role("link", name="Download de dekking als CSV").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    assert len(rows) > 1 and rows[0][:2] == ["id", "label"]
    for row in rows:
        assert not any(c.startswith(("=", "+", "-", "@")) for c in row)
