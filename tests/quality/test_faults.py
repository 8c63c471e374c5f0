"""Fault matrix for indexing: kill -9 at each stage, corrupted or truncated index files, a full disk.

What must hold whatever goes wrong while ``schakel index`` runs:

- the published index keeps answering (``Engine.match`` returns the old records);
- ``CURRENT`` keeps naming the old build until a new one is complete;
- the next run completes and leaves no ``builds/.tmp-*`` behind;
- a damaged index gives ``CorruptIndex``/``IndexMissing`` naming the file, and
  ``schakel index --rebuild`` recovers.

Kills use the real CLI (``python -m schakel index``) in a subprocess with the
hash test embedder. To kill at a chosen stage, the subprocess runs the CLI
behind a tiny shim that pauses at that stage and writes a marker file; one
test kills an unmodified ``python -m schakel index`` by polling for the
``builds/.tmp-*`` folder instead.
"""
from __future__ import annotations

import errno
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import build_index
from indexer.errors import CorruptIndex, IndexMissing, SchakelError
from indexer.store import Home

ROOT = Path(__file__).resolve().parents[2]
EMB = "hash:256"
NEW_WORD = "zwaluwstaartverbinding"

WORDS = ("leren onderwijs docent student feedback toetsing didactiek samenwerking praktijk opleiding "
         "leergemeenschap werkplek begeleiding coaching ontwerp lesmateriaal digitaal blended kennisdeling "
         "onderzoek innovatie netwerk themagroep expertise professionalisering reflectie motivatie "
         "zelfregulatie beoordeling rubric portfolio stage mentor curriculum leerdoel vaardigheden "
         "gepersonaliseerd flexibel hybride werkvorm groepswerk presentatie schrijven lezen rekenen "
         "burgerschap loopbaan studiesucces binding uitval eerstejaars intake verbinder kennisclip").split()

SHIM = r"""
import os, sys, time, pathlib
stage, marker = sys.argv[1], pathlib.Path(sys.argv[2])
def pause(tag):
    part = marker.with_name(marker.name + ".part")
    part.write_text(tag)
    os.replace(part, marker)   # whole or absent: the test reads it as soon as it exists
    time.sleep(120)   # the test kills us here
import indexer.build as b
import indexer.store as st
if stage == "parse":
    orig_rc = b.read_corpus
    def read_corpus(*a, **k):
        r = orig_rc(*a, **k); pause("parse"); return r
    b.read_corpus = read_corpus
elif stage == "embed":
    from indexer.embedders import HashEmbedder
    orig_ep = HashEmbedder.embed_passages
    calls = [0]
    def embed_passages(self, texts):
        calls[0] += 1
        if calls[0] == 3:   # two batches are already committed to the cache
            pause("embed")
        return orig_ep(self, texts)
    HashEmbedder.embed_passages = embed_passages
elif stage == "write-db":
    orig_db = b._write_db
    def _write_db(path, *a, **k):
        orig_db(path, *a, **k); pause("write-db")
    b._write_db = _write_db
elif stage == "write-vectors":
    import indexer.ann as ann
    def write(index, path):   # half a file on disk, then the kill
        pathlib.Path(path).write_bytes(b"IxFI" + b"\0" * 4096); pause("write-vectors")
    ann.write = write
elif stage == "publish-rename":   # the build folder has its final name, CURRENT still names the old one
    orig_rename = os.rename
    def rename(src, dst, *a, **k):
        orig_rename(src, dst, *a, **k)
        if ".tmp-" in str(src):
            pause("publish-rename")
    st.os.rename = rename
elif stage == "publish-pointer":  # the new pointer file is written, not yet moved over CURRENT
    orig_replace = os.replace
    def replace(src, dst, *a, **k):
        if str(dst).endswith("CURRENT"):
            pause("publish-pointer")
        return orig_replace(src, dst, *a, **k)
    st.os.replace = replace
from schakel.cli import main
main(sys.argv[3:], prog_name="schakel")
"""


def make_corpus(root: Path, n_files: int = 40, paragraphs: int = 3, seed: int = 7) -> Path:
    """A corpus of experts and literature in Dutch-ish words; deterministic."""
    rng = random.Random(seed)
    for sub in ("experten", "literatuur"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(n_files):
        body = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(120)) + "." for _ in range(paragraphs))
        if i % 2:
            text = f"---\nid: exp-{i}\nname: Expert {i}\norganisation: Hogeschool {i % 7}\n---\n\n{body}\n"
            (root / "experten" / f"expert-{i}.md").write_text(text, "utf-8")
        else:
            text = f"---\nid: lit-{i}\ntitle: Publicatie {i}\nyear: {2000 + i % 20}\n---\n\n{body}\n"
            (root / "literatuur" / f"lit-{i}.md").write_text(text, "utf-8")
    return root


