"""Atomic publish: ``kill -9`` at any moment of ``schakel index`` leaves the previous index usable.

Each test indexes a small corpus (the "old" index), then runs the real CLI in
a subprocess on a bigger version of the corpus with a slow embedder
(``tests/slow_embedder.py``) and kills it with SIGKILL at a chosen point: just
after start, during embedding, while the new build is being written to
``builds/.tmp-*``, and with the new build complete just before it is published.
The old index must still verify and answer, with the old records only; the
next run must complete and publish.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexer import build_index
from indexer.index_format import read_manifest
from indexer.store import Home
from matcher import Engine
from matcher.loaded import LoadedIndex

EMB = "hash:256"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOPICS = ["rubrics", "stagebegeleiding", "kennisclips", "peerfeedback", "portfolio", "studiekeuze", "taalbeleid",
          "burgerschap", "examinering", "leerlijnen", "gamificatie", "mentoraat"]
OLD_EXPERTS = len(TOPICS)
NEW_REPORTS = 120


def make_corpus(root: Path, new: bool) -> Path:
    (root / "experten").mkdir(parents=True, exist_ok=True)
    for i, topic in enumerate(TOPICS):
        (root / "experten" / f"e{i:02d}.md").write_text(
            f"---\nid: exp-{i:02d}\nname: Expert {i}\nexpertise: [{topic}]\n---\n"
            f"Expert {i} weet veel van {topic} in het mbo.\n", "utf-8")
    if new:
        (root / "rapporten").mkdir(exist_ok=True)
        for i in range(NEW_REPORTS):
            (root / "rapporten" / f"r{i:03d}.md").write_text(
                f"---\nid: rap-{i:03d}\ntitle: Verslag {i}\n---\nDit verslag gaat over zeldzaamwoord{i} "
                f"en over sprinkhaandidactiek in bijeenkomst {i}.\n", "utf-8")
    return root


@pytest.fixture
def old_index(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", new=False)
    home = tmp_path / "home"
    report = build_index([corpus], home, embedder=EMB, progress=False)
    old_ids = set(LoadedIndex(report.build).records)
    assert len(old_ids) == OLD_EXPERTS
    make_corpus(corpus, new=True)                       # the corpus grows; the index is still the old one
    return corpus, home, report.build, old_ids


def start_index(corpus: Path, home: Path, marks: Path, publish_pause: float = 0.0) -> subprocess.Popen:
    marks.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update(SLOW_EMBED_SECONDS="0.1", SLOW_MARK_DIR=str(marks), SLOW_PUBLISH_SECONDS=str(publish_pause),
               PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, str(HERE / "slow_embedder.py"), "index", str(corpus),
                             "--home", str(home)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 60.0, step: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"indexer ended (exit {proc.returncode}) before the kill point:\n{err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("kill point not reached in time")
        time.sleep(step)


def tmp_builds(home: Path) -> list[Path]:
    builds = Home(home).builds
    return [p for p in builds.iterdir() if p.name.startswith(".tmp-")] if builds.is_dir() else []


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def assert_old_index_intact(home: Path, old_build: Path, old_ids: set[str]) -> None:
    h = Home(home)
    assert h.current() == old_build
    manifest = read_manifest(h.current(), verify=True)          # every checksum still matches
    assert manifest["counts"]["records"] == len(old_ids)
    engine = Engine(home, embedder=EMB)
    res = engine.match("Wie weet iets van burgerschap?")
    assert res.matches["expert"][0].id == "exp-07"
    assert set(engine.index().records) == old_ids
    new = engine.match("sprinkhaandidactiek zeldzaamwoord5")
    assert new.matches["report"] == []                           # nothing of the unfinished run


def assert_next_run_publishes(corpus: Path, home: Path, old_build: Path):
    report = build_index([corpus], home, embedder=EMB, progress=False)
    assert report.changed and report.build != old_build
    assert Home(home).current() == report.build
    assert tmp_builds(home) == []                                  # leftovers of the killed run are gone
    index = LoadedIndex(report.build)
    assert len(index.records) == OLD_EXPERTS + NEW_REPORTS
    res = Engine(home, embedder=EMB).match("sprinkhaandidactiek zeldzaamwoord5")
    assert "rap-005" in [m.id for m in res.matches["report"][:3]]
    return report


def test_kill_shortly_after_start(old_index, tmp_path):
    corpus, home, old_build, old_ids = old_index
    proc = start_index(corpus, home, tmp_path / "marks")
    time.sleep(0.3)
    if proc.poll() is None:
        kill(proc)
    assert_old_index_intact(home, old_build, old_ids)
    assert_next_run_publishes(corpus, home, old_build)


def test_kill_during_embedding_keeps_the_finished_batches(old_index, tmp_path):
    corpus, home, old_build, old_ids = old_index
    marks = tmp_path / "marks"
    proc = start_index(corpus, home, marks)
    wait_for(lambda: (marks / "embedding").exists(), proc)
    time.sleep(0.4)                                               # a few batches of 16 are done
    assert proc.poll() is None, "the run finished before it could be killed"
    kill(proc)
    assert not (marks / "publishing").exists()
    assert_old_index_intact(home, old_build, old_ids)
    report = assert_next_run_publishes(corpus, home, old_build)
    # the embedding cache commits per batch: the killed run's work is not lost
    assert 0 < report.embedded < NEW_REPORTS


def test_kill_while_writing_the_new_build(old_index, tmp_path):
    corpus, home, old_build, old_ids = old_index
    proc = start_index(corpus, home, tmp_path / "marks", publish_pause=5.0)
    wait_for(lambda: bool(tmp_builds(home)), proc, step=0.002)
    kill(proc)
    assert tmp_builds(home), "the unfinished build stays behind until the next run"
    assert_old_index_intact(home, old_build, old_ids)
    assert_next_run_publishes(corpus, home, old_build)


def test_kill_just_before_publish(old_index, tmp_path):
    corpus, home, old_build, old_ids = old_index
    marks = tmp_path / "marks"
    proc = start_index(corpus, home, marks, publish_pause=5.0)
    wait_for(lambda: (marks / "publishing").exists(), proc)
    [tmp] = tmp_builds(home)
    assert (tmp / "manifest.json").is_file()                      # the new build is complete in .tmp-*
    kill(proc)
    assert_old_index_intact(home, old_build, old_ids)
    # a complete but unpublished build is never picked up by a reader
    assert Home(home).current_name() == old_build.name
    assert_next_run_publishes(corpus, home, old_build)


def test_a_second_indexer_is_refused_while_one_runs(old_index, tmp_path):
    from indexer.errors import IndexBusy

    corpus, home, old_build, old_ids = old_index
    marks = tmp_path / "marks"
    proc = start_index(corpus, home, marks)
    wait_for(lambda: (marks / "embedding").exists(), proc)
    with pytest.raises(IndexBusy):
        build_index([corpus], home, embedder=EMB, progress=False)
    kill(proc)
    assert_old_index_intact(home, old_build, old_ids)
    # the kernel released the dead process' lock: the next run goes ahead
    assert_next_run_publishes(corpus, home, old_build)


def test_reader_keeps_answering_while_a_new_index_is_published(old_index):
    corpus, home, old_build, old_ids = old_index
    engine = Engine(home, embedder=EMB)
    assert engine.match("peerfeedback").matches["expert"][0].id == "exp-03"
    assert engine.index().build == old_build

    served: list[str] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def ask_until_done():
        while not done.is_set():
            try:
                res = engine.match("Wie weet iets van peerfeedback?")
                assert res.matches["expert"][0].id == "exp-03"
                served.append(engine.index().build.name)
                time.sleep(0.01)
            except BaseException as exc:  # noqa: BLE001 - collected and failed below
                errors.append(exc)
                return

    reader = threading.Thread(target=ask_until_done)
    reader.start()
    try:
        report = build_index([corpus], home, embedder=EMB, progress=False)
    finally:
        done.set()
        reader.join(timeout=30)
    assert errors == []
    assert served and served[0] == old_build.name
    assert set(served) <= {old_build.name, report.build.name}
    # the next request after the publish is answered from the new build
    res = engine.match("sprinkhaandidactiek zeldzaamwoord5")
    assert engine.index().build == report.build
    assert res.matches["report"][0].id == "rap-005"
    assert engine.match("peerfeedback").matches["expert"][0].id == "exp-03"
