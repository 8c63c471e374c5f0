"""The app-store suite, run on SQLite and on a real PostgreSQL server (tests/servers.py): every store
method, the schema versioning, and two stores (two machines) sharing one database."""
from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pytest

from indexer.errors import InvalidInput, NotFound
from web import migrations
from web.store import AppStore

PASSWORD = "een heel lang wachtwoord"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "app.db")
    return request.getfixturevalue("fresh_postgres")


@pytest.fixture
def store(url):
    s = AppStore(url)
    yield s
    s.close()


def backdate(store, table, row_id, days):
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)).replace(microsecond=0).isoformat()
    store.db[table].update(row_id, {"created": old})


def test_schema_is_versioned_and_migrating_twice_changes_nothing(store):
    assert migrations.version(store.db) == migrations.LATEST
    assert migrations.migrate(store.db) == []
    rows = store.db.query("SELECT version, description FROM schema_version ORDER BY version")
    assert [r["version"] for r in rows] == [n for n, _, _ in migrations.MIGRATIONS]
    assert {"users", "sessions", "intakes", "followups", "notes", "feedback", "outbox"} <= store.db.table_names()


def test_a_newer_schema_is_refused(store):
    store.db.execute("INSERT INTO schema_version (version, description, applied) VALUES (?, ?, ?)",
                     [migrations.LATEST + 1, "from the future", "2099-01-01"])
    with pytest.raises(RuntimeError, match="upgrade Schakel"):
        migrations.migrate(store.db)


def test_users_passwords_and_sessions(store):
    user = store.add_user("Anna", PASSWORD, "connector")
    assert user["username"] == "anna" and store.user_by_id(user["id"])["role"] == "connector"
    with pytest.raises(InvalidInput):
        store.add_user("anna", PASSWORD, "connector")
    assert store.authenticate("anna", PASSWORD)["id"] == user["id"]
    assert store.authenticate("anna", "verkeerd wachtwoord") is None
    token = store.start_session(user["id"])
    assert store.session_user(token, idle=3600, absolute=3600)["id"] == user["id"]
    assert store.session_user(token, idle=0, absolute=3600) is None  # idle: ended and deleted
    token = store.start_session(user["id"])
    assert store.end_sessions(user["id"]) == 1 and store.session_user(token, 3600, 3600) is None
    store.set_password("anna", "een ander lang wachtwoord")
    assert store.authenticate("anna", PASSWORD) is None
    assert [u["username"] for u in store.users()] == ["anna"]
    store.remove_user("anna")
    assert store.users() == [] and store.user_by_name("anna") is None


def test_intakes_tokens_followups_notes(store):
    vec = np.arange(4, dtype=np.float32)
    iid = store.add_intake("Mail mij op a@b.nl over kennisclips", "Hoe zet ik video in?", {"doel": "tempo"},
                           ["video"], embed=lambda text: (vec, "hash:4"))
    intake = store.intake(iid)
    assert "a@b.nl" not in intake["question"] and intake["answers"] == {"doel": "tempo"}
    assert intake["concepts"] == ["video"] and "vector" not in intake
    [q] = store.all_questions()
    assert np.array_equal(q["vector"], vec) and q["embedder"] == "hash:4"
    token = store.new_intake_token(iid)
    assert store.intake_id_for_token(token) == iid
    with pytest.raises(NotFound):
        store.intake_id_for_token("x" * 40)
    fid = store.add_followup(iid, "deelnemer@example.org", "Sam", "Graag")
    assert store.followup(fid)["email"] == "deelnemer@example.org"
    with pytest.raises(InvalidInput):
        store.add_followup(iid, "geen adres")
    store.add_note(iid, "anna", "Gebeld")
    store.set_intake_status(iid, "in behandeling")
    row = store.intakes()[0]
    assert row["followups"] == 1 and row["status"] == "in behandeling"
    assert [n["text"] for n in store.intake(iid)["notes"]] == ["Gebeld"]
    with pytest.raises(NotFound):
        store.intake(2**63)
    other = store.add_intake("Nog een vraag over video", concepts=["video", "toetsen"])
    assert store.similar_intakes("iets nieuws", ["video"])[0]["question"] == store.intake(other)["question"]


def test_feedback(store):
    store.add_feedback("Hoe zet ik video in?", "exp-ecbo", True, concepts=["video"], consent=True)
    store.add_feedback("Hoe zet ik video in?", "exp-x", False, concepts=["video"], consent=True)
    [q] = store.feedback_questions()
    assert q.relevant == {"exp-ecbo": 1}
    assert store.db["feedback"].count == 2


def test_outbox(store):
    iid = store.add_intake("Vraag")
    fid = store.add_followup(iid, "deelnemer@example.org")
    mid = store.queue_mail(fid, "participant", ["deelnemer@example.org"], "Onderwerp", "Tekst")
    assert [m["id"] for m in store.due_mail(0)] == [mid]
    store.mail_failed(mid, "ConnectionRefusedError", 100)
    assert store.due_mail(99) == [] and store.due_mail(100)[0]["recipients"] == ["deelnemer@example.org"]
    assert store.mail_problems()[0]["intake_id"] == iid
    store.mail_sent(mid)
    assert store.due_mail(2**40) == [] and store.mail_problems() == []


def test_purge_and_forget(store):
    old, new = store.add_intake("Oude vraag"), store.add_intake("Nieuwe vraag")
    fid = store.add_followup(old, "oud@example.org")
    store.queue_mail(fid, "connector", ["s@example.org"], "s", "b")
    store.add_note(old, "anna", "notitie")
    fb = store.add_feedback("Oude vraag", "exp-ecbo", True, consent=True)
    for table, rid in (("intakes", old), ("followups", fid), ("feedback", fb)):
        backdate(store, table, rid, 200)
    counts = store.purge(180)
    assert (counts["intakes"], counts["followups"], counts["notes"], counts["feedback"]) == (1, 1, 1, 1)
    assert [r["id"] for r in store.intakes()] == [new] and store.due_mail(2**40) == []
    fid = store.add_followup(new, "Iemand@Example.org")
    store.queue_mail(fid, "participant", ["iemand@example.org"], "s", "b")
    assert store.forget_email("iemand@example.org") == {"intakes": 1, "followups": 1, "notes": 0}
    assert store.intakes() == [] and store.due_mail(2**40) == []


def test_two_stores_share_one_database(url):
    """Two machines (two stores, two threads each) on one database see each other's writes."""
    a, b = AppStore(url), AppStore(url)
    iid = a.add_intake("Vraag via machine A")
    assert b.intake(iid)["question"] == "Vraag via machine A"
    errors = []

    def work(store, n):
        try:
            for i in range(10):
                store.add_followup(iid, f"p{n}-{i}@example.org")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            store.close()
    threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate((a, b, a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(a.intake(iid)["followups"]) == 40
