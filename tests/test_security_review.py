"""The points of the OWASP ASVS review (issue 16): denial of service through one field, sessions,
participants' data, accounts, and id range checks. Each test failed before the fix."""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import CSRF, make_web_app

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
QUESTION = "Hoe zet ik kennisclips in voor eerstejaars?"
MB = 1_000_000  # one field of 1 MB: the body stays under the 1 MiB body limit


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _store(app):
    return app.extensions["schakel"].store


def _age(store, table, row_id, days):
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)).replace(microsecond=0).isoformat()
    store.db[table].update(row_id, {"created": old})


# --- denial of service from one field ------------------------------------------------------------

HOSTILE = {  # shapes that made the old e-mail pattern quadratic, and phone-number-dense text
    "word characters": "a" * 200_000,
    "at signs": "a@" * 100_000,
    "dotted words": "a.b" * 70_000,
    "digits": "1" * 200_000,
    "phone numbers": "06-12345678 " * 17_000,
    "addresses": "jan@school.nl " * 15_000,
}


def _best_time(fn, text: str, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.parametrize("shape", HOSTILE)
def test_scrub_is_linear_on_hostile_text(shape):
    """Four times the text may take about four times as long, not sixteen (a quadratic pattern): a
    ratio within one run, so a busy machine does not fail it."""
    from web.store import scrub

    text = HOSTILE[shape]
    quarter = text[:len(text) // 4]
    ratio = _best_time(scrub, text) / max(_best_time(scrub, quarter), 1e-4)
    assert ratio < 9, f"scrub of 200 KB of {shape} took {ratio:.1f} x the time of 50 KB: not linear"
    out = scrub(text)
    assert "12345678" not in out and "jan@school.nl" not in out


def test_scrub_still_finds_addresses_and_numbers():
    from web.store import scrub

    text = ("Mail jan.de-vries+mbo@school.example.nl of bel 06-12345678, (020) 123 45 67, +31 (0)6 12345678, "
            "06.12.34.56.78 of +44 20 7946 0958. Schooljaar 2023-2024, 12 studenten.")
    out = scrub(text)
    assert out.count("[e-mailadres verwijderd]") == 1 and out.count("[telefoonnummer verwijderd]") == 5
    assert "2023-2024" in out and "12 studenten" in out


def _big_requests(record: str = "x"):
    a = "a" * MB
    return {
        "/api/feedback": lambda c: c.post("/api/feedback", json={"question": a, "record_id": record, "useful": True,
                                                                 "consent": True}),
        "/api/match": lambda c: c.post("/api/match", json={"question": QUESTION, "answers": {"doel": a}}),
        "/vraag": lambda c: c.post("/vraag", data={"csrf_token": CSRF, "question": QUESTION, "consent": "ja",
                                                   "step": "answered", "answer-doel-text": a}),
        "/feedback": lambda c: c.post("/feedback", data={"csrf_token": CSRF, "question": a, "useful": "ja",
                                                         "record_id": record, "consent": "ja"}),
        "/opvolging message": lambda c: c.post("/opvolging", data={
            "csrf_token": CSRF, "question": QUESTION, "email": "a@example.org", "consent-followup": "ja",
            "message": a}),
        "/opvolging question": lambda c: c.post("/opvolging", data={
            "csrf_token": CSRF, "question": a, "email": "a@example.org", "consent-followup": "ja"}),
    }


@pytest.mark.parametrize("route", list(_big_requests()))
def test_one_megabyte_field_is_refused_quickly_and_healthz_answers(web_app, anonymous_csrf, route):
    client = web_app.test_client()
    anonymous_csrf(client)
    client.get("/healthz")  # the index is loaded before timing
    record = next(iter(web_app.extensions["schakel"].engine.index().records))
    done: dict = {}

    def big():
        t0 = time.perf_counter()
        done["resp"] = _big_requests(record)[route](client)
        done["seconds"] = time.perf_counter() - t0

    worker = threading.Thread(target=big, daemon=True)
    worker.start()
    t0 = time.perf_counter()
    health = web_app.test_client().get("/healthz")
    assert health.status_code == 200 and time.perf_counter() - t0 < 1.0, "/healthz waited for the big request"
    worker.join(5)
    assert not worker.is_alive(), "a 1 MB field kept the server busy"
    assert done["seconds"] < 1.0
    assert done["resp"].status_code == 400
    rows = list(_store(web_app).db.query("SELECT question, answers FROM intakes"))
    assert all(len(r["question"]) < 5000 and len(r["answers"] or "") < 5000 for r in rows)


def test_field_refusal_names_the_field(web_client):
    err = web_client.post("/api/match", json={"question": QUESTION, "answers": {"doel": "x" * 5000}}).get_json()
    assert err["error"]["field"] == "answers" and "400" in err["error"]["message"]
    err = web_client.post("/api/feedback", json={"question": "x" * 5000, "record_id": "x",
                                                 "useful": True}).get_json()
    assert err["error"]["field"] == "question"


# --- sessions ------------------------------------------------------------------------------------

def _login_form(client, username="anna", password=PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"csrf_token": _token(page), "username": username, "password": password})


@pytest.fixture
def anna(web_app):
    return _store(web_app).add_user("anna", PASSWORD, "connector")


def _copy_of_cookie(app, client):
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_logout_ends_the_session_on_the_server(web_app, anna):
    client = web_app.test_client()
    _login_form(client)
    thief = _copy_of_cookie(web_app, client)
    assert thief.get("/schakelaar/").status_code == 200
    page = client.get("/schakelaar/").get_data(as_text=True)
    resp = client.post("/logout", data={"csrf_token": _token(page)})
    assert resp.headers["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert thief.get("/schakelaar/").status_code == 302, "a cookie copied before logout still works"


def test_password_change_and_removal_end_copied_sessions(web_app, anna):
    client = web_app.test_client()
    _login_form(client)
    thief = _copy_of_cookie(web_app, client)
    _store(web_app).set_password("anna", "another long password")
    assert thief.get("/schakelaar/").status_code == 302
    _login_form(client, password="another long password")
    thief = _copy_of_cookie(web_app, client)
    _store(web_app).remove_user("anna")
    assert thief.get("/schakelaar/").status_code == 302
    assert list(_store(web_app).db.query("SELECT * FROM sessions")) == []


@pytest.mark.parametrize("column,seconds", [("created", 12 * 3600 + 5), ("seen", 8 * 3600 + 5)])
def test_absolute_and_idle_lifetime(web_app, anna, column, seconds):
    client = web_app.test_client()
    _login_form(client)
    assert client.get("/schakelaar/").status_code == 200
    _store(web_app).db.execute(f"UPDATE sessions SET {column} = {column} - ?", [seconds])
    _store(web_app).db.conn.commit()
    assert client.get("/schakelaar/").status_code == 302


def test_a_busy_session_still_ends_at_its_absolute_lifetime(demo_engine, tmp_path):
    app = make_web_app(demo_engine, tmp_path / "h", SESSION_ABSOLUTE_SECONDS=3600, SESSION_IDLE_SECONDS=3600)
    _store(app).add_user("anna", PASSWORD, "connector")
    client = app.test_client()
    _login_form(client)
    _store(app).db.execute("UPDATE sessions SET created = created - 3601")  # seen stays recent: still active
    _store(app).db.conn.commit()
    assert client.get("/schakelaar/").status_code == 302


def test_secure_cookie_has_the_host_prefix(demo_engine, tmp_path):
    app = make_web_app(demo_engine, tmp_path / "h", TESTING=False, SECURE_COOKIES=True, PURGE_INTERVAL_HOURS=0)
    _store(app).add_user("anna", PASSWORD, "connector")
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    resp = client.post("/login", base_url="https://localhost",
                       data={"csrf_token": _token(page), "username": "anna", "password": PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("__Host-") and "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


# --- participants' data --------------------------------------------------------------------------

def test_followup_does_not_accept_an_intake_id(web_client, web_app, anonymous_csrf):
    victim = _store(web_app).add_intake("Hoe zet ik video in?")
    anonymous_csrf(web_client)
    resp = web_client.post("/opvolging", data={"csrf_token": CSRF, "intake_id": str(victim),
                                               "email": "aanvaller@example.org", "consent-followup": "ja"})
    assert resp.status_code in (400, 404)
    assert _store(web_app).intake(victim)["followups"] == []


def _results_with_consent(client):
    html = client.get("/").get_data(as_text=True)
    page = client.post("/vraag", data={"csrf_token": _token(html), "question": QUESTION, "consent": "ja",
                                       "step": "answered"}).get_data(as_text=True)
    form = re.search(r'<form method="post" action="/opvolging[^"]*"[^>]*>(.*?)</form>', page, re.S).group(1)
    return page, re.search(r'name="intake_token" value="([^"]+)"', form).group(1)


def test_followup_with_the_participants_own_token(web_client, web_app):
    page, token = _results_with_consent(web_client)
    assert len(token) >= 32 and 'name="intake_id"' not in page
    resp = web_client.post("/opvolging", data={"csrf_token": _token(page), "intake_token": token,
                                               "email": "deelnemer@example.org", "consent-followup": "ja"})
    assert resp.status_code == 200
    [row] = _store(web_app).intakes()
    assert row["followups"] == 1 and token not in str(list(_store(web_app).db.query("SELECT * FROM intakes")))
    resp = web_client.post("/opvolging", data={"csrf_token": _token(page), "intake_token": secrets.token_urlsafe(24),
                                               "email": "x@example.org", "consent-followup": "ja"})
    assert resp.status_code == 404
    assert _store(web_app).intakes()[0]["followups"] == 1


def _feedback_rows(app):
    return list(_store(app).db.query("SELECT question, record_id, concepts FROM feedback ORDER BY id"))


def test_feedback_stores_the_question_only_with_consent(web_client, web_app, anonymous_csrf):
    record = next(iter(web_app.extensions["schakel"].engine.index().records))
    anonymous_csrf(web_client)
    web_client.post("/feedback", data={"csrf_token": CSRF, "question": QUESTION + " Bel 06-12345678",
                                       "record_id": record, "useful": "ja"})
    web_client.post("/api/feedback", json={"question": QUESTION, "record_id": record, "useful": True})
    web_client.post("/feedback", data={"csrf_token": CSRF, "question": QUESTION + " Bel 06-12345678",
                                       "record_id": record, "useful": "ja", "consent": "ja"})
    rows = _feedback_rows(web_app)
    assert [r["question"] for r in rows[:2]] == [None, None]
    assert all(r["record_id"] == record and r["concepts"].startswith("[") for r in rows)
    assert rows[2]["question"].startswith(QUESTION) and "12345678" not in rows[2]["question"]


def test_purge_uses_the_retention_from_schakel_cfg(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from schakel.cli import main
    from web.store import AppStore, token_hash

    home = tmp_path / "home"
    home.mkdir()
    (home / "schakel.cfg").write_text("RETENTION_DAYS = 30\n", "utf-8")
    store = AppStore(home / "app.db")
    old, recent = store.add_intake("Oude vraag"), store.add_intake("Recente vraag")
    _age(store, "intakes", old, 40)
    _age(store, "intakes", recent, 20)
    uid = store.add_user("anna", PASSWORD, "connector")["id"]
    dead, live = store.start_session(uid), store.start_session(uid)
    store.db.execute("UPDATE sessions SET created = created - 13 * 3600 WHERE id = ?", [token_hash(dead)])
    store.db.conn.commit()
    res = CliRunner().invoke(main, ["purge", "--home", str(home)])
    assert res.exit_code == 0 and "ouder dan 30 dagen): 1 vragen" in res.output, res.output
    assert [r["id"] for r in store.db.query("SELECT id FROM sessions")] == [token_hash(live)]
    monkeypatch.setenv("SCHAKEL_RETENTION_DAYS", "10")  # the environment wins over the file
    assert "ouder dan 10 dagen): 1 vragen" in CliRunner().invoke(main, ["purge", "--home", str(home)]).output
    assert store.intakes() == []


def test_the_server_purges_by_itself(demo_engine, tmp_path, monkeypatch):
    from web import create_app
    from web.store import AppStore

    home = tmp_path / "home"
    home.mkdir()
    (home / "schakel.cfg").write_text("RETENTION_DAYS = 30\n", "utf-8")
    monkeypatch.setenv("SCHAKEL_HOME", str(home))
    store = AppStore(home / "app.db")
    old, recent = store.add_intake("Oude vraag"), store.add_intake("Recente vraag")
    _age(store, "intakes", old, 31)
    app = create_app({"TESTING": True, "ENGINE": demo_engine, "SECRET_KEY": "x", "PURGE_INTERVAL_HOURS": 24})
    schedule = app.extensions["schakel_purge"]
    try:
        deadline = time.monotonic() + 10
        while schedule.runs < 1 and time.monotonic() < deadline:  # the first purge runs at start-up
            time.sleep(0.05)
        assert [r["id"] for r in store.intakes()] == [recent]
        assert schedule.interval == 24 * 3600 and schedule.thread.is_alive()
    finally:
        schedule.stop()
    assert not make_web_app(demo_engine, tmp_path / "quiet").extensions.get("schakel_purge"), \
        "test apps start no schedule unless asked"


def test_the_purge_schedule_repeats(tmp_path):
    from web.retention import PurgeSchedule
    from web.store import AppStore

    store = AppStore(tmp_path / "app.db")
    schedule = PurgeSchedule(store, days=30, interval=0.2, session_seconds=3600)
    schedule.thread.start()
    try:
        deadline = time.monotonic() + 10
        while schedule.runs < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        _age(store, "intakes", store.add_intake("Oude vraag"), 31)
        runs = schedule.runs
        while schedule.runs < runs + 2 and time.monotonic() < deadline:  # a full run after the ageing
            time.sleep(0.02)
        assert store.intakes() == []
    finally:
        schedule.stop()


def test_forget_on_request_from_the_cli(tmp_path):
    from click.testing import CliRunner

    from schakel.cli import main
    from web.store import AppStore

    home = tmp_path / "home"
    store = AppStore(home / "app.db")
    a, b, c = (store.add_intake(q) for q in ("Vraag a", "Vraag b", "Vraag c"))
    store.add_followup(a, "Jan@Example.org")
    store.add_followup(b, "jan@example.org")
    store.add_note(c, "anna", "notitie")
    store.add_followup(c, "piet@example.org")
    res = CliRunner().invoke(main, ["forget", "--email", "jan@example.org", "--home", str(home)])
    assert res.exit_code == 0 and "2 vragen, 2 opvolgverzoeken" in res.output, res.output
    res = CliRunner().invoke(main, ["forget", "--intake", str(c), "--home", str(home)])
    assert res.exit_code == 0 and "1 vragen, 1 opvolgverzoeken, 1 notities" in res.output
    assert store.intakes() == [] and list(store.db.query("SELECT * FROM notes")) == []
    res = CliRunner().invoke(main, ["forget", "--intake", "99", "--home", str(home)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert CliRunner().invoke(main, ["forget", "--home", str(home)]).exit_code == 2


def test_forget_on_request_by_a_connector(web_client, web_app, login):
    store = _store(web_app)
    a, b = store.add_intake("Vraag a"), store.add_intake("Vraag b")
    store.add_followup(a, "jan@example.org")
    store.add_followup(b, "piet@example.org")
    anonymous = web_app.test_client()
    with anonymous.session_transaction() as s:
        s["_csrf"] = CSRF
    assert anonymous.post(f"/schakelaar/intake/{b}/verwijderen",
                          data={"csrf_token": CSRF, "bevestig": "ja"}).status_code == 302  # to the login
    login(web_client, "tussenring")
    assert web_client.post(f"/schakelaar/intake/{b}/verwijderen",
                           data={"csrf_token": CSRF, "bevestig": "ja"}).status_code == 403
    login(web_client, "connector")
    assert web_client.post(f"/schakelaar/intake/{b}/verwijderen", data={"csrf_token": CSRF}).status_code == 400
    assert "Verwijderen op verzoek" in web_client.get(f"/schakelaar/intake/{b}").get_data(as_text=True)
    resp = web_client.post(f"/schakelaar/intake/{b}/verwijderen", data={"csrf_token": CSRF, "bevestig": "ja"})
    assert resp.status_code == 303 and [r["id"] for r in store.intakes()] == [a]
    resp = web_client.post("/schakelaar/verwijderen", data={"csrf_token": CSRF, "bevestig": "ja",
                                                            "email": "jan@example.org"})
    assert resp.status_code == 303 and store.intakes() == []
    assert "1 opvolgverzoeken en 1 vragen" in web_client.get("/schakelaar/").get_data(as_text=True)


def test_results_feedback_and_followup_pages_are_not_cached(web_client, web_app, anonymous_csrf):
    anonymous_csrf(web_client)
    record = next(iter(web_app.extensions["schakel"].engine.index().records))
    for path, data in (("/vraag", {"question": QUESTION, "step": "answered"}),
                       ("/feedback", {"question": QUESTION, "record_id": record, "useful": "ja"}),
                       ("/opvolging", {"question": QUESTION, "email": "a@example.org", "consent-followup": "ja"})):
        resp = web_client.post(path, data={"csrf_token": CSRF, **data})
        assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store", path
    assert "no-store" not in web_client.get("/").headers.get("Cache-Control", "")


def test_files_with_personal_data_or_secrets_are_created_owner_only(demo_engine, tmp_path, monkeypatch):
    chmods = []
    monkeypatch.setattr(os, "chmod", lambda *a, **k: chmods.append(a))
    monkeypatch.setattr(Path, "chmod", lambda self, *a, **k: chmods.append(self))
    old = os.umask(0o022)
    try:
        home = tmp_path / "fresh-home"
        app = make_web_app(demo_engine, home, SECRET_KEY=None)
        _store(app).add_intake("Een vraag")  # writes: the WAL and shared-memory files exist now
    finally:
        os.umask(old)
    for name in ("app.db", "app.db-wal", "app.db-shm", "secret.key"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    assert chmods == [], "made readable first and chmod-ed afterwards"


def test_demo_password_file_is_created_owner_only(tmp_path):
    line = next(x for x in (ROOT / "Makefile").read_text("utf-8").splitlines() if "> .demo-password" in x)
    cmd = line.strip().lstrip("@").replace("$(BIN)/python", sys.executable)
    subprocess.run(["sh", "-c", f"umask 022; {cmd}"], cwd=tmp_path, check=True)
    assert stat.S_IMODE((tmp_path / ".demo-password").stat().st_mode) == 0o600


# --- accounts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("weak", ["welkom01!!", "wachtwoord123", "Schakel2024!", "qwertyuiop1", "anna12345678",
                                  "aaaaaaaaaaaaaaaa", "password1234"])
def test_common_and_weak_passwords_are_refused(web_app, weak):
    from indexer.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        _store(web_app).add_user("anna", weak, "connector")
    assert exc.value.field == "password"
    _store(web_app).add_user("anna", PASSWORD, "connector")
    with pytest.raises(InvalidInput):
        _store(web_app).set_password("anna", weak)


def test_weak_password_refused_by_the_cli(tmp_path):
    from click.testing import CliRunner

    from schakel.cli import main

    res = CliRunner().invoke(main, ["user", "add", "anna", "--role", "connector", "--password-stdin",
                                    "--home", str(tmp_path)], input="wachtwoord123\n")
    assert res.exit_code == 1 and "te bekend" in res.output  # Dutch CLI messages (issue 11)


def test_a_long_password_is_not_cut_at_login(web_app):
    long_password = secrets.token_urlsafe(800)[:1010]
    _store(web_app).add_user("anna", long_password, "connector")
    client = web_app.test_client()
    assert _login_form(client, password=long_password[:1000]).status_code == 401
    assert _login_form(client, password=long_password).status_code == 302
    from indexer.errors import InvalidInput

    with pytest.raises(InvalidInput):
        _store(web_app).add_user("bert", secrets.token_urlsafe(1000)[:1025], "connector")


def test_a_signed_in_user_changes_their_own_password(web_app, anna):
    client = web_app.test_client()
    _login_form(client)
    other_device = _copy_of_cookie(web_app, client)
    page = client.get("/wachtwoord")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Wachtwoord wijzigen" in html and 'autocomplete="new-password"' in html
    form = {"csrf_token": _token(html), "current_password": PASSWORD}
    bad = client.post("/wachtwoord", data={**form, "current_password": "niet mijn wachtwoord",
                                           "new_password": "paars konijn op de fiets", "new_password2": "paars konijn op de fiets"})
    assert bad.status_code == 400 and "huidige wachtwoord klopt niet" in bad.get_data(as_text=True)
    weak = client.post("/wachtwoord", data={**form, "new_password": "welkom01!!", "new_password2": "welkom01!!"})
    assert weak.status_code == 400 and "te makkelijk te raden" in weak.get_data(as_text=True)
    differ = client.post("/wachtwoord", data={**form, "new_password": "paars konijn op de fiets",
                                              "new_password2": "paars konijn op de step"})
    assert differ.status_code == 400 and "niet gelijk" in differ.get_data(as_text=True)
    ok = client.post("/wachtwoord", data={**form, "new_password": "paars konijn op de fiets",
                                          "new_password2": "paars konijn op de fiets"})
    assert ok.status_code == 303
    assert client.get("/schakelaar/").status_code == 200, "this browser stays signed in"
    assert other_device.get("/schakelaar/").status_code == 302, "other sessions end"
    assert _store(web_app).authenticate("anna", "paars konijn op de fiets")
    assert not _store(web_app).authenticate("anna", PASSWORD)
    assert web_app.test_client().get("/wachtwoord").status_code == 302  # only when signed in


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def security_log():
    """Records of the ``web.security`` logger (own handler: CLI tests leave filters on the root handlers)."""
    logger, handler = logging.getLogger("web.security"), _Collect()
    old = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(old)


def test_security_events_are_logged_without_personal_data(demo_engine, tmp_path, security_log):
    app = make_web_app(demo_engine, tmp_path / "h", INTAKE_RATE="2/60")
    store = _store(app)
    store.add_user("anna", PASSWORD, "connector")
    store.add_user("ring.lid", PASSWORD, "tussenring")
    client = app.test_client()
    _login_form(client, "anna", "fout wachtwoord 1")
    _login_form(client, "ring.lid")
    client.get("/schakelaar/")  # 403 for the tussenring
    page = client.get("/tussenring/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": _token(page)})
    for _ in range(5):  # whichever limiter answers, its 429 is logged
        if client.post("/api/match", json={"question": QUESTION}).status_code == 429:
            break
    store.set_password("anna", "another long password")
    store.remove_user("anna")
    text = "\n".join(security_log)
    for event in ("login.failure", "login.success", "403", "logout", "429", "account.created",
                  "account.password_changed", "account.removed"):
        assert event in text, event
    for secret in ("anna", "ring.lid", "127.0.0.1", "fout wachtwoord", PASSWORD, "kennisclips"):
        assert secret not in text, secret
    assert re.search(r"login.failure .*account=[0-9a-f]{12}", text)


# --- smaller -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/schakelaar/intake/{}", "/schakelaar/intake/{}/brief.md"])
def test_huge_ids_are_404(web_client, login, path):
    login(web_client, "connector")
    assert web_client.get(path.format("1" * 25)).status_code == 404
    assert web_client.get(path.format(2**63)).status_code == 404


def test_huge_ids_in_forms_are_no_server_error(web_client, login):
    login(web_client, "connector")
    for path in ("/schakelaar/intake/{}/status", "/schakelaar/intake/{}/notitie", "/schakelaar/intake/{}/verwijderen"):
        resp = web_client.post(path.format("9" * 25), data={"csrf_token": CSRF, "status": "afgerond", "text": "x",
                                                             "bevestig": "ja"})
        assert resp.status_code == 404, path
    resp = web_client.post("/opvolging", data={"csrf_token": CSRF, "intake_id": "9" * 25, "question": QUESTION,
                                               "email": "a@example.org", "consent-followup": "ja"})
    assert resp.status_code < 500


# --- login limit (built by the deployment work with Flask-Limiter) ---------------------------------

def test_login_limit_counts_failed_posts_per_client_and_account(demo_engine, tmp_path):
    app = make_web_app(demo_engine, tmp_path / "h", LOGIN_RATE="3/60")
    _store(app).add_user("anna", PASSWORD, "connector")
    client = app.test_client()
    for _ in range(6):
        assert client.get("/login").status_code == 200, "viewing the login page is no attempt"
    assert _login_form(client).status_code == 302, "a successful login is no failed attempt"
    codes = [_login_form(app.test_client(), password="fout wachtwoord").status_code for _ in range(4)]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429
    resp = _login_form(app.test_client(), password="fout wachtwoord")
    assert int(resp.headers["Retry-After"]) > 0
    # per account: attempts on one account from many addresses are limited too
    for i in range(4):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"10.0.0.{i + 1}"
        last = _login_form(other, username="ring", password="fout wachtwoord")
    assert last.status_code == 429


def test_serve_writes_security_events_to_stderr(demo_home, monkeypatch):
    import waitress
    from click.testing import CliRunner

    from schakel.cli import main

    monkeypatch.setattr(waitress, "serve", lambda app, **kw: None)
    monkeypatch.setenv("SCHAKEL_EMBEDDER", "hash:256")
    monkeypatch.setenv("SCHAKEL_PURGE_INTERVAL_HOURS", "0")
    logger = logging.getLogger("web.security")
    before = list(logger.handlers), logger.level, logger.propagate
    try:
        res = CliRunner().invoke(main, ["serve", "--home", str(demo_home)])
        assert res.exit_code == 0, res.output
        assert logger.isEnabledFor(logging.INFO)
        assert any(isinstance(h, logging.StreamHandler) for h in logger.handlers)
    finally:
        logger.handlers[:], logger.level, logger.propagate = before
