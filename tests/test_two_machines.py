"""Two app instances ("machines", each with its own home) sharing one PostgreSQL database: a question
stored through one is in the other's connector inbox, and a login on one is valid on the other."""
from __future__ import annotations

from conftest import CSRF, make_web_app

QUESTION = "Hoe zet ik kennisclips in zodat studenten in hun eigen tempo werken?"


def test_an_intake_made_through_one_machine_is_in_the_others_inbox(demo_engine, tmp_path, fresh_postgres, login):
    a = make_web_app(demo_engine, tmp_path / "machine-a", DATABASE_URL=fresh_postgres)
    b = make_web_app(demo_engine, tmp_path / "machine-b", DATABASE_URL=fresh_postgres)
    participant = a.test_client()
    with participant.session_transaction() as s:
        s["_csrf"] = CSRF
    resp = participant.post("/opvolging", data={"csrf_token": CSRF, "question": QUESTION, "consent-followup": "ja",
                                                "email": "deelnemer@example.org"})
    assert resp.status_code == 200
    connector = b.test_client()
    login(connector, "connector")
    inbox = connector.get("/schakelaar/")
    assert inbox.status_code == 200 and "kennisclips" in inbox.get_data(as_text=True)
    assert not (tmp_path / "machine-a" / "app.db").exists() and not (tmp_path / "machine-b" / "app.db").exists()
