"""Security events through ``logging`` (logger ``web.security``), without personal data or question text.

Events: ``login.success``, ``login.failure``, ``logout``, ``password.changed``,
``account.created``/``account.removed``/``account.password_changed`` (from the
store, so the CLI's changes are logged too), and every 401, 403 and 429
answer. Each line names the event, the path and a client pseudonym; signed-in
users appear by numeric id. Client addresses and attempted usernames are
personal data, so they appear only as keyed pseudonyms: the first 12 hex
digits of HMAC-SHA-256 with the app's secret key. The same client or account
name gives the same pseudonym, so a password-guessing run stays visible as
one source, but the log alone does not reveal who it was. The library never
configures handlers or levels (the ``schakel serve`` CLI does).
"""
from __future__ import annotations

import hashlib
import hmac
import logging

from flask import current_app, request

log = logging.getLogger("web.security")


def pseudonym(value: str) -> str:
    """Keyed, stable, non-reversible stand-in for a client address or an attempted username."""
    key = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(key, str(value).encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:12]


def event(name: str, **fields) -> None:
    """Log one security event at INFO (failures and refusals at WARNING) with client pseudonym and path.

    ``fields`` must hold no personal data: user ids, roles, statuses and pseudonyms only.
    """
    level = logging.WARNING if name.endswith(("failure", "refused")) or name.isdigit() else logging.INFO
    extra = " ".join(f"{k}={v}" for k, v in fields.items())
    client = pseudonym(request.remote_addr or "unknown") if request else "-"
    log.log(level, "%s path=%s client=%s%s", name, request.path if request else "-", client,
            f" {extra}" if extra else "")


def log_refusals(resp):
    """``after_request`` hook: 401, 403 and 429 answers become events (whoever raised them)."""
    if resp.status_code in (401, 403, 429):
        from .security import current_user

        user = current_user()
        event(str(resp.status_code), method=request.method, user_id=user["id"] if user else "-")
    return resp
