"""Privacy: a consented (stored) question never appears on another visitor's page; the privacy page lists every
use of stored data, the retention and the contact for access or deletion."""
from __future__ import annotations

import re

STORED = "Hoe zet ik kennisclips in zodat mijn eerstejaars van ROC Geheim in hun eigen tempo werken? Mail me op x@y.nl"


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _ask(client, question: str, **extra):
    token = _token(client.get("/").get_data(as_text=True))
    return client.post("/vraag", data={"csrf_token": token, "question": question, "step": "answered", **extra})


def test_a_consented_question_never_appears_on_another_visitors_page(web_app):
    first = web_app.test_client()
    assert _ask(first, STORED, consent="ja").status_code == 200
    store = web_app.extensions["schakel"].store
    assert len(store.intakes()) == 1 and store.intakes()[0]["concepts"] != "[]"  # stored, with its concepts

    other = web_app.test_client()  # another visitor, own session
    for question in ("Hoe zet ik kennisclips in zodat eerstejaars in hun eigen tempo werken?",
                     "kennisclips eigen tempo eerstejaars", "Hoe maak ik kennisclips voor ROC studenten?"):
        for step in ("answered", "ask"):
            page = _ask(other, question, step=step).get_data(as_text=True)
            assert "ROC Geheim" not in page and "Mail me op" not in page
            assert "eerdere vraag" not in page
    # the public pages and the JSON API never show it either
    token = _token(other.get("/").get_data(as_text=True))
    for path in ("/", "/wie-weet-wat", "/privacy"):
        assert "ROC Geheim" not in other.get(path).get_data(as_text=True)
    body = other.post("/api/match", json={"question": "kennisclips in eigen tempo voor eerstejaars"}).get_json()
    assert "ROC Geheim" not in str(body)
    assert all(s.get("source") == "kennisrotonde" for s in body["general"]["similar"])
    assert token


def test_engine_has_no_hook_for_stored_questions(web_app):
    engine = web_app.extensions["schakel"].engine
    assert not hasattr(engine, "similar_sources")


def test_privacy_page_lists_uses_retention_and_contact(demo_engine, tmp_path):
    from conftest import make_web_app

    app = make_web_app(demo_engine, tmp_path / "privacy-home", PRIVACY_CONTACT="privacy@schakel.example",
                       RETENTION_DAYS=90)
    html = app.test_client().get("/privacy").get_data(as_text=True)
    for use in ("intakegesprek", "tussenring", "blinde vlekken", "contact met je op te nemen", "opvolging",
                "verbeteren", "rekenkundige weergave"):
        assert use in html, use
    assert "Na 90 dagen" in html
    assert 'href="mailto:privacy@schakel.example"' in html
    assert "nooit op openbare pagina" in html.lower()


def test_one_place_stores_an_intake():
    """The page view, the follow-up form and the API all store through web.intakes.store_intake."""
    from pathlib import Path

    web = Path(__file__).resolve().parent.parent / "web"
    callers = [p.name for p in web.glob("*.py") if "add_intake(" in p.read_text("utf-8")]
    assert sorted(callers) == ["intakes.py", "store.py"], callers
