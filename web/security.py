"""Security plumbing: CSRF tokens, security headers, roles.

- CSRF: every HTML form carries ``csrf_token()``; every POST/PUT/PATCH/DELETE
  that is not JSON must send it back. JSON API calls must be
  ``application/json``, which a cross-site form cannot send without a CORS
  preflight (and we answer none).
- Rate limits: see web/limits.py (Flask-Limiter).
- Headers: a Content-Security-Policy without inline script, and the usual
  hardening headers.
- Roles: ``require_role("connector")`` for views; admin passes every check.
- Also installed here: server-side sessions (``web.sessions``), field
  lengths at the edge (``web.fields``) and the security event log
  (``web.seclog``). Responses to POST requests (results, feedback and
  follow-up pages) and all signed-in pages carry ``Cache-Control: no-store``.
"""
from __future__ import annotations

import functools
import hmac
import secrets

from flask import Flask, abort, g, redirect, request, session, url_for

from indexer.errors import Forbidden, InvalidInput, Unauthorized

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def csrf_token() -> str:
    token = session.get("_csrf")
    if not token:
        token = session["_csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.path.startswith("/api/"):
        if not request.is_json:
            raise InvalidInput("send JSON with Content-Type: application/json", field="Content-Type",
                               status=415)
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
    expected = session.get("_csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="Het formulier is verlopen of ongeldig (CSRF). Laad de pagina opnieuw.")


def current_user() -> dict | None:
    """The signed-in user (a ``users`` row) while the server-side session lives, else None."""
    if "user" not in g:
        from .sessions import session_user

        g.user = session_user()
    return g.user


def has_role(user: dict | None, role: str) -> bool:
    return bool(user) and (user["role"] == role or user["role"] == "admin")


def require_role(*roles: str):
    """Views for logged-in users with one of ``roles``. Pages redirect to login; /api answers 401/403."""
    def deco(view):
        view._schakel_roles = roles  # read by the route-enumeration test

        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if request.path.startswith("/api/"):
                    raise Unauthorized("log in first", field="session")
                return redirect(url_for("auth.login", next=request.full_path if request.query_string
                                        else request.path))
            if not any(has_role(user, r) for r in roles):
                raise Forbidden(f"this needs the role {' or '.join(roles)}", field="role")
            return view(*args, **kwargs)
        wrapped._schakel_roles = roles
        return wrapped
    return deco


def install(app: Flask) -> None:
    from . import fields, seclog, sessions

    sessions.install(app)
    app.before_request(fields.check_lengths)
    app.before_request(check_csrf)
    app.after_request(seclog.log_refusals)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.globals["has_role"] = has_role

    @app.after_request
    def headers(resp):
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        resp.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:  # also behind a trusted proxy that forwarded https (ProxyFix, web/limits.py)
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if session.get("sid") or request.method == "POST" or \
                request.path.startswith(("/schakelaar", "/tussenring", "/api/", "/wachtwoord")):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp
