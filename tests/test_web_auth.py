"""Logging in and out: sessions, wrong passwords, rate limits, CSRF, security headers, safe redirects."""
from __future__ import annotations

import re

import pytest

from web.auth import safe_next

PASSWORD = "correct horse battery"


@pytest.fixture
def users(web_app):
    store = web_app.extensions["schakel"].store
    return {"connector": store.add_user("anna", PASSWORD, "connector"),
            "tussenring": store.add_user("ring.lid", PASSWORD, "tussenring")}


def _form_token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the form has no csrf_token field"
    return m.group(1)


def _login(client, username, password, next_url=None):
    page = client.get("/login" + (f"?next={next_url}" if next_url else ""))
    assert page.status_code == 200
    data = {"csrf_token": _form_token(page.get_data(as_text=True)), "username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data)


def test_login_page_is_an_accessible_form(web_client):
    resp = web_client.get("/login")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert '<html lang="nl">' in html
    assert '<label for="gebruikersnaam">' in html and 'id="gebruikersnaam"' in html
    assert '<label for="wachtwoord">' in html and 'type="password"' in html
    assert 'autocomplete="current-password"' in html and 'autocomplete="username"' in html
    assert 'name="csrf_token"' in html


def test_login_sets_a_fresh_permanent_session_and_redirects_by_role(web_client, users):
    with web_client.session_transaction() as s:
        s["planted"] = "by an attacker"
    resp = _login(web_client, "anna", PASSWORD)
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/schakelaar/")
    with web_client.session_transaction() as s:
        assert s["uid"] == users["connector"]["id"]
        sid = s["sid"]  # a server-side session (web.sessions), not a password stamp
        assert s.permanent
        assert "planted" not in s  # the session was regenerated
    store = web_client.application.extensions["schakel"].store
    assert store.session_user(sid, idle=60, absolute=60)["username"] == "anna"
    assert web_client.get("/schakelaar/").status_code == 200
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

    other = web_client.application.test_client()
    resp = _login(other, "RING.LID", PASSWORD)  # usernames are case-insensitive
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/tussenring/")


def test_login_replaces_the_csrf_token(web_client, users):
    page = web_client.get("/login")
    before = _form_token(page.get_data(as_text=True))
    web_client.post("/login", data={"csrf_token": before, "username": "anna", "password": PASSWORD})
    after = _form_token(web_client.get("/schakelaar/").get_data(as_text=True))
    assert after != before


@pytest.mark.parametrize("username,password", [("anna", "wrong password!"), ("nobody", PASSWORD), ("anna", ""),
                                               ("", PASSWORD)])
def test_wrong_credentials_are_refused_with_one_message(web_client, users, username, password):
    resp = _login(web_client, username, password)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 401
    assert "De gebruikersnaam of het wachtwoord klopt niet." in html
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    with web_client.session_transaction() as s:
        assert "uid" not in s
    assert web_client.get("/schakelaar/").status_code == 302


def test_logout_ends_the_session(web_client, users):
    _login(web_client, "anna", PASSWORD)
    page = web_client.get("/schakelaar/").get_data(as_text=True)
    assert "Uitloggen (anna)" in page
    resp = web_client.post("/logout", data={"csrf_token": _form_token(page)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/")
    with web_client.session_transaction() as s:
        assert "uid" not in s
    assert web_client.get("/schakelaar/").status_code == 302
    assert "Je bent uitgelogd." in web_client.get("/").get_data(as_text=True)


def test_password_change_and_removal_end_open_sessions(web_client, web_app, users):
    store = web_app.extensions["schakel"].store
    _login(web_client, "anna", PASSWORD)
    assert web_client.get("/schakelaar/").status_code == 200
    store.set_password("anna", "another long password")
    assert web_client.get("/schakelaar/").status_code == 302
    _login(web_client, "anna", "another long password")
    assert web_client.get("/schakelaar/").status_code == 200
    store.remove_user("anna")
    assert web_client.get("/schakelaar/").status_code == 302


def test_login_is_rate_limited(demo_engine, tmp_path):
    from conftest import make_web_app

    app = make_web_app(demo_engine, tmp_path / "limited", LOGIN_RATE="3/60")
    app.extensions["schakel"].store.add_user("anna", PASSWORD, "connector")
    client = app.test_client()
    for _ in range(5):  # page views do not count (issue 16: failed POSTs only)
        token = _form_token(client.get("/login").get_data(as_text=True))
    codes = [client.post("/login", data={"csrf_token": token, "username": "anna", "password": "nope nope nope"})
             .status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    resp = client.post("/login", data={"csrf_token": token, "username": "anna", "password": PASSWORD})
    assert resp.status_code == 429  # even the right password waits
    assert "Te veel verzoeken" in resp.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/login", "/logout", "/vraag", "/feedback", "/opvolging",
                                  "/schakelaar/intake/1/notitie", "/schakelaar/intake/1/status"])
def test_forms_without_a_valid_csrf_token_are_rejected(web_client, web_app, login, path):
    user = login(web_client, "connector")
    web_app.extensions["schakel"].store.add_intake("Hoe zet ik video in?")
    data = {"username": "test-connector", "password": PASSWORD, "text": "notitie", "status": "afgerond",
            "question": "Hoe zet ik video in?", "record_id": "x", "email": "a@example.org"}
    assert web_client.post(path, data=data).status_code == 400
    assert web_client.post(path, data={**data, "csrf_token": "forged"}).status_code == 400
    with web_client.session_transaction() as s:  # still logged in, nothing changed
        assert s["uid"] == user["id"]
    intake = web_app.extensions["schakel"].store.intake(1)
    assert intake["notes"] == [] and intake["status"] == "nieuw"


def test_security_headers(web_client, login):
    for path in ("/", "/login", "/wie-weet-wat"):
        resp = web_client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"
    login(web_client, "connector")
    assert web_client.get("/schakelaar/").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("target,ok", [
    ("/schakelaar/intake/3", True), ("/tussenring/?x=1", True),
    ("https://evil.example/", False), ("//evil.example/", False), ("/\\evil.example", False),
    ("\\\\evil.example", False), ("javascript:alert(1)", False), ("http:/evil.example", False),
    ("/schakelaar\r\nSet-Cookie: x=1", False), ("", False), (None, False), ("schakelaar/", False),
])
def test_safe_next(target, ok):
    assert safe_next(target) == (target if ok else None)


@pytest.mark.parametrize("target,expected", [
    ("/schakelaar/intake/7", "/schakelaar/intake/7"),
    ("https://evil.example/phish", "/schakelaar/"),
    ("//evil.example", "/schakelaar/"),
    ("/\\evil.example", "/schakelaar/"),
])
def test_login_redirects_only_to_local_next(web_client, users, target, expected):
    resp = _login(web_client, "anna", PASSWORD, next_url=target)
    assert resp.status_code == 302
    assert resp.headers["Location"] == expected


def test_protected_page_sends_to_login_and_back(web_client, users):
    resp = web_client.get("/schakelaar/?status=nieuw")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")
    page = web_client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/schakelaar/?status=nieuw"' in page
    resp = web_client.post("/login", data={"csrf_token": _form_token(page), "username": "anna",
                                           "password": PASSWORD, "next": "/schakelaar/?status=nieuw"})
    assert resp.headers["Location"] == "/schakelaar/?status=nieuw"
