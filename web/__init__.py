"""Schakel web app: the participant pages, the connector and tussenring pages, and the JSON API.

``create_app(config)`` follows Flask's application factory: defaults from the
settings registry, then an instance config file (``HOME/schakel.cfg`` if it
exists), then ``SCHAKEL_*`` environment variables, then the test dict.
"""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask

from indexer import settings
from matcher import Engine

from . import api, auth, connector, directory, errors, openapi, pages, ring, security
from .services import Services, services
from .services import install as install_services
from .store import AppStore

__all__ = ["create_app", "services", "Services"]

log = logging.getLogger(__name__)

#: Every blueprint of the app, registered explicitly (Flask tutorial style).
BLUEPRINTS = (api.bp, pages.bp, auth.bp, connector.bp, ring.bp, directory.bp, openapi.bp)

def _secret_key(home: Path) -> str:
    """HOME/secret.key, made on first use: created with mode 0600 (never readable by others, not even for a
    moment) and O_EXCL, so two processes starting at once end up with the same key."""
    path = home / "secret.key"
    try:
        return path.read_text("utf-8").strip()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text("utf-8").strip()
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_hex(32))
        return path.read_text("utf-8").strip()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    for s in settings.SETTINGS:
        app.config[s.name.upper()] = s.default
    app.config["HOME"] = None
    app.config["EMBEDDER"] = None
    app.config["TESTING"] = False
    app.config["MAX_CONTENT_LENGTH"] = 1_048_576
    home_guess = settings.home(app.config["HOME"])
    app.config.from_pyfile(str(home_guess / "schakel.cfg"), silent=True)
    app.config.from_prefixed_env("SCHAKEL")
    if config:
        app.config.update({k.upper(): v for k, v in config.items()})
    home = settings.home(app.config["HOME"])
    app.config["HOME"] = str(home)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _secret_key(home)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config.get("SECURE_COOKIES")) and not app.config.get("TESTING"),
        PERMANENT_SESSION_LIFETIME=8 * 3600,
    )
    engine = app.config.get("ENGINE") or Engine(home, embedder=app.config.get("EMBEDDER"))
    store = AppStore(home / "app.db")
    install_services(app, Services(engine=engine, store=store))
    security.install(app)
    errors.install(app)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    return app
