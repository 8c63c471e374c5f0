"""Log in and out for connectors (schakelaars), the tussenring and admins.

Accounts are made with ``schakel user add``; there is no self-registration.
A login starts a fresh server-side session (``web.sessions``; the old one,
with its CSRF token, is dropped): logout, changing the password or removing
the user ends it. Logout also asks the browser to clear this site's cookies,
storage and cache (``Clear-Site-Data``). A signed-in user changes their own
password on ``/wachtwoord``. Logins, failures and logouts are security
events (``web.seclog``).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for

from indexer.errors import InvalidInput

from . import seclog
from .passwords import WeakPassword
from .security import current_user, require_role
from .services import services
from .sessions import sign_in, sign_out

bp = Blueprint("auth", __name__)

CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site ("/schakelaar/..."), else None.

    Rejects absolute and scheme-relative URLs ("https://x", "//x"), backslash
    tricks that browsers read as "//" ("/\\x"), and control characters.
    """
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _home_for(user: dict) -> str:
    return url_for("ring.dashboard") if user["role"] == "tussenring" else url_for("connector.inbox")


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next=next_url, username="", user=current_user())
    username = request.form.get("username") or ""  # lengths are limited at the edge (web.fields), never cut
    password = request.form.get("password") or ""
    user = services().store.authenticate(username, password) if username.strip() and password else None
    if user is None:
        seclog.event("login.failure", account=seclog.pseudonym(username.strip().lower()))
        return render_template("login.html", next=next_url, username=username, user=None,
                               error="De gebruikersnaam of het wachtwoord klopt niet."), 401
    sign_in(user)
    seclog.event("login.success", user_id=user["id"], role=user["role"])
    return redirect(next_url or _home_for(user))


@bp.post("/logout")
def logout():
    user = current_user()
    sign_out()
    if user:
        seclog.event("logout", user_id=user["id"])
    flash("Je bent uitgelogd.")
    resp = redirect(url_for("pages.index"))
    resp.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return resp


@bp.route("/wachtwoord", methods=["GET", "POST"])
@require_role("connector", "tussenring")
def change_password():
    """The signed-in user's own password: the current one, then the new one twice. Every other session
    of the user ends; this browser gets a fresh session."""
    user = current_user()
    if request.method == "GET":
        return render_template("password.html", user=user)
    store = services().store
    current = request.form.get("current_password") or ""
    new, again = request.form.get("new_password") or "", request.form.get("new_password2") or ""
    error = None
    if store.authenticate(user["username"], current) is None:
        seclog.event("password.change_failure", user_id=user["id"])
        error = "Je huidige wachtwoord klopt niet."
    elif new != again:
        error = "De twee nieuwe wachtwoorden zijn niet gelijk."
    else:
        try:
            store.set_password(user["username"], new)
        except WeakPassword as exc:
            error = exc.dutch
        except InvalidInput:
            error = "Dit wachtwoord kan niet."
    if error:
        return render_template("password.html", user=user, error=error), 400
    sign_in(store.user_by_id(user["id"]))
    seclog.event("password.changed", user_id=user["id"])
    flash("Je wachtwoord is gewijzigd. Op andere apparaten ben je uitgelogd.")
    return redirect(_home_for(user), code=303)
