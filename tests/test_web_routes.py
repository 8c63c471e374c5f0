"""Every route of the connector and tussenring areas, found in app.url_map, refuses the wrong visitor.

New routes under /schakelaar, /tussenring or /api/coverage are picked up
automatically, so one without ``require_role`` fails here.
"""
from __future__ import annotations

import re

import pytest

PROTECTED = {"/schakelaar": "connector", "/tussenring": "tussenring", "/api/coverage": "tussenring"}
OTHER_ROLE = {"connector": "tussenring", "tussenring": "connector"}


def _role_for(rule: str) -> str | None:
    for prefix, role in PROTECTED.items():
        if rule == prefix or rule.startswith(prefix + "/") or rule.startswith(prefix + "."):
            return role
    return None


def _cases(app):
    out = []
    for rule in app.url_map.iter_rules():
        role = _role_for(rule.rule)
        if role is None:
            continue
        url = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule, url, method, role))
    return out


@pytest.fixture
def protected(web_app):
    web_app.extensions["schakel"].store.add_intake("Hoe zet ik video in bij eerstejaars?")
    cases = _cases(web_app)
    assert len(cases) >= 9, "the connector and tussenring routes are not registered"
    return cases


def _send(client, method, url, token):
    return client.open(url, method=method, data={"csrf_token": token, "text": "x", "status": "afgerond"}
                       if method == "POST" else None)


def test_every_protected_view_declares_its_role(web_app, protected):
    for rule, _, _, role in protected:
        view = web_app.view_functions[rule.endpoint]
        roles = getattr(view, "_schakel_roles", None)
        assert roles is not None, f"{rule.rule} is not wrapped in require_role"
        assert role in roles, f"{rule.rule} should need the role {role}, has {roles}"


def test_anonymous_visitors_are_sent_to_login_or_get_401(web_client, protected, anonymous_csrf):
    token = anonymous_csrf(web_client)  # a valid token: the refusal must come from the role check
    for rule, url, method, _ in protected:
        resp = _send(web_client, method, url, token)
        if rule.rule.startswith("/api/"):
            assert resp.status_code == 401, (method, url, resp.status_code)
            assert resp.get_json()["error"]["code"] == "unauthorized"
        else:
            assert resp.status_code == 302, (method, url, resp.status_code)
            assert resp.headers["Location"].startswith("/login?next="), (method, url)


def test_the_wrong_role_gets_403(web_client, protected, login, csrf):
    for rule, url, method, role in protected:
        login(web_client, OTHER_ROLE[role])
        resp = _send(web_client, method, url, csrf)
        assert resp.status_code == 403, (method, url, resp.status_code)
        if rule.rule.startswith("/api/"):
            assert resp.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("role_of_user", ["own", "admin"])
def test_the_right_role_and_admin_get_in(web_client, protected, login, csrf, coverage_stub, role_of_user):
    for rule, url, method, role in protected:
        login(web_client, role if role_of_user == "own" else "admin")
        resp = _send(web_client, method, url, csrf)
        assert resp.status_code not in (401, 403), (method, url, resp.status_code)
        if resp.status_code in (302, 303):
            assert not resp.headers["Location"].startswith("/login"), (method, url)
        assert resp.status_code < 500, (method, url, resp.status_code)


def test_public_pages_need_no_login(web_client):
    for path in ("/", "/wie-weet-wat", "/login", "/privacy", "/api/openapi.json", "/healthz"):
        assert web_client.get(path).status_code == 200, path


def test_pages_have_no_inline_script_or_style(web_client, web_app, login):
    web_app.extensions["schakel"].store.add_intake("Hoe zet ik video in bij eerstejaars?")
    pages = ["/", "/wie-weet-wat", "/login", "/privacy"]
    login(web_client, "admin")
    pages += ["/schakelaar/", "/schakelaar/intake/1", "/tussenring/"]
    for path in pages:
        html = web_client.get(path).get_data(as_text=True)
        assert '<html lang="nl">' in html, path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script on {path}"
        assert not re.search(r"\sstyle=", html), f"inline style attribute on {path}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {path}"
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S):
            assert 'name="csrf_token"' in form, f"a POST form without csrf_token on {path}"


def test_opening_the_results_address_directly_returns_to_the_question_form(client):
    resp = client.get("/vraag")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/")


def test_every_page_links_an_icon_that_exists(web_client):
    html = web_client.get("/").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html).group(1)
    icon = web_client.get(href)
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    legacy = web_client.get("/favicon.ico")
    assert legacy.status_code == 301 and legacy.headers["Location"].endswith(href)
