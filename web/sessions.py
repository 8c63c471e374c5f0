"""Server-side sessions for signed-in users (connector, tussenring, admin).

The signed session cookie carries a random session token (``sid``) and the
user id; the token's SHA-256 is a row in the ``sessions`` table
(``AppStore.start_session``). A request is signed in only while that row
exists, so logout, a password change and removing the user end the session
at once, also for a copy of the cookie taken earlier.

Lifetimes in seconds, from the settings ``session_idle_seconds`` (default 8
hours without a request) and ``session_absolute_seconds`` (default 12 hours
after login, however active). With secure cookies on, the cookie is named with the
``__Host-`` prefix, so browsers accept it only over HTTPS, for this host and
path ``/``, and no sibling domain can plant one.
"""
from __future__ import annotations

from flask import Flask, current_app, g, session

IDLE_SECONDS = 8 * 3600
ABSOLUTE_SECONDS = 12 * 3600
SECURE_COOKIE_NAME = "__Host-schakel-session"


def _store():
    from .services import services

    return services().store


def lifetimes() -> tuple[int, int]:
    """(idle, absolute) session lifetime in seconds, from the app config."""
    cfg = current_app.config
    return int(cfg.get("SESSION_IDLE_SECONDS") or IDLE_SECONDS), int(cfg.get("SESSION_ABSOLUTE_SECONDS")
                                                                      or ABSOLUTE_SECONDS)


def sign_in(user: dict) -> None:
    """Start a fresh session for ``user``: nothing from the anonymous session survives (session fixation)."""
    session.clear()
    session["sid"] = _store().start_session(user["id"])
    session["uid"] = user["id"]
    session.permanent = True
    g.pop("user", None)


def sign_out() -> None:
    """End this browser's session on the server and drop the cookie's contents."""
    sid = session.get("sid")
    if sid:
        _store().end_session(sid)
    session.clear()
    g.pop("user", None)


def session_user() -> dict | None:
    """The signed-in user of this request, or None (no session, ended, idle or too old, user removed)."""
    sid = session.get("sid")
    if not sid:
        return None
    idle, absolute = lifetimes()
    user = _store().session_user(sid, idle=idle, absolute=absolute)
    if user is None or user["id"] != session.get("uid"):
        session.pop("sid", None)
        session.pop("uid", None)
        return None
    return user


def install(app: Flask) -> None:
    """Cookie name and cookie lifetime for this app (call after the config is complete)."""
    idle = int(app.config.get("SESSION_IDLE_SECONDS") or IDLE_SECONDS)
    app.config["PERMANENT_SESSION_LIFETIME"] = idle
    if app.config.get("SESSION_COOKIE_SECURE"):
        app.config["SESSION_COOKIE_NAME"] = SECURE_COOKIE_NAME
        app.config["SESSION_COOKIE_DOMAIN"] = None  # required by the __Host- prefix
        app.config["SESSION_COOKIE_PATH"] = "/"
