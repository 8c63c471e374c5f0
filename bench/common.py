"""Shared helpers for the benchmarks: paths, questions, a loopback server, RSS, percentiles, JSON output.

Every benchmark prints its figures as ratios against a baseline measured in
the same run (so a slower or busier machine moves both sides) and writes a
JSON summary to bench/out/<name>.json.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DEV_CORPUS = ROOT.parent / "shared" / "dev-eval" / "corpus"
DEMO_CORPUS = ROOT / "corpus"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def default_corpus() -> Path:
    return DEV_CORPUS if DEV_CORPUS.is_dir() else DEMO_CORPUS


def pct(values, q: float) -> float:
    """q-th percentile (0..100), linear interpolation; NaN for no values."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 2)


def write_json(name: str, data: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), "utf-8")
    return path


def machine() -> dict:
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "loadavg_1m_at_start": round(load[0], 2), "python": sys.version.split()[0]}


# --- questions ----------------------------------------------------------------

TEMPLATES = [
    "Hoe kan ik {topic} inzetten bij {group} in {context}?",
    "Wie heeft ervaring met {topic} voor {group}?",
    "Welke literatuur is er over {topic} in {context}?",
    "Ik zoek een expert die ons team helpt met {topic} voor {group}.",
    "Is er een themagroep die zich bezighoudt met {topic}?",
    "Wat werkt bij {topic} als je lesgeeft aan {group} in {context}?",
    "Hebben andere hogescholen al eens {topic} geprobeerd met {group}?",
    "Waar vind ik een handreiking of product over {topic} voor {context}?",
    "Hoe organiseer ik {topic} zonder dat het veel extra werk kost voor docenten van {group}?",
    "Kan iemand mij helpen om {topic} te verbeteren in {context}?",
]
TOPICS = [
    "peerfeedback bij schrijfopdrachten", "generatieve AI bij toetsing", "binding van eerstejaars",
    "blended leren", "een professionele leergemeenschap", "werkplekleren in de stage", "toegankelijk lesmateriaal",
    "studentcoaching", "kennisclips", "microcredentials", "onderzoekend vermogen", "internationalisering met COIL",
    "formatief evalueren", "rubrics voor beoordeling", "zelfregulatie van studenten", "flexibel onderwijs",
    "de driehoek student, werkplek en opleiding", "ChatGPT bij verslagen", "activerende didactiek",
    "samenwerking tussen docententeams", "uitval in het eerste jaar", "feedback op verslagen",
    "gepersonaliseerd leren", "hybride lessen", "inclusief onderwijs voor studenten met een beperking",
]
GROUPS = ["eerstejaars", "deeltijdstudenten", "docenten", "teamleiders", "stagiairs", "masterstudenten",
          "studenten verpleegkunde", "pabo-studenten", "mbo-instromers", "internationale studenten"]
CONTEXTS = ["de lerarenopleiding", "een hbo-opleiding verpleegkunde", "ons team in Leeuwarden", "Brightspace",
            "een grote collegezaal", "de minor", "het eerste semester", "een kleine opleiding", "Osiris",
            "de afstudeerfase", "onze hogeschool", "een online cursus"]


