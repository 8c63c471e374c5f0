"""The app database (HOME/app.db): accounts, sessions, feedback, consented intake questions, follow-ups, notes.

Privacy (AVG): a question is stored only with consent, with e-mail addresses
and phone numbers scrubbed first (``web.scrub``); feedback keeps the record id
and the question's concepts, and the question itself only with consent; a
follow-up request keeps the e-mail address the participant gave for that
purpose only; everything carries a ``created`` date and ``purge()`` deletes what
is older than the retention period; ``forget_intake`` and ``forget_email``
delete everything about one intake or one address on request.
A participant reaches their own intake only through an unguessable token
(``add_intake`` returns it; the database keeps its SHA-256 only).
Sessions of signed-in users are server-side rows, so logout, a password change
and removing a user end them. The database file is created owner-only (0600)
before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
Nothing here is touched by indexing.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import os
import re
import secrets
import time
from pathlib import Path

import numpy as np
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from indexer.errors import InvalidInput, NotFound
from indexer.settings import ROLES

from .db import Database
from .migrations import migrate
from .passwords import MAX_PASSWORD_CHARS, check_password
from .scrub import EMAIL, scrub

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
#: Row ids are SQLite INTEGERs (signed 64 bit); anything outside is no row (and would overflow sqlite3).
MAX_ROW_ID = 2**63 - 1
_hasher = PasswordHasher()
log = logging.getLogger("web.security")


def token_hash(token: str) -> str:
    """SHA-256 hex of a bearer token (intake token, session id): the database never holds the token itself."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def valid_row_id(value) -> bool:
    """True for an int that can be a row id (1 .. 2**63-1); bools and everything else are not."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class AppStore:
    """The app data, in SQLite (``HOME/app.db``, the default) or PostgreSQL (``database_url``).

    ``AppStore(path_or_url)``; ``AppStore.from_config(cfg)`` picks ``cfg.database_url`` or the home's
    file. The schema is brought up to date on opening (web.migrations). Raises InvalidInput when the
    database cannot be reached.
    """

    def __init__(self, path: str | Path):
        self.db = Database(path)
        self.path = Path(self.db.url) if self.db.dialect == "sqlite" else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(self.path)
        self.db.wal_mode()
        migrate(self.db)

    @classmethod
    def from_config(cls, cfg) -> "AppStore":
        """The store a resolved Config names: ``database_url``, else HOME/app.db."""
        return cls(cfg.database_url or Path(cfg.home) / "app.db")

    def close(self) -> None:
        """Close this thread's connection (the app calls it at request teardown); the next use reopens."""
        self.db.close()

    # --- users -------------------------------------------------------------
    def add_user(self, username: str, password: str, role: str) -> dict:
        """Create an account. Raises InvalidInput (field username, role or password: too weak or too long)."""
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise InvalidInput("username: 2-40 characters, lowercase letters, digits, '.', '_' or '-'",
                               field="username")
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
        check_password(password, username)
        if self.user_by_name(username):
            raise InvalidInput(f"user {username!r} already exists", field="username")
        row = {"username": username, "role": role, "password": _hasher.hash(password),
               "password_stamp": secrets.token_hex(8), "created": now()}
        self.db["users"].insert(row)
        user = self.user_by_name(username)
        log.info("account.created user_id=%s role=%s", user["id"], role)
        return user

    def set_password(self, username: str, password: str) -> None:
        """New password for ``username``; every open session of that user ends. Raises NotFound, InvalidInput."""
        user = self.user_by_name(username)
        if not user:
            raise NotFound(f"no user {username!r}", field="username")
        check_password(password, user["username"])
        with self.db.transaction():
            self.db["users"].update(user["id"], {"password": _hasher.hash(password),
                                                 "password_stamp": secrets.token_hex(8)})
            self.end_sessions(user["id"])
        log.info("account.password_changed user_id=%s", user["id"])

    def remove_user(self, username: str) -> None:
        """Delete the account and all its sessions. Raises NotFound."""
        user = self.user_by_name(username)
        if not user:
            raise NotFound(f"no user {username!r}", field="username")
        with self.db.transaction():
            self.end_sessions(user["id"])
            self.db["users"].delete(user["id"])
        log.info("account.removed user_id=%s", user["id"])

    def users(self) -> list[dict]:
        return [{k: u[k] for k in ("username", "role", "created")}
                for u in self.db.query("SELECT * FROM users ORDER BY username")]

    def user_by_name(self, username: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM users WHERE username = ?", [username.strip().lower()]))
        return rows[0] if rows else None

    def user_by_id(self, uid) -> dict | None:
        if not valid_row_id(uid):
            return None
        rows = list(self.db.query("SELECT * FROM users WHERE id = ?", [uid]))
        return rows[0] if rows else None

    def authenticate(self, username: str, password: str) -> dict | None:
        """The user when ``password`` is theirs, else None. The password is checked whole: one longer than
        any accepted password (``MAX_PASSWORD_CHARS``) is simply wrong, never cut to fit."""
        dummy = _dummy_hash()  # first for every login, known user or not: the first login costs the same either way
        user = self.user_by_name(username or "")
        if user is None or not password or len(password) > MAX_PASSWORD_CHARS:
            try:  # same work for unknown users: no timing oracle
                _hasher.verify(dummy, "x" if not password or len(password) > MAX_PASSWORD_CHARS else password)
            except (VerificationError, InvalidHashError):
                pass
            return None
        try:
            _hasher.verify(user["password"], password)
        except (VerificationError, InvalidHashError):
            return None
        return user

    # --- sessions ----------------------------------------------------------
    def start_session(self, user_id: int) -> str:
        """A new server-side session for ``user_id``; returns the token for the (signed) session cookie."""
        token = secrets.token_urlsafe(32)
        t = int(time.time())
        self.db["sessions"].insert({"id": token_hash(token), "user_id": user_id, "created": t, "seen": t})
        return token

    def session_user(self, token: str, idle: int, absolute: int, touch_after: int = 60) -> dict | None:
        """The user of a live session, else None (and an expired session is deleted).

        A session lives at most ``absolute`` seconds after login and ``idle`` seconds after its last
        use; ``seen`` is written at most every ``touch_after`` seconds (one write per minute, not per request).
        """
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        sid = token_hash(token)
        rows = list(self.db.query("SELECT * FROM sessions WHERE id = ?", [sid]))
        if not rows:
            return None
        row, t = rows[0], int(time.time())
        if t - row["created"] >= absolute or t - row["seen"] >= idle:
            self.db.execute("DELETE FROM sessions WHERE id = ?", [sid])
            return None
        if t - row["seen"] >= touch_after:
            self.db.execute("UPDATE sessions SET seen = ? WHERE id = ?", [t, sid])
        return self.user_by_id(row["user_id"])

    def end_session(self, token: str) -> None:
        if isinstance(token, str) and token:
            self.db.execute("DELETE FROM sessions WHERE id = ?", [token_hash(token)])

    def end_sessions(self, user_id: int) -> int:
        """End every session of one user (password change, removal); returns how many ended."""
        n = self.db.execute("DELETE FROM sessions WHERE user_id = ?", [user_id]).rowcount
        return n

    # --- feedback ----------------------------------------------------------
    def add_feedback(self, question: str, record_id: str, useful: bool, concepts: list[str] | None = None,
                     consent: bool = False) -> int:
        """Store one judgement. The (scrubbed) question only with the participant's ``consent``; the record
        id and the question's ``concepts`` always. Callers limit the field lengths before calling."""
        return self.db["feedback"].insert({
            "question": scrub(question[:2100])[:2000] if consent else None, "record_id": record_id[:200],
            "concepts": json.dumps(list(concepts or [])[:20], ensure_ascii=False),
            "useful": int(bool(useful)), "created": now()}).last_pk

    def feedback_questions(self):
        """Labelled questions (matcher.evaluate.Question) from consented feedback; feedback without a
        question (no consent) cannot become a labelled question and is left out."""
        from matcher.evaluate import Question

        by_q: dict[str, dict[str, int]] = {}
        for row in self.db.query("SELECT question, record_id, useful FROM feedback "
                                 "WHERE question IS NOT NULL ORDER BY id"):
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
        text = scrub(question[:4100])[:4000]  # callers limit lengths; this bounds the work for any other caller
        vector, embedder = (None, None)
        if embed is not None:
            vec, embedder = embed(text)
            vector = np.asarray(vec, np.float32).tobytes()
        return self.db["intakes"].insert({
            "question": text, "general": general, "answers": json.dumps(
                {k: scrub(v[:400]) for k, v in (answers or {}).items()}, ensure_ascii=False),
            "concepts": json.dumps(concepts or [], ensure_ascii=False), "created": now(), "status": "nieuw",
            "vector": vector, "embedder": embedder}).last_pk

    def new_intake_token(self, intake_id: int) -> str:
        """Issue the participant's token for their own intake (replacing any earlier one); raises NotFound.

        The token (``secrets.token_urlsafe(24)``, 192 bits) is returned once and only its SHA-256 is kept."""
        self.intake(intake_id)
        token = secrets.token_urlsafe(24)
        self.db["intakes"].update(intake_id, {"token_hash": token_hash(token)})
        return token

    def intake_id_for_token(self, token) -> int:
        """The intake a participant's token belongs to. Raises NotFound for any other value."""
        if isinstance(token, str) and 20 <= len(token) <= 100:
            rows = list(self.db.query("SELECT id FROM intakes WHERE token_hash = ?", [token_hash(token)]))
            if rows:
                return rows[0]["id"]
        raise NotFound("no intake for this token", field="intake_token")

    def intake(self, intake_id: int) -> dict:
        """One intake with its follow-ups and notes. Raises NotFound (also for ids outside 1..2**63-1)."""
        rows = list(self.db.query("SELECT * FROM intakes WHERE id = ?", [intake_id])) if valid_row_id(intake_id) \
            else []
        if not rows:
            raise NotFound(f"no intake {intake_id}", field="id")
        row = rows[0]
        row.pop("vector", None)
        row.pop("token_hash", None)
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
        """Every stored question, oldest first: {"question", "date", "answers" (facet -> clarification answer),
        and "vector" and "embedder" when its embedding was stored}."""
        out = []
        for r in self.db.query("SELECT question, created, answers, vector, embedder FROM intakes ORDER BY id"):
            q = {"question": r["question"], "date": r["created"][:10], "answers": json.loads(r["answers"] or "{}")}
            if r["vector"]:
                q["vector"] = np.frombuffer(r["vector"], dtype=np.float32)
                q["embedder"] = r["embedder"]
            out.append(q)
        return out

    def similar_intakes(self, question: str, concepts: list[str], limit: int = 3) -> list[dict]:
        """Earlier consented questions about the same concepts, most shared concepts first, newest first:
        [{"id", "question", "source", "date"}]. For connectors only: stored questions never appear on public
        pages."""
        if not concepts:
            return []
        wanted = set(concepts)
        scored, own = [], None
        for r in self.db.query("SELECT id, question, concepts, created FROM intakes ORDER BY id DESC LIMIT 2000"):
            shared = wanted & set(json.loads(r["concepts"] or "[]"))
            if shared:
                own = scrub(question[:4100]) if own is None else own  # once per call, not once per row
                if r["question"] != own:
                    scored.append((len(shared), r["created"], r["question"], r["id"]))
        scored.sort(key=lambda x: (x[0], x[1]), reverse=True)
        return [{"id": i, "question": q, "source": "eerdere vraag", "date": created[:10]}
                for _, created, q, i in scored[:limit]]

    def add_followup(self, intake_id: int, email: str, name: str = "", message: str = "") -> int:
        self.intake(intake_id)
        email = email.strip()
        if len(email) > 254 or not EMAIL.fullmatch(email):
            raise InvalidInput("that is not a valid e-mail address", field="email")
        return self.db["followups"].insert({"intake_id": intake_id, "email": email, "name": name.strip()[:100],
                                            "message": scrub(message[:2100])[:2000], "created": now(),
                                            "status": "open"}).last_pk

    def followup(self, followup_id: int) -> dict:
        """One follow-up request row. Raises NotFound."""
        rows = list(self.db.query("SELECT * FROM followups WHERE id = ?", [followup_id]))
        if not rows:
            raise NotFound(f"no follow-up request {followup_id}", field="id")
        return rows[0]

    # --- outbox (web.notify) -----------------------------------------------------------------------
    def queue_mail(self, followup_id: int, kind: str, recipients: list[str], subject: str, body: str) -> int:
        """Store a message to send now; returns its outbox id."""
        return self.db["outbox"].insert({"followup_id": followup_id, "kind": kind,
                                         "recipients": json.dumps(recipients), "subject": subject, "body": body,
                                         "created": now(), "attempts": 0, "next_attempt": 0,
                                         "last_error": None}).last_pk

    def due_mail(self, at: int) -> list[dict]:
        """Unsent messages whose next attempt (Unix seconds) is at or before ``at``, oldest first."""
        rows = list(self.db.query("SELECT * FROM outbox WHERE next_attempt <= ? ORDER BY id", [at]))
        for r in rows:
            r["recipients"] = json.loads(r["recipients"])
        return rows

    def mail_sent(self, mail_id: int) -> None:
        with self.db.transaction():
            self.db.execute("DELETE FROM outbox WHERE id = ?", [mail_id])

    def mail_failed(self, mail_id: int, error: str, next_attempt: int) -> None:
        with self.db.transaction():
            self.db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt = ? "
                            "WHERE id = ?", [error, next_attempt, mail_id])

    def mail_problems(self) -> list[dict]:
        """Messages that failed at least once and are still unsent: id, followup_id, intake_id, kind,
        attempts, last_error, created."""
        return list(self.db.query(
            "SELECT o.id, o.followup_id, f.intake_id, o.kind, o.attempts, o.last_error, o.created "
            "FROM outbox o JOIN followups f ON f.id = o.followup_id WHERE o.attempts > 0 ORDER BY o.id"))

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
        """Delete note ``note_id`` of intake ``intake_id``. NotFound when it is not that intake's."""
        self._note(intake_id, note_id)
        self.db.execute("DELETE FROM notes WHERE id = ? AND intake_id = ?", [note_id, intake_id])

    def _note(self, intake_id: int, note_id: int) -> dict:
        rows = list(self.db.query("SELECT * FROM notes WHERE id = ? AND intake_id = ?", [note_id, intake_id])) \
            if valid_row_id(note_id) and valid_row_id(intake_id) else []
        if not rows:
            raise NotFound(f"no note {note_id} for intake {intake_id}", field="note")
        return rows[0]

    def set_checklist(self, intake_id: int, ticked: list[str]) -> None:
        """Store which intake checklist items (their keys, ``web.brief.CHECKLIST``) are ticked."""
        self.intake(intake_id)
        self.db["intakes"].update(intake_id, {"checklist": json.dumps(sorted(set(ticked)), ensure_ascii=False)})

    def purge(self, days: int, session_seconds: int | None = None) -> dict[str, int]:
        """Delete intakes (with their follow-ups and notes) and feedback older than ``days``; with
        ``session_seconds`` also sessions started longer ago than that (they can no longer be used)."""
        cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)).replace(microsecond=0).isoformat()
        counts = {}
        with self.db.transaction():
            old = [r["id"] for r in self.db.query("SELECT id FROM intakes WHERE created < ?", [cutoff])]
            counts["outbox"] = self.db.execute(
                "DELETE FROM outbox WHERE followup_id IN (SELECT f.id FROM followups f WHERE f.created < ? OR "
                "f.intake_id IN (SELECT id FROM intakes WHERE created < ?))", [cutoff, cutoff]).rowcount
            for table in ("notes", "followups"):
                counts[table] = self.db.execute(
                    f"DELETE FROM {table} WHERE created < ? OR intake_id IN (SELECT id FROM intakes WHERE created < ?)",
                    [cutoff, cutoff]).rowcount
            counts["intakes"] = self.db.execute("DELETE FROM intakes WHERE created < ?", [cutoff]).rowcount
            counts["feedback"] = self.db.execute("DELETE FROM feedback WHERE created < ?", [cutoff]).rowcount
            if session_seconds:
                counts["sessions"] = self.db.execute("DELETE FROM sessions WHERE created < ?",
                                                     [int(time.time()) - session_seconds]).rowcount
        assert len(old) == counts["intakes"]
        return counts

    # --- deletion on request (AVG art. 17) ---------------------------------------------------------
    def forget_intake(self, intake_id: int) -> dict[str, int]:
        """Delete one intake with its follow-ups and notes. Raises NotFound. Returns counts per table."""
        self.intake(intake_id)
        return self._forget([intake_id], [])

    def forget_email(self, email: str) -> dict[str, int]:
        """Delete every follow-up request with this e-mail address (case-insensitive), and the intakes
        those requests were about (with their notes). Returns counts per table (all 0 when unknown)."""
        email = (email or "").strip()
        if not email or len(email) > 254:
            raise InvalidInput("give the e-mail address to forget", field="email")
        rows = list(self.db.query("SELECT id, intake_id FROM followups WHERE lower(email) = lower(?)", [email]))
        return self._forget(sorted({r["intake_id"] for r in rows}), [r["id"] for r in rows])

    def _forget(self, intake_ids: list[int], followup_ids: list[int]) -> dict[str, int]:
        counts = {"intakes": 0, "followups": 0, "notes": 0}
        with self.db.transaction():
            for fid in followup_ids:
                self.db.execute("DELETE FROM outbox WHERE followup_id = ?", [fid])
                counts["followups"] += self.db.execute("DELETE FROM followups WHERE id = ?", [fid]).rowcount
            for iid in intake_ids:
                self.db.execute("DELETE FROM outbox WHERE followup_id IN (SELECT id FROM followups WHERE "
                                "intake_id = ?)", [iid])
                counts["notes"] += self.db.execute("DELETE FROM notes WHERE intake_id = ?", [iid]).rowcount
                counts["followups"] += self.db.execute("DELETE FROM followups WHERE intake_id = ?", [iid]).rowcount
                counts["intakes"] += self.db.execute("DELETE FROM intakes WHERE id = ?", [iid]).rowcount
        log.info("privacy.forget intakes=%d followups=%d notes=%d", counts["intakes"], counts["followups"],
                 counts["notes"])
        return counts


def _create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (O_EXCL: no window in which it is readable
    by others, and no race with a second process); SQLite then opens it and creates -wal/-shm alike."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


@functools.cache
def _dummy_hash() -> str:
    """An Argon2 hash to verify against for unknown users; made on the first login, not at import (it took
    about 1 s of `schakel serve`'s start-up on a busy machine, bench/startup_bench.py)."""
    return _hasher.hash("not-a-real-password")
