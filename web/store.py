"""The app database (HOME/app.db): accounts, feedback, consented intake questions, follow-ups, notes.

Privacy (AVG): a question is stored only with consent, with e-mail addresses
and phone numbers scrubbed first; a follow-up request keeps the e-mail address
the participant gave for that purpose only; everything carries a ``created``
date and ``purge()`` deletes what is older than the retention period.
Nothing here is touched by indexing.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import sqlite3
import threading
from pathlib import Path

import numpy as np
import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from indexer.errors import InvalidInput, NotFound

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w])(?:\+31[\s-]?|0031[\s-]?|0)(?:[1-9](?:[\s-]?\d){8})(?![\w])|"
                   r"(?<![\w])\+?\d(?:[\s-]?\d){9,13}(?![\w])")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
ROLES = ("connector", "tussenring", "admin")
_hasher = PasswordHasher()


def scrub(text: str) -> str:
    text = EMAIL.sub("[e-mailadres verwijderd]", text)
    return PHONE.sub("[telefoonnummer verwijderd]", text)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class AppStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._migrate()

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(str(self.path), timeout=15, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            db = self._local.db = sqlite_utils.Database(conn)
        return db

    def _migrate(self) -> None:
        db = self.db
        if "users" not in db.table_names():
            db["users"].create({"id": int, "username": str, "role": str, "password": str, "password_stamp": str,
                                "created": str}, pk="id")
            db["users"].create_index(["username"], unique=True)
        if "feedback" not in db.table_names():
            db["feedback"].create({"id": int, "question": str, "record_id": str, "useful": int, "created": str},
                                  pk="id")
        if "intakes" not in db.table_names():
            db["intakes"].create({"id": int, "question": str, "general": str, "answers": str, "concepts": str,
                                  "created": str, "status": str}, pk="id")
        if "vector" not in db["intakes"].columns_dict:  # added later: the scrubbed question's embedding
            db["intakes"].add_column("vector", bytes)
            db["intakes"].add_column("embedder", str)
        if "followups" not in db.table_names():
            db["followups"].create({"id": int, "intake_id": int, "email": str, "name": str, "message": str,
                                    "created": str, "status": str}, pk="id",
                                   foreign_keys=[("intake_id", "intakes", "id")])
        if "checklist" not in db["intakes"].columns_dict:  # added later: the ticked intake checklist items (JSON)
            db["intakes"].add_column("checklist", str)
        if "notes" not in db.table_names():
            db["notes"].create({"id": int, "intake_id": int, "author": str, "text": str, "created": str}, pk="id",
                               foreign_keys=[("intake_id", "intakes", "id")])

    # --- users -------------------------------------------------------------
    def add_user(self, username: str, password: str, role: str) -> dict:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise InvalidInput("username: 2-40 characters, lowercase letters, digits, '.', '_' or '-'",
                               field="username")
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
        if len(password) < 10:
            raise InvalidInput("password: at least 10 characters", field="password")
        if self.user_by_name(username):
            raise InvalidInput(f"user {username!r} already exists", field="username")
        row = {"username": username, "role": role, "password": _hasher.hash(password),
               "password_stamp": secrets.token_hex(8), "created": now()}
        self.db["users"].insert(row)
        return self.user_by_name(username)

    def set_password(self, username: str, password: str) -> None:
        user = self.user_by_name(username)
        if not user:
            raise NotFound(f"no user {username!r}", field="username")
        if len(password) < 10:
            raise InvalidInput("password: at least 10 characters", field="password")
        self.db["users"].update(user["id"], {"password": _hasher.hash(password),
                                             "password_stamp": secrets.token_hex(8)})

    def remove_user(self, username: str) -> None:
        user = self.user_by_name(username)
        if not user:
            raise NotFound(f"no user {username!r}", field="username")
        self.db["users"].delete(user["id"])

    def users(self) -> list[dict]:
        return [{k: u[k] for k in ("username", "role", "created")}
                for u in self.db.query("SELECT * FROM users ORDER BY username")]

    def user_by_name(self, username: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM users WHERE username = ?", [username.strip().lower()]))
        return rows[0] if rows else None

    def user_by_id(self, uid) -> dict | None:
        rows = list(self.db.query("SELECT * FROM users WHERE id = ?", [uid]))
        return rows[0] if rows else None

    def authenticate(self, username: str, password: str) -> dict | None:
        user = self.user_by_name(username or "")
        if user is None:
            try:  # same work for unknown users: no timing oracle
                _hasher.verify(_DUMMY, password or "x")
            except (VerificationError, InvalidHashError):
                pass
            return None
        try:
            _hasher.verify(user["password"], password or "")
        except (VerificationError, InvalidHashError):
            return None
        return user

    # --- feedback ----------------------------------------------------------
    def add_feedback(self, question: str, record_id: str, useful: bool) -> int:
        return self.db["feedback"].insert({"question": scrub(question)[:2000], "record_id": record_id[:200],
                                           "useful": int(bool(useful)), "created": now()}).last_pk

    def feedback_questions(self):
        from matcher.evaluate import Question

        by_q: dict[str, dict[str, int]] = {}
        for row in self.db.query("SELECT question, record_id, useful FROM feedback ORDER BY id"):
            rel = by_q.setdefault(row["question"], {})
            if row["useful"]:
                rel[row["record_id"]] = 1
            else:
                rel.pop(row["record_id"], None)
        return [Question(f"fb{i}", q, rel) for i, (q, rel) in enumerate(by_q.items(), start=1) if rel]

    # --- intakes -----------------------------------------------------------
    def add_intake(self, question: str, general: str = "", answers: dict | None = None,
                   concepts: list[str] | None = None, embed=None) -> int:
        """Store a consented question, scrubbed. ``embed(text) -> (vector, embedder name)`` optionally
        stores the scrubbed question's embedding too, so coverage need not embed it again; it is
        deleted with the question."""
        text = scrub(question)[:4000]
        vector, embedder = (None, None)
        if embed is not None:
            vec, embedder = embed(text)
            vector = np.asarray(vec, np.float32).tobytes()
        return self.db["intakes"].insert({
            "question": text, "general": general, "answers": json.dumps(
                {k: scrub(v) for k, v in (answers or {}).items()}, ensure_ascii=False),
            "concepts": json.dumps(concepts or [], ensure_ascii=False), "created": now(), "status": "nieuw",
            "vector": vector, "embedder": embedder}).last_pk

    def intake(self, intake_id: int) -> dict:
        rows = list(self.db.query("SELECT * FROM intakes WHERE id = ?", [intake_id]))
        if not rows:
            raise NotFound(f"no intake {intake_id}", field="id")
        row = rows[0]
        row.pop("vector", None)
        row["answers"] = json.loads(row["answers"] or "{}")
        row["checklist"] = json.loads(row.get("checklist") or "[]")
        row["concepts"] = json.loads(row["concepts"] or "[]")
        row["followups"] = list(self.db.query("SELECT * FROM followups WHERE intake_id = ? ORDER BY id", [intake_id]))
        row["notes"] = list(self.db.query("SELECT * FROM notes WHERE intake_id = ? ORDER BY id", [intake_id]))
        return row

    def intakes(self, limit: int = 200) -> list[dict]:
        return list(self.db.query(
            "SELECT i.*, (SELECT count(*) FROM followups f WHERE f.intake_id = i.id) AS followups "
            "FROM intakes i ORDER BY i.id DESC LIMIT ?", [limit]))

    def set_intake_status(self, intake_id: int, status: str) -> None:
        self.intake(intake_id)
        self.db["intakes"].update(intake_id, {"status": status[:40]})

    def all_questions(self) -> list[dict]:
        out = []
        for r in self.db.query("SELECT question, created, vector, embedder FROM intakes ORDER BY id"):
            q = {"question": r["question"], "date": r["created"][:10]}
            if r["vector"]:
                q["vector"] = np.frombuffer(r["vector"], dtype=np.float32)
                q["embedder"] = r["embedder"]
            out.append(q)
        return out

    def similar_intakes(self, question: str, concepts: list[str], limit: int = 3) -> list[dict]:
        """Earlier consented questions about the same concepts, most shared concepts first, newest first.
        For connectors only: stored questions never appear on public pages."""
        if not concepts:
            return []
        wanted = set(concepts)
        scored = []
        for r in self.db.query("SELECT id, question, concepts, created FROM intakes ORDER BY id DESC LIMIT 2000"):
            shared = wanted & set(json.loads(r["concepts"] or "[]"))
            if shared and r["question"] != scrub(question):
                scored.append((len(shared), r["created"], r["question"], r["id"]))
        scored.sort(key=lambda x: (x[0], x[1]), reverse=True)
        return [{"id": i, "question": q, "source": "eerdere vraag", "date": created[:10]}
                for _, created, q, i in scored[:limit]]

    def add_followup(self, intake_id: int, email: str, name: str = "", message: str = "") -> int:
        self.intake(intake_id)
        email = email.strip()
        if not EMAIL.fullmatch(email) or len(email) > 254:
            raise InvalidInput("that is not a valid e-mail address", field="email")
        return self.db["followups"].insert({"intake_id": intake_id, "email": email, "name": name.strip()[:100],
                                            "message": scrub(message)[:2000], "created": now(),
                                            "status": "open"}).last_pk

    def add_note(self, intake_id: int, author: str, text: str) -> int:
        self.intake(intake_id)
        text = text.strip()
        if not text:
            raise InvalidInput("the note is empty", field="text")
        return self.db["notes"].insert({"intake_id": intake_id, "author": author, "text": text[:5000],
                                        "created": now()}).last_pk

    def update_note(self, intake_id: int, note_id: int, text: str) -> None:
        """Replace the text of note ``note_id`` of intake ``intake_id``. NotFound when it is not that intake's."""
        self._note(intake_id, note_id)
        text = text.strip()
        if not text:
            raise InvalidInput("the note is empty", field="text")
        self.db["notes"].update(note_id, {"text": text[:5000]})

    def delete_note(self, intake_id: int, note_id: int) -> None:
        self._note(intake_id, note_id)
        self.db["notes"].delete(note_id)

    def _note(self, intake_id: int, note_id: int) -> dict:
        rows = list(self.db.query("SELECT * FROM notes WHERE id = ? AND intake_id = ?", [note_id, intake_id]))
        if not rows:
            raise NotFound(f"no note {note_id} for intake {intake_id}", field="note")
        return rows[0]

    def set_checklist(self, intake_id: int, ticked: list[str]) -> None:
        """Store which intake checklist items (their keys) are ticked."""
        self.intake(intake_id)
        self.db["intakes"].update(intake_id, {"checklist": json.dumps(sorted(set(ticked)), ensure_ascii=False)})

    def purge(self, days: int) -> dict[str, int]:
        """Delete intakes (with their follow-ups and notes) and feedback older than ``days``."""
        cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)).replace(microsecond=0).isoformat()
        counts = {}
        with self.db.conn:
            old = [r["id"] for r in self.db.query("SELECT id FROM intakes WHERE created < ?", [cutoff])]
            for table in ("notes", "followups"):
                counts[table] = self.db.execute(
                    f"DELETE FROM {table} WHERE created < ? OR intake_id IN (SELECT id FROM intakes WHERE created < ?)",
                    [cutoff, cutoff]).rowcount
            counts["intakes"] = self.db.execute("DELETE FROM intakes WHERE created < ?", [cutoff]).rowcount
            counts["feedback"] = self.db.execute("DELETE FROM feedback WHERE created < ?", [cutoff]).rowcount
        assert len(old) == counts["intakes"]
        return counts


_DUMMY = _hasher.hash("not-a-real-password")