def questions(n: int, seed: int = 1) -> list[str]:
    """n distinct, realistic Dutch practice questions (deterministic)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        q = rng.choice(TEMPLATES).format(topic=rng.choice(TOPICS), group=rng.choice(GROUPS),
                                         context=rng.choice(CONTEXTS))
        if q not in seen:
            seen.add(q)
            out.append(q)
    return out


# --- a server on loopback -----------------------------------------------------

def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(home: Path, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHAKEL_")}
    env.update({"SCHAKEL_HOME": str(home), "SCHAKEL_INTAKE_RATE": "100000/60",
                "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")})
    env.update(extra or {})
    return env


class Server:
    """`schakel serve` in a subprocess on 127.0.0.1 (or any argv that serves on --port)."""

    def __init__(self, home: Path, threads: int | None = None, argv: list[str] | None = None, env: dict | None = None):
        """THREADS: waitress threads (None: the server's own default setting)."""
        self.port = free_port()
        self.home = home
        argv = argv or [sys.executable, "-m", "schakel", "serve", "--home", str(home)]
        self.argv = argv + ["--host", "127.0.0.1", "--port", str(self.port)]
        if threads is not None:
            self.argv += ["--threads", str(threads)]
        self.env = env or server_env(home)
        self.proc: subprocess.Popen | None = None
        self.log = OUT / f"server-{self.port}.log"

    def __enter__(self) -> "Server":
        OUT.mkdir(parents=True, exist_ok=True)
        self._logfh = open(self.log, "w")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=self._logfh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log.read_text()[-3000:]}")
            try:
                status, _ = self.get("/healthz", timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("server did not answer /healthz within 180 s")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._logfh.close()

    def conn(self, timeout: float = 60) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def get(self, path: str, timeout: float = 30) -> tuple[int, bytes]:
        c = self.conn(timeout)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def rss_mb(self) -> dict:
        return rss_mb(self.proc.pid)


def rss_mb(pid: int) -> dict:
    """VmRSS and VmHWM (peak) of a process, in MB, from /proc."""
    out = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = round(int(value.split()[0]) / 1024.0, 1)
    return {"rss_mb": out.get("VmRSS"), "peak_rss_mb": out.get("VmHWM")}


def post_json(conn: http.client.HTTPConnection, path: str, body: dict) -> tuple[int, bytes]:
    data = json.dumps(body).encode()
    conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


def ensure_index(home: Path, corpus: Path, embedder: str | None = None) -> dict:
    """Index corpus into home unless an index of it is already published (the embedding cache makes reruns cheap)."""
    from indexer import build_index

    t = time.perf_counter()
    report = build_index([corpus], home, embedder=embedder, progress=False)
    return {"seconds": round(time.perf_counter() - t, 2), "passages": report.passages, "changed": report.changed,
            "build": report.build.name if report.build else None}


EMBED_MAX_WORKER = r"""
import os, sys, threading, time
sys.path.insert(0, sys.argv[2])
os.environ.setdefault("OMP_WAIT_POLICY", "passive")   # as `schakel serve` sets it
from threadpoolctl import threadpool_limits
from indexer.embedders import get_embedder
emb = get_embedder(sys.argv[1])
seconds, qs = float(sys.argv[3]), [line.rstrip("\n") for line in sys.stdin]
emb.embed_query("opwarmen")
cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

def run(workers, batch):
    # WORKERS threads as the gate runs them: each on cores // workers OpenMP threads, one call at a time
    counts, stop = [0] * workers, time.perf_counter() + seconds

    def work(w):
        threadpool_limits(max(1, cores // workers), user_api="openmp")   # per thread, as web.embedgate does
        i = w * batch
        while time.perf_counter() < stop:
            part = qs[i % len(qs):i % len(qs) + batch] or qs[:batch]
            emb.embed_queries(part)
            counts[w] += len(part)
            i += workers * batch
    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)

only = [tuple(map(int, pair.split(","))) for pair in sys.argv[4].split(";")] if len(sys.argv) > 4 and sys.argv[4] else None
for workers in sorted({1, cores}):
    for batch in (1, 2, 4, 16):
        if only is None or (workers, batch) in only:
            print(workers, batch, run(workers, batch), flush=True)
"""


def embedder_max_qps(embedder: str, qs: list[str], seconds: float = 8.0,
                     only: list[tuple[int, int]] | None = None) -> dict:
    """The most questions per second the embedder alone does on this machine, in a sibling process started
    like the server (OMP_WAIT_POLICY=passive): one model call at a time on all cores, and one per core at a
    time (the server's query gate, ``web.embedgate.QueryGate``), each with one question per call and with
    batches of 2, 4 and 16 (what the gate does when questions queue). SECONDS per configuration; ONLY: just these
    (workers, batch) configurations. Returns {"w1_batch1": q/s, ..., "w2_batch16": ..., "max": q/s} (wN: N calls at
    a time)."""
    env = server_env(OUT)
    pairs = ";".join(f"{w},{b}" for w, b in only or [])
    proc = subprocess.run([sys.executable, "-c", EMBED_MAX_WORKER, embedder, str(ROOT), str(seconds), pairs],
                          input="\n".join(q.replace("\n", " ") for q in qs), capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=seconds * 8 + 300)
    if proc.returncode:
        raise RuntimeError(f"embedder-only run failed: {proc.stderr[-2000:]}")
    rates = {f"w{w}_batch{b}": round(float(r), 2)
             for w, b, r in (line.split() for line in proc.stdout.split("\n") if line.strip())}
    return {**rates, "max": max(rates.values())}
