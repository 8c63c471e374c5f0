"""The services a request works with: the matching engine and the app store.

``create_app`` builds one ``Services`` per app and keeps it in
``app.extensions["schakel"]``; views reach it with ``services()`` (the way
Flask's tutorial reaches its database with ``get_db()``), so no view imports
the app package back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from indexer.settings import Config
    from matcher import Engine

    from .notify import Notifier
    from .store import AppStore

KEY = "schakel"


@dataclass
class Services:
    """The engine (matcher.Engine), the app store (web.store.AppStore), the resolved settings and the
    e-mail notifier (web.notify.Notifier) of one app."""
    engine: "Engine"
    store: "AppStore"
    config: "Config"
    notifier: "Notifier"


def services() -> Services:
    """The services of the current app. Raises RuntimeError outside an app context (Flask's own error)."""
    return current_app.extensions[KEY]


def install(app: Flask, svc: Services) -> None:
    """Attach ``svc`` to ``app``, retry due e-mails now and then, close the request's connection at teardown."""
    app.extensions[KEY] = svc

    @app.before_request
    def _retry_mail() -> None:
        svc.notifier.maybe_retry()

    @app.teardown_appcontext
    def _close_store(_exc: BaseException | None) -> None:
        svc.store.close()