def add_new_record(corpus: Path) -> None:
    (corpus / "experten" / "nieuw.md").write_text(
        f"---\nid: exp-nieuw\nname: Nieuwe expert\n---\n\nZij weet alles van de {NEW_WORD} in het hout.\n", "utf-8")


def env() -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    e["SCHAKEL_EMBEDDER"] = EMB
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def record_ids(home: Path) -> set[str]:
    from matcher import Engine

    return set(Engine(home, embedder=EMB).index().records)


def new_record_found(home: Path) -> bool:
    from matcher import Engine

    res = Engine(home, embedder=EMB).match(f"Wie weet iets van {NEW_WORD}?")
    return any(m.id == "exp-nieuw" for ms in res.matches.values() for m in ms)


def tmp_dirs(home: Path) -> list[str]:
    builds = Home(home).builds
    return [p.name for p in builds.iterdir() if p.name.startswith(".tmp-")] if builds.is_dir() else []


@pytest.fixture
def indexed(tmp_path):
    """A home with one published build of a generated corpus; returns (home, corpus, old ids, old CURRENT)."""
    corpus = make_corpus(tmp_path / "corpus")
    home = tmp_path / "home"
    build_index([corpus], home, embedder=EMB, progress=False)
    return home, corpus, record_ids(home), Home(home).current_name()


def assert_old_index_serves(home: Path, old_ids: set[str], old_current: str) -> None:
    from matcher import Engine

    assert Home(home).current_name() == old_current, "CURRENT changed although no build completed"
    engine = Engine(home, embedder=EMB)
    res = engine.match("Hoe geef ik feedback in een leergemeenschap?")
    assert sum(len(v) for v in res.matches.values()) > 0
    assert set(engine.index().records) == old_ids
    assert not new_record_found(home)


def assert_next_run_completes(home: Path, corpus: Path, old_current: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "schakel", "index", str(corpus), "--home", str(home)],
                          env=env(), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert Home(home).current_name() != old_current
    assert new_record_found(home)
    assert tmp_dirs(home) == []


# --- kill -9 --------------------------------------------------------------

@pytest.mark.parametrize("stage", ["parse", "embed", "write-db", "write-vectors", "publish-rename",
                                   "publish-pointer"])
def test_kill_at_stage_keeps_old_index_and_next_run_completes(indexed, tmp_path, stage):
    home, corpus, old_ids, old_current = indexed
    add_new_record(corpus)
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", SHIM, stage, str(marker), "index", str(corpus), "--home",
                             str(home), "--rebuild"], env=env(), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"index run ended before stage {stage}: {proc.stderr.read().decode()[-2000:]}")
            assert time.monotonic() < deadline, f"stage {stage} not reached in 30 s"
            time.sleep(0.02)
        assert marker.read_text() == stage
        if stage.startswith("write"):
            assert tmp_dirs(home), "a .tmp- build folder should exist while writing"
        # a reader during the run sees the old index
        assert_old_index_serves(home, old_ids, old_current)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert_old_index_serves(home, old_ids, old_current)
    assert_next_run_completes(home, corpus, old_current)


def test_kill_real_cli_while_writing(tmp_path):
    """No shim: poll for builds/.tmp-* of a plain `python -m schakel index` and SIGKILL it then."""
    corpus = make_corpus(tmp_path / "corpus", n_files=160, paragraphs=4)
    home = tmp_path / "home"
    build_index([corpus], home, embedder=EMB, progress=False)
    old_ids, old_current = record_ids(home), Home(home).current_name()
    add_new_record(corpus)
    builds = Home(home).builds
    proc = subprocess.Popen([sys.executable, "-m", "schakel", "index", str(corpus), "--home", str(home),
                             "--rebuild"], env=env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_while_writing = False
    try:
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if any(p.name.startswith(".tmp-") for p in builds.iterdir()):
                proc.send_signal(signal.SIGKILL)
                killed_while_writing = True
                break
            time.sleep(0.002)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    if not killed_while_writing:
        pytest.skip("the run finished before its .tmp- folder was seen (machine too fast for this corpus)")
    assert tmp_dirs(home), "the killed run's .tmp- folder is left until the next run"
    assert_old_index_serves(home, old_ids, old_current)
    assert_next_run_completes(home, corpus, old_current)


def test_lock_is_released_by_kill(indexed, tmp_path):
    """A killed run holds no lock: the next run does not report 'another schakel index is running'."""
    home, corpus, _, old_current = indexed
    add_new_record(corpus)
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", SHIM, "parse", str(marker), "index", str(corpus), "--home",
                             str(home)], env=env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        # while it runs, a second build is refused clearly
        from indexer.errors import IndexBusy
        with pytest.raises(IndexBusy, match="another `schakel index` is running"):
            build_index([corpus], home, embedder=EMB, progress=False)
    finally:
        proc.kill()
        proc.wait(10)
    build_index([corpus], home, embedder=EMB, progress=False)
    assert Home(home).current_name() != old_current


