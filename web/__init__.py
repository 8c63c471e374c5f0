"""Schakel web app: the participant pages, the connector and tussenring pages, and the JSON API.

``create_app(config)`` follows Flask's application factory: defaults from the
settings registry, then an instance config file (``HOME/schakel.cfg`` if it
exists), then ``SCHAKEL_*`` environment variables, then the test dict.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

from indexer import settings
from matcher import Engine

if TYPE_CHECKING:
    from .store import AppStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    engine: Engine
    store: "AppStore"


def _secret_key(home: Path) -> str:
    path = home / "secret.key"
    try:
        return path.read_text("utf-8").strip()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key, "utf-8")
        path.chmod(0o600)
        return key


def create_app(config: dict | None = None) -> Flask:
    from . import api, errors, pages
    from .security import install as install_security
    from .store import AppStore

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
    app.extensions["schakel"] = Services(engine=engine, store=store)
    install_security(app)
    errors.install(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    for name in ("auth", "connector", "ring", "directory", "openapi"):
        try:
            module = __import__(f"web.{name}", fromlist=["bp"])
        except ModuleNotFoundError as exc:
            if exc.name != f"web.{name}":
                raise
            continue
        app.register_blueprint(module.bp)

    @app.context_processor
    def _endpoints():
        return {"url_map_endpoints": set(app.view_functions)}
    return app


def services() -> Services:
    from flask import current_app

    return current_app.extensions["schakel"]
