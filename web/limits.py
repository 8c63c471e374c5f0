"""Who the client is behind proxies, and how often it may ask (Werkzeug's ProxyFix, Flask-Limiter).

Client address: with ``trusted_proxies = N`` the app trusts the last N entries
of ``X-Forwarded-For`` / ``-Proto`` / ``-Host`` (``werkzeug.middleware.proxy_fix``),
so rate limits, logs and ``request.is_secure`` (HSTS) see the real client and
scheme. With 0 (the default) nothing forwarded is believed: a client cannot
pick its own address by sending the header.

Limits (Flask-Limiter, counters in ``ratelimit_storage``: this process by
default, Redis to share them between processes and machines; a moving window):

- ``intake_rate`` (COUNT/SECONDS): all POSTs of the public pages and the API
  (ask, clarify, feedback, follow-up) per client address, one shared budget.
  The default 120/60 is sized for a workshop: 30 teachers behind one school
  NAT address each ask a question (1), answer the clarifying questions (1) and
  give feedback or ask for a follow-up (1-2) within the same minute: about
  90-120 requests. One client alone still cannot ask more than 2 a second.
- ``login_rate`` (COUNT/SECONDS): *failed* login POSTs (401), counted per
  client address and per account (so neither many accounts from one address
  nor one account from many addresses can be guessed quickly); page views and
  successful logins do not count. Backoff in tiers: COUNT per SECONDS, twice
  that per 12×SECONDS, four times that per 288×SECONDS (10/5 min, 20/h, 40/day
  by default), so a client that keeps failing waits ever longer.

Every 429 carries ``Retry-After`` (seconds) and uses the app's error shape.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

#: Views that share the ``intake_rate`` budget of a client (POST only).
INTAKE_ENDPOINTS = ("pages.ask", "pages.feedback", "pages.followup", "api.match", "api.feedback")
LOGIN_ENDPOINT = "auth.login"


def per_window(spec: str, factor: int = 1, stretch: int = 1) -> str:
    """"COUNT/SECONDS" as a ``limits`` rate string, count × ``factor`` per seconds × ``stretch``."""
    count, _, seconds = str(spec).partition("/")
    return f"{int(count) * factor} per {int(seconds) * stretch} second"


def login_tiers(spec: str) -> str:
    """The login backoff tiers of ``login_rate`` (see module docstring), ';'-joined for Flask-Limiter."""
    return "; ".join((per_window(spec), per_window(spec, 2, 12), per_window(spec, 4, 288)))


def _account() -> str:
    return "account:" + (request.form.get("username") or "").strip().lower()[:200]


def _failed_login(response) -> bool:
    return response.status_code == 401


def _intake_rate() -> str:
    return per_window(current_app.config["INTAKE_RATE"])


def _login_rate() -> str:
    return login_tiers(current_app.config["LOGIN_RATE"])


def install_proxy_fix(app: Flask, trusted_proxies: int) -> None:
    """Trust the last ``trusted_proxies`` hops of X-Forwarded-For/-Proto/-Host (none when 0)."""
    if trusted_proxies < 0:
        raise ValueError("trusted_proxies must be 0 or more")
    if trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies,
                                x_host=trusted_proxies)


def install_limits(app: Flask, storage_uri: str) -> Limiter:
    """Make the app's Limiter and wrap the intake and login views with their limits.

    Call after the blueprints are registered. Storage errors (Redis down) fall
    back to in-process counters and are logged rather than failing requests.
    """
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage_uri or "memory://",
                      strategy="moving-window", headers_enabled=True, swallow_errors=True,
                      in_memory_fallback_enabled=True, key_prefix="schakel")
    intake = limiter.shared_limit(_intake_rate, scope="intake", methods=["POST"])
    for endpoint in INTAKE_ENDPOINTS:
        app.view_functions[endpoint] = intake(app.view_functions[endpoint])
    view = app.view_functions[LOGIN_ENDPOINT]
    view = limiter.limit(_login_rate, key_func=get_remote_address, methods=["POST"], deduct_when=_failed_login,
                         scope="login-client")(view)
    view = limiter.limit(_login_rate, key_func=_account, methods=["POST"], deduct_when=_failed_login,
                         scope="login-account")(view)
    app.view_functions[LOGIN_ENDPOINT] = view
    return limiter
