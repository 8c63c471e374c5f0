"""Web wiring: every blueprint is registered explicitly, views reach services through web.services,
and the request's database connection is closed at teardown."""
from __future__ import annotations

import sqlite3

import pytest


def test_every_blueprint_is_registered(app):
    assert {"api", "pages", "auth", "connector", "ring", "directory", "openapi"} <= set(app.blueprints)


def test_views_do_not_import_the_app_package():
    import pathlib

    import web
    for path in pathlib.Path(web.__file__).parent.glob("*.py"):
        if path.name != "__init__.py":
            assert "from . import services" not in path.read_text("utf-8"), path.name


def test_connection_closed_at_teardown(app):
    store = app.extensions["schakel"].store
    seen = []
    with app.test_request_context("/"):
        seen.append(store.db.conn)
        store.users()
    with pytest.raises(sqlite3.ProgrammingError):
        seen[0].execute("SELECT 1")  # closed
    with app.app_context():
        assert store.users() == []  # reopened on next use
