"""One small SQL interface over the app database: SQLite (embedded, the default) or PostgreSQL (psycopg 3).

The app store writes portable SQL with ``?`` placeholders; for PostgreSQL they
become ``%s``. ``Database`` keeps one connection per thread (the web app closes
it at request teardown, as Flask's tutorial does), runs every statement in
autocommit mode unless inside ``transaction()``, and offers the handful of
sqlite-utils style table helpers the store and its tests use
(``db["t"].insert(row).last_pk``, ``.update(pk, values)``, ``.count``).

Why not SQLAlchemy: the store's queries are a few dozen lines of plain SQL
that both databases accept; a driver switch and a placeholder rewrite cover
the difference, without an ORM or a second query language.
"""
from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from indexer.errors import InvalidInput

PG_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(url: str | None) -> bool:
    return bool(url) and str(url).startswith(PG_SCHEMES)


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", str(url))


@dataclass
class Inserted:
    last_pk: int


class Table:
    """``db["name"]``: the sqlite-utils style helpers (insert, update, delete, count) on one table."""

    def __init__(self, db: "Database", name: str):
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"not a table name: {name!r}")
        self.db, self.name = db, name

    def insert(self, row: dict) -> Inserted:
        cols = list(row)
        sql = (f"INSERT INTO {self.name} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
               "RETURNING id")
        return Inserted(self.db.query(sql, [row[c] for c in cols])[0]["id"])

    def update(self, pk, values: dict) -> None:
        sets = ", ".join(f"{c} = ?" for c in values)
        self.db.execute(f"UPDATE {self.name} SET {sets} WHERE id = ?", [*values.values(), pk])

    def delete(self, pk) -> None:
        self.db.execute(f"DELETE FROM {self.name} WHERE id = ?", [pk])

    @property
    def count(self) -> int:
        return self.db.query(f"SELECT count(*) AS n FROM {self.name}")[0]["n"]


class Database:
    """The app database at ``url``: a SQLite file path (or ``sqlite:///PATH``) or ``postgresql://...``.

    Raises InvalidInput (field ``database_url``) when PostgreSQL cannot be reached.
    """

    def __init__(self, url: str | Path):
        text = str(url)
        self.dialect = "postgresql" if is_postgres(text) else "sqlite"
        self.url = text if self.dialect == "postgresql" else str(Path(text.removeprefix("sqlite:///")))
        self._local = threading.local()

    # --- connections -----------------------------------------------------------------------------
    @property
    def conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            self._local.depth = 0
        return conn

    def _connect(self):
        if self.dialect == "sqlite":
            conn = sqlite3.connect(self.url, timeout=15, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            return conn
        import psycopg
        from psycopg.rows import dict_row

        try:
            return psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise InvalidInput(f"database_url {redact(self.url)}: cannot connect: {str(exc).strip()}",
                               field="database_url") from exc

    def close(self) -> None:
        """Close this thread's connection; the next use opens a new one."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            conn.close()

    # --- statements ------------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s") if self.dialect == "postgresql" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()):
        """Run one statement; returns the cursor (``rowcount``)."""
        return self.conn.execute(self._sql(sql), list(params))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        """Rows of a SELECT (or ``... RETURNING``) as dicts."""
        cur = self.conn.execute(self._sql(sql), list(params))
        return [dict(r) for r in cur.fetchall()]

    def __getitem__(self, table: str) -> Table:
        return Table(self, table)

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Database"]:
        """All statements inside commit together or not at all (nested calls join the outer one).
        SQLite takes the write lock at the start (BEGIN IMMEDIATE), so two writers queue up."""
        conn = self.conn
        if self._local.depth:
            self._local.depth += 1
            try:
                yield self
            finally:
                self._local.depth -= 1
            return
        self._local.depth = 1
        try:
            if self.dialect == "sqlite":
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            else:
                with conn.transaction():
                    yield self
        finally:
            self._local.depth = 0

    # --- schema ----------------------------------------------------------------------------------
    def table_names(self) -> set[str]:
        if self.dialect == "sqlite":
            rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = self.query("SELECT table_name AS name FROM information_schema.tables "
                              "WHERE table_schema = current_schema()")
        return {r["name"] for r in rows}

    def columns(self, table: str) -> set[str]:
        if self.dialect == "sqlite":
            return {r["name"] for r in self.query(f"PRAGMA table_info({Table(self, table).name})")}
        return {r["name"] for r in self.query(
            "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ?", [table])}
