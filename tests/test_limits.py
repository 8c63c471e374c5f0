"""Clients behind proxies and rate limits (web/limits.py): ProxyFix with trusted_proxies, Flask-Limiter
budgets per client, failed-login limits per client and per account, Retry-After on every 429, HSTS
when a trusted proxy forwarded https."""
from __future__ import annotations

import pytest

from conftest import make_web_app

QUESTION = "Hoe zet ik kennisclips in zodat studenten in hun eigen tempo werken?"
PASSWORD = "een heel lang wachtwoord"


def ask(client, ip: str | None = None):
    headers = {"X-Forwarded-For": ip} if ip else {}
    return client.post("/api/match", json={"question": QUESTION}, headers=headers)


def test_forty_clients_behind_a_proxy_each_ask_while_one_over_its_limit_waits(demo_engine, tmp_path):
    app = make_web_app(demo_engine, tmp_path / "h", TRUSTED_PROXIES=1, INTAKE_RATE="3/60")
    client = app.test_client()  # every request comes from the proxy, 127.0.0.1
    for i in range(40):
        for _ in range(2):
            resp = ask(client, f"198.51.100.{i + 1}")
            assert resp.status_code == 200, (i, resp.get_json())
    codes = [ask(client, "203.0.113.9").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert ask(client, "198.51.100.1").status_code == 200  # others keep their own budget


def test_without_trusted_proxies_the_header_is_not_believed(demo_engine, tmp_path):
    app = make_web_app(demo_engine, tmp_path / "h", INTAKE_RATE="3/60")
    client = app.test_client()
    codes = [ask(client, f"198.51.100.{i}").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]  # one client (the connecting address), whatever it claims


def test_workshop_behind_one_address_fits_the_default_budget(demo_engine, tmp_path):
    app = make_web_app(demo_engine, tmp_path / "h", INTAKE_RATE=None)
    assert app.config["INTAKE_RATE"] == "120/60"
    client = app.test_client()
    for teacher in range(30):  # a question, an answer to the clarifying questions, a feedback click
        assert ask(client).status_code == 200, teacher
        assert client.post("/api/match", json={"question": QUESTION, "answers": {"doelgroep": "eerstejaars"}}
                           ).status_code == 200, teacher
        assert client.post("/api/feedback", json={"question": QUESTION, "record_id": "exp-ecbo", "useful": True}
                           ).status_code == 201, teacher


def test_429_carries_retry_after_and_the_error_shape(demo_engine, tmp_path):
    client = make_web_app(demo_engine, tmp_path / "h", INTAKE_RATE="1/60").test_client()
    assert ask(client).status_code == 200
    resp = ask(client)
    assert resp.status_code == 429
    assert 0 < int(resp.headers["Retry-After"]) <= 60
    assert resp.get_json()["error"]["code"] == "rate_limited"


def _login_form(client):
    def post(user, pw, ip=None):
        with client.session_transaction() as s:  # a login starts a fresh session: a new form each time
            s.clear()
            s["_csrf"] = "t"
        return client.post("/login", data={"csrf_token": "t", "username": user, "password": pw},
                           headers={"X-Forwarded-For": ip} if ip else {})
    return post


def test_failed_logins_count_per_client_not_page_views_or_successes(demo_engine, tmp_path):
    app = make_web_app(demo_engine, tmp_path / "h", LOGIN_RATE="3/300", TRUSTED_PROXIES=1)
    app.extensions["schakel"].store.add_user("anna", PASSWORD, "connector")
    client = app.test_client()
    post = _login_form(client)
    for _ in range(10):
        assert client.get("/login").status_code == 200
    for _ in range(5):
        assert post("anna", PASSWORD, "192.0.2.1").status_code == 302
    codes = [post(f"iemand{i}", "fout fout fout", "192.0.2.1").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]  # three accounts tried from one client, then it waits
    resp = post("anna", PASSWORD, "192.0.2.1")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert post("anna", PASSWORD, "192.0.2.2").status_code == 302  # another client is not affected


def test_failed_logins_count_per_account_across_clients(demo_engine, tmp_path):
    app = make_web_app(demo_engine, tmp_path / "h", LOGIN_RATE="3/300", TRUSTED_PROXIES=1)
    app.extensions["schakel"].store.add_user("anna", PASSWORD, "connector")
    post = _login_form(app.test_client())
    codes = [post("anna", "fout fout fout", f"192.0.2.{i}").status_code for i in range(1, 5)]
    assert codes == [401, 401, 401, 429]
    assert post("Anna ", PASSWORD, "192.0.2.99").status_code == 429  # the account waits, from anywhere


def test_login_backoff_tiers():
    from web.limits import login_tiers

    assert login_tiers("10/300") == "10 per 300 second; 20 per 3600 second; 40 per 86400 second"


@pytest.mark.parametrize("trusted, expected", [(1, True), (0, False)])
def test_hsts_when_a_trusted_proxy_forwarded_https(demo_engine, tmp_path, trusted, expected):
    client = make_web_app(demo_engine, tmp_path / "h", TRUSTED_PROXIES=trusted).test_client()
    resp = client.get("/privacy", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"})
    assert ("Strict-Transport-Security" in resp.headers) is expected


def test_limits_are_shared_between_machines_through_redis(demo_engine, tmp_path, redis_url):
    """Two app processes ("machines") with ratelimit_storage on one Redis share each client's budget."""
    a = make_web_app(demo_engine, tmp_path / "a", TRUSTED_PROXIES=1, INTAKE_RATE="4/60", RATELIMIT_STORAGE=redis_url)
    b = make_web_app(demo_engine, tmp_path / "b", TRUSTED_PROXIES=1, INTAKE_RATE="4/60", RATELIMIT_STORAGE=redis_url)
    ip = "192.0.2.77"
    codes = [ask(client, ip).status_code for client in (a.test_client(), b.test_client()) * 3]
    assert codes == [200, 200, 200, 200, 429, 429]
