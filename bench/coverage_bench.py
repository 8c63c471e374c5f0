"""Blind-spot coverage for many stored questions and many experts, vs detecting the questions alone.

    .venv/bin/python bench/coverage_bench.py [--experts 1000] [--questions 10000] [--embedder hash:256]

Builds a synthetic corpus (experts with expertise drawn from the thesaurus,
theme groups, literature) with a synthetic thesaurus of 200 extra concepts
on top of the built-in one, indexes it with the fast hash test embedder,
and times ``coverage.compute`` on N questions.

Baseline, in the same run: embedding and concept-detecting the same
questions (``coverage.detect_questions`` with cold caches): the part of
coverage that is per question. The ratio compute/baseline says what the
rest costs (record coverage of all experts, groups and sources, demand,
merging, ranking): 1.0 would be nothing. A warm second ``compute`` (the web
app keeps vectors and detections in memory) is reported too.
Target: cold ``compute`` under 30 s for 10,000 questions and 1,000 experts.
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, machine, questions as realistic_questions, write_json  # noqa: E402

ADJ = ["digitaal", "formatief", "inclusief", "hybride", "praktijkgericht", "interprofessioneel", "adaptief",
       "duurzaam", "internationaal", "activerend", "onderzoekend", "flexibel", "modulair", "coachend",
       "intercultureel", "programmatisch", "talig", "rekenkundig", "ethisch", "creatief"]
NOUN = ["toetsen", "beoordelen", "ontwerpen", "begeleiden", "samenwerken", "reflecteren", "presenteren",
        "schrijven", "lezen", "rekenen"]
PLACES = ["Zwolle", "Breda", "Groningen", "Arnhem", "Delft", "Tilburg", "Enschede", "Leiden"]
FILLER = ("de opleiding werkt met teams aan vernieuwing van het curriculum en zoekt verbinding met het "
          "werkveld terwijl studenten in projecten leren en docenten elkaar ondersteunen").split()


def synthetic_topics() -> list[tuple[str, str, list[str]]]:
    """200 (id, label, synonyms) in the shape of the thesaurus."""
    out = []
    for a in ADJ:
        for n in NOUN:
            out.append((f"syn-{a}-{n}", f"{a} {n}", [f"{n} {a}", f"{a}e {n}"]))
    return out


def write_corpus(root: Path, n_experts: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    topics = synthetic_topics()
    shutil.rmtree(root, ignore_errors=True)
    for sub in ("experts", "themagroepen", "literatuur"):
        (root / sub).mkdir(parents=True)
    lines = ["concepts:"]
    for cid, label, syns in topics:
        lines += [f"- id: {cid}", f"  label: {label}", f"  synonyms: [{', '.join(syns)}]",
                  f"  group: {rng.choice(['didactiek', 'toetsing', 'begeleiding', 'curriculum'])}"]
    (root / "thesaurus.yaml").write_text("\n".join(lines) + "\n", "utf-8")
    # leave a fifth of the topics without any expert: they become blind spots
    expert_topics = topics[: int(len(topics) * 0.8)]
    n_groups = max(1, n_experts // 25)
    for g in range(n_groups):
        label = rng.choice(topics)[1]
        (root / "themagroepen" / f"g{g}.md").write_text(
            f"---\nid: tg-{g}\nname: Themagroep {g}\nstatus: {rng.choice(['actief', 'actief', 'gestopt'])}\n"
            f"focus: {label}\n---\nDe groep werkt aan {label} en {rng.choice(topics)[1]}.\n", "utf-8")
    for i in range(n_experts):
        mine = rng.sample(expert_topics, 3)
        body = " ".join(rng.choice(FILLER) for _ in range(60))
        expertise = "\n".join(f"- {t[1]}" for t in mine)
        (root / "experts" / f"e{i}.md").write_text(
            f"---\nid: exp-{i}\nname: Expert {i}\norganisation: Afdeling {i % 7}, Hogeschool {rng.choice(PLACES)}\n"
            f"role: docent\nexpertise:\n{expertise}\navailable: {'false' if rng.random() < 0.05 else 'true'}\n"
            f"themegroups:\n- tg-{rng.randrange(n_groups)}\n---\n"
            f"Werkt aan {mine[0][1]} en {mine[1][2][0]}. {body}\n", "utf-8")
    for i in range(n_experts // 3):
        t = rng.choice(topics)
        (root / "literatuur" / f"l{i}.md").write_text(
            f"---\nid: lit-{i}\ntitle: Over {t[1]} ({i})\nauthors: [A. Auteur]\nyear: 2020\n---\n"
            f"Een overzicht van {t[1]} in het hoger onderwijs. {' '.join(rng.choice(FILLER) for _ in range(40))}\n",
            "utf-8")
    return [t[1] for t in topics]


def make_questions(n: int, labels: list[str], seed: int = 3) -> list[dict]:
    """Half realistic practice questions, half about the synthetic topics; with dates over a year."""
    rng = random.Random(seed)
    half = realistic_questions(n // 2, seed=seed)
    rest = [f"Hoe pak je {rng.choice(labels)} aan bij {rng.choice(['eerstejaars', 'deeltijd', 'de stage'])} "
            f"in {rng.choice(PLACES)}, vraag {i}?" for i in range(n - len(half))]
    return [{"question": q, "date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}
            for q in half + rest]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--experts", type=int, default=1000)
    ap.add_argument("--questions", type=int, default=10_000)
    ap.add_argument("--embedder", default="hash:256")
    ap.add_argument("--work", type=Path, default=OUT / "coverage-bench")
    args = ap.parse_args(argv)

    from indexer import build_index
    from matcher import Engine, coverage

    corpus, home = args.work / "corpus", args.work / "home"
    labels = write_corpus(corpus, args.experts)
    t = time.perf_counter()
    report = build_index([corpus], home, embedder=args.embedder, progress=False)
    build_s = time.perf_counter() - t
    qs = make_questions(args.questions, labels)
    engine = Engine(home, embedder=args.embedder)
    index = engine.index()
    n_exp = sum(1 for r in index.record_list if r.kind == "expert")
    print(f"index: {n_exp} experts, {len(index.record_list)} records, {len(index.passage_text)} passages, "
          f"{len(index.concepts)} concepts ({build_s:.1f} s to build); {len(qs)} questions; "
          f"embedder {args.embedder}", flush=True)

    coverage.clear_caches(index)
    t = time.perf_counter()
    coverage.detect_questions(engine, qs)
    baseline = time.perf_counter() - t

    coverage.clear_caches(index)
    t = time.perf_counter()
    rep = coverage.compute(engine, qs)
    cold = time.perf_counter() - t

    t = time.perf_counter()
    coverage.compute(engine, qs)
    warm = time.perf_counter() - t

    t = time.perf_counter()
    coverage.to_csv(rep)
    coverage.heatmap_svg(rep, index)
    render = time.perf_counter() - t

    ratio = cold / baseline if baseline else float("nan")
    ok = cold < 30.0
    print(f"baseline (embed + detect concepts of the questions): {baseline:.2f} s")
    print(f"compute, cold caches: {cold:.2f} s  = {ratio:.2f}x baseline  "
          f"({'under' if ok else 'OVER'} the 30 s target)")
    print(f"compute, warm (vectors and detections in memory): {warm:.2f} s")
    print(f"CSV + SVG: {render:.2f} s; {len(rep['blind_spots'])} blind spots, "
          f"{sum(1 for c in rep['concepts'] if c['demand'])} concepts with demand")
    out = {"experts": n_exp, "questions": len(qs), "concepts": len(index.concepts), "passages": len(index.passage_text),
           "embedder": args.embedder, "baseline_s": round(baseline, 3), "compute_cold_s": round(cold, 3),
           "compute_warm_s": round(warm, 3), "ratio_cold_to_baseline": round(ratio, 3), "render_s": round(render, 3),
           "target_s": 30.0, "under_target": ok, "blind_spots": len(rep["blind_spots"]), "machine": machine(),
           "index_build_s": round(build_s, 2), "index_changed": report.changed}
    print(f"written: {write_json('coverage', out)}")
    return out


if __name__ == "__main__":
    main()
