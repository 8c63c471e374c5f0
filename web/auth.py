"""Log in and out for connectors (schakelaars), the tussenring and admins.

Accounts are made with ``schakel user add``; there is no self-registration.
A login starts a fresh session (the old one, with its CSRF token, is
dropped) that remembers the user id and the user's password stamp: changing
the password or removing the user ends every session of that user.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from .services import services
from .security import current_user

bp = Blueprint("auth", __name__)

MAX_FIELD = 200


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
    username = (request.form.get("username") or "")[:MAX_FIELD]
    password = (request.form.get("password") or "")[:MAX_FIELD * 5]
    user = services().store.authenticate(username, password) if username.strip() and password else None
    if user is None:
        return render_template("login.html", next=next_url, username=username, user=None,
                               error="De gebruikersnaam of het wachtwoord klopt niet."), 401
    session.clear()  # a fresh session: nothing from before the login survives (session fixation)
    session["uid"] = user["id"]
    session["pw"] = user["password_stamp"]
    session.permanent = True
    return redirect(next_url or _home_for(user))


@bp.post("/logout")
def logout():
    session.clear()
    flash("Je bent uitgelogd.")
    return redirect(url_for("pages.index"))
