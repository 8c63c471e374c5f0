"""Schakel web app: the participant pages, the connector and tussenring pages, and the JSON API.

``create_app(config, resolved=cfg)`` follows Flask's application factory. The
settings are resolved once, by ``indexer.settings.resolve`` (defaults,
``HOME/schakel.cfg``, ``SCHAKEL_*`` environment, command line), and the same
``Config`` goes to the engine, the app store and ``app.config`` (as upper-case
keys). Keys of the ``config`` dict that name a setting override it (tests);
other keys (``TESTING``, ``ENGINE``) go to ``app.config`` as they are.
"""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask

from indexer import settings
from matcher import Engine

from . import api, auth, connector, directory, errors, openapi, pages, retention, ring, security
from .embedgate import QueryGate, admit_questions
from .limits import install_limits, install_proxy_fix
from .notify import MailSettings, Notifier
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


def _resolve(config: dict | None, base: settings.Config | None) -> tuple[settings.Config, dict]:
    """(settings with the dict's setting keys applied, the dict's other keys)."""
    named = {k.lower(): v for k, v in (config or {}).items() if k.lower() in settings.BY_NAME and v is not None}
    other = {k.upper(): v for k, v in (config or {}).items() if k.lower() not in settings.BY_NAME}
    if base is None:
        return settings.resolve(named), other
    return base.replace(**named), other


#: the largest request body the app takes (Flask ``MAX_CONTENT_LENGTH``); a larger one gets the JSON 413
MAX_BODY_BYTES = 1_048_576
#: the largest body the WSGI server (waitress ``max_request_body_size``) reads before it refuses a request in plain
#: text, without asking the app: a few times the app's own limit, so that a body somewhat too large still gets the
#: app's JSON error, while waitress (which reads a whole body before it calls the app) never buffers more than this
SERVER_BODY_BYTES = 4 * MAX_BODY_BYTES


def create_app(config: dict | None = None, *, resolved: settings.Config | None = None) -> Flask:
    """The Flask app. ``resolved``: resolved settings (the CLI passes its own); ``config``: overrides.

    Raises InvalidInput when a setting is invalid (the message names its source).
    """
    cfg, other = _resolve(config, resolved)
    app = Flask(__name__, instance_relative_config=False)
    app.config.update({s.name.upper(): cfg[s.name] for s in settings.SETTINGS})
    app.config.update(TESTING=False, MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.config.update(other)
    home = cfg.home
    app.config["HOME"] = str(home)
    app.config["SCHAKEL_SETTINGS"] = cfg
    app.config["SECRET_KEY"] = cfg.secret_key or _secret_key(home)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config.get("SECURE_COOKIES")) and not app.config.get("TESTING"),
        PERMANENT_SESSION_LIFETIME=8 * 3600,
    )
    # query embeddings go through the gate: one model call per core, waiting queries batched
    engine = app.config.get("ENGINE")
    if engine is None:
        engine = Engine(config=cfg, embedder=QueryGate(cfg.embedder))
        # K questions at a time (cores), so the GIL stays free for cheap requests
        app.extensions["schakel_admission"] = admit_questions(engine)
    store = AppStore.from_config(cfg)
    notifier = Notifier(store, MailSettings.from_config(cfg))
    install_services(app, Services(engine=engine, store=store, config=cfg, notifier=notifier))
    security.install(app)
    retention.install(app, store)
    errors.install(app)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    install_proxy_fix(app, cfg.trusted_proxies)
    app.extensions["schakel_limiter"] = install_limits(app, cfg.ratelimit_storage)
    return app