# --- corrupted or truncated index files ------------------------------------

def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 16):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00garbage{" * 7)


DAMAGE = {"truncate": _truncate, "flip": _flip, "garbage": _garbage}
FILES = ["records.db", "vectors.faiss", "concepts.npy", "vocabulary.json", "manifest.json",
         "bm25/data.csc.index.npy", "bm25/vocab.index.json"]


def _cli(*args) -> "object":
    from schakel.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_file_is_named_and_rebuild_recovers(indexed, name, damage):
    from matcher import Engine

    home, corpus, old_ids, _ = indexed
    build = Home(home).current()
    DAMAGE[damage](build / name)
    with pytest.raises(CorruptIndex) as exc:
        Engine(home, embedder=EMB).match("feedback in de praktijk")
    assert name in exc.value.message, exc.value.message
    assert "schakel index --rebuild" in exc.value.message
    # the CLI says the same, without a traceback
    res = _cli("ask", "feedback in de praktijk", "--home", str(home), "--embedder", EMB, "--no-input")
    assert res.exit_code == 1 and name in res.output and "Traceback" not in res.output
    # `schakel index --rebuild` recovers
    res = _cli("index", str(corpus), "--home", str(home), "--embedder", EMB, "--rebuild")
    assert res.exit_code == 0, res.output
    assert record_ids(home) == old_ids
    assert sum(len(v) for v in Engine(home, embedder=EMB).match("feedback").matches.values()) > 0


@pytest.mark.parametrize("name", FILES)
def test_a_plain_index_run_repairs_a_damaged_build_from_the_stored_embeddings(indexed, name):
    """What the Dutch message advises (``web.messages``, corrupt_index): `schakel index` without --rebuild
    builds a damaged index again, since its checksums fail, and embeds nothing."""
    from matcher import Engine
    from web.messages import BY_CODE

    assert "`schakel index` opnieuw" in BY_CODE["corrupt_index"]
    home, corpus, old_ids, _ = indexed
    _flip(Home(home).current() / name)
    res = _cli("index", str(corpus), "--home", str(home), "--embedder", EMB)
    assert res.exit_code == 0, res.output
    assert "Index gepubliceerd" in res.output and "(0 nieuw ge-embed, " in res.output, res.output
    assert record_ids(home) == old_ids
    assert sum(len(v) for v in Engine(home, embedder=EMB).match("feedback").matches.values()) > 0


def test_deleted_file_is_named(indexed):
    home, *_ = indexed
    (Home(home).current() / "vectors.faiss").unlink()
    from matcher import Engine

    with pytest.raises(CorruptIndex, match=r"vectors\.faiss is missing"):
        Engine(home, embedder=EMB).index()


def test_current_pointing_nowhere(indexed):
    from matcher import Engine

    home, corpus, old_ids, _ = indexed
    Home(home).current_file.write_text("20990101T000000-1-00000\n", "utf-8")
    with pytest.raises(CorruptIndex, match="20990101T000000-1-00000 is missing") as exc:
        Engine(home, embedder=EMB).index()
    assert "schakel index --rebuild" in exc.value.message
    res = _cli("index", str(corpus), "--home", str(home), "--embedder", EMB, "--rebuild")
    assert res.exit_code == 0, res.output
    assert record_ids(home) == old_ids


@pytest.mark.parametrize("content", [None, "", "\n"])
def test_current_missing_or_empty(indexed, content):
    from matcher import Engine

    home, corpus, *_ = indexed
    current = Home(home).current_file
    if content is None:
        current.unlink()
    else:
        current.write_text(content, "utf-8")
    with pytest.raises(IndexMissing, match="run `schakel index`"):
        Engine(home, embedder=EMB).index()
    assert _cli("index", str(corpus), "--home", str(home), "--embedder", EMB).exit_code == 0
    Engine(home, embedder=EMB).index()


def test_corrupt_index_in_web_app_gives_json_error(indexed):
    from matcher import Engine
    from web import create_app

    home, *_ = indexed
    _truncate(Home(home).current() / "records.db")
    app = create_app({"HOME": str(home), "TESTING": True, "ENGINE": Engine(home, embedder=EMB),
                      "SECRET_KEY": "x", "INTAKE_RATE": "1000/60"})
    resp = app.test_client().post("/api/match", json={"question": "feedback geven"})
    assert resp.status_code == 500
    err = resp.get_json()["error"]
    assert err["code"] == "corrupt_index" and "records.db" in err["message"]
    # the public page and the API name the file, not the server's folders
    assert str(home) not in err["message"] and "builds/" not in err["message"]


def test_corrupt_embedding_cache_does_not_block_indexing(indexed):
    """The cache is derived data: a damaged cache file is set aside, not a reason to fail."""
    home, corpus, old_ids, old_current = indexed
    cache = Home(home).cache_dir / "embeddings.db"
    for extra in ("-wal", "-shm"):
        Path(str(cache) + extra).unlink(missing_ok=True)
    cache.write_bytes(b"this is not a database" * 100)
    add_new_record(corpus)
    report = build_index([corpus], home, embedder=EMB, progress=False)
    assert report.build is not None and Home(home).current_name() != old_current
    assert new_record_found(home)
    assert sqlite3.connect(cache).execute("SELECT count(*) FROM vectors").fetchone()[0] > 0


# --- a full disk ------------------------------------------------------------

def _enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _sqlite_full(*_a, **_k):
    raise sqlite3.OperationalError("database or disk is full")


def _partial_db_then_full(path, *a, **k):
    Path(path).write_bytes(b"SQLite format 3\0" + b"\0" * 1000)
    raise sqlite3.OperationalError("database or disk is full")


ENOSPC_POINTS = {
    "vectors": ("indexer.ann.write", _enospc),
    "records-db": ("indexer.build._write_db", _partial_db_then_full),
    "bm25": ("indexer.build._write_bm25", _enospc),
    "manifest": ("indexer.build.write_manifest", _enospc),
    "concepts": ("indexer.build.np.save", _enospc),
    "embedding-cache": ("indexer.store.EmbeddingCache.put_many", _sqlite_full),
    "fsync": ("indexer.store.os.fsync", _enospc),
}


@pytest.mark.parametrize("point", list(ENOSPC_POINTS))
def test_disk_full_loses_nothing_published(indexed, monkeypatch, point):
    home, corpus, old_ids, old_current = indexed
    old_build = Home(home).current()
    add_new_record(corpus)
    target, fail = ENOSPC_POINTS[point]
    with monkeypatch.context() as m:
        m.setattr(target, fail)
        with pytest.raises(SchakelError) as exc:
            build_index([corpus], home, embedder=EMB, progress=False, rebuild=True)
    message = exc.value.message
    assert "no space left" in message.lower() or "disk is full" in message.lower(), message
    assert "unchanged" in message and old_current in message, message
    assert exc.value.code == "index_write_failed"
    # nothing published was touched
    from indexer.index_format import read_manifest
    read_manifest(old_build, verify=True)
    assert_old_index_serves(home, old_ids, old_current)
    assert tmp_dirs(home) == [], "the failed run must remove its .tmp- folder"
    # after space is freed, the next run publishes
    build_index([corpus], home, embedder=EMB, progress=False)
    assert Home(home).current_name() != old_current
    assert new_record_found(home)
    assert tmp_dirs(home) == []
    leftovers = [p.name for p in Home(home).index_dir.iterdir() if p.name.startswith(".CURRENT.")]
    assert leftovers == []


def test_disk_full_while_switching_current(indexed, monkeypatch):
    """ENOSPC writing the new CURRENT pointer: the old build stays published, the CLI says why."""
    home, corpus, old_ids, old_current = indexed
    add_new_record(corpus)
    import indexer.store as store

    orig = Path.write_text

    def write_text(self, *a, **k):
        if self.name.startswith(".CURRENT."):
            self.write_bytes(b"")  # created, then the disk is full
            _enospc()
        return orig(self, *a, **k)

    monkeypatch.setattr(store.Path, "write_text", write_text)
    res = _cli("index", str(corpus), "--home", str(home), "--embedder", EMB)
    monkeypatch.undo()
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "No space left on device" in res.output and old_current in res.output, res.output
    assert_old_index_serves(home, old_ids, old_current)
    assert [p.name for p in Home(home).index_dir.iterdir() if p.name.startswith(".CURRENT.")] == []
    assert _cli("index", str(corpus), "--home", str(home), "--embedder", EMB).exit_code == 0
    assert new_record_found(home) and tmp_dirs(home) == []


def test_disk_full_cli_message(indexed, monkeypatch):
    home, corpus, _, old_current = indexed
    add_new_record(corpus)
    monkeypatch.setattr("indexer.ann.write", _enospc)
    res = _cli("index", str(corpus), "--home", str(home), "--embedder", EMB)
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert "No space left on device" in res.output and old_current in res.output
    assert json.loads((Home(home).current() / "manifest.json").read_text())["counts"]["records"] > 0
