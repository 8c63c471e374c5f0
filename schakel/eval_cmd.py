"""`schakel eval`: measure matching on one or more labelled question files, each with its corpus.

Each question file is paired with a corpus and a home. By default the corpus
is the ``corpus/`` folder beside the file (the dev-eval layout) and is indexed
(incrementally: unchanged files are neither re-read nor re-embedded) into its
own home under ``--work``; ``--corpus`` and ``--home``, given once per file
in the files' order, override that. A home given without a corpus is used as
it is, without indexing. The scoring is ``matcher.evaluate``; the tables are
``matcher.eval_report``.
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from indexer import settings
from indexer.errors import InvalidInput

from .messages import DutchCommand, setting_help


@dataclass
class EvalSet:
    """One question file with the corpus it is about and the home its index lives in."""

    questions: Path
    corpus: Path | None
    home: Path | None


def default_work() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("schakel", appauthor=False)) / "eval"


def pair_sets(files: list[str], corpora: list[str], homes: list[str], work: Path) -> list[EvalSet]:
    """Pair each question file with its corpus and home (see the module docstring).

    Raises ``InvalidInput`` when --corpus or --home is given a different number of times than
    there are files, or when a file has neither a corpus beside it nor a home."""
    for name, given in (("--corpus", corpora), ("--home", homes)):
        if given and len(given) != len(files):
            raise InvalidInput(f"{name} is given {len(given)} times for {len(files)} question files; "
                               "give it once per file, in the same order", field=name)
    sets = []
    for i, f in enumerate(files):
        path = Path(f)
        corpus = Path(corpora[i]) if corpora else None
        home = Path(homes[i]) if homes else None
        if corpus is None and home is None:
            beside = path.parent / "corpus"
            if beside.is_dir():
                corpus = beside
            elif len(files) == 1:
                home = settings.home(None)   # the default home, as `schakel ask` uses it
            else:
                raise InvalidInput(f"{path}: no corpus/ folder beside it; give --corpus or --home for it",
                                   field="--corpus")
        if corpus is not None and home is None:
            digest = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:10]
            home = work / f"{corpus.resolve().parent.name or 'corpus'}-{digest}"
        sets.append(EvalSet(path, corpus, home))
    return sets


def prepare(s: EvalSet, embedder: str | None) -> None:
    """Index the set's corpus into its home (a no-op when nothing changed); warnings to stderr."""
    if s.corpus is None:
        return
    from indexer import build_index

    report = build_index([s.corpus], s.home, embedder=embedder)
    state = "unchanged" if not report.changed else "indexed"
    click.echo(f"{s.corpus}: {state} into {s.home} ({sum(report.kinds.values())} records, "
               f"{len(report.errors)} files skipped)", err=True)


def evaluate_set(s: EvalSet, embedder, systems: tuple[str, ...]) -> dict:
    """The ``Evaluator.run`` report of one set, plus where it came from."""
    from matcher import Engine
    from matcher.evaluate import Evaluator, load_questions

    qs = load_questions(s.questions)
    if not qs:
        raise InvalidInput(f"{s.questions}: has no questions", field="QUESTIONS")
    report = Evaluator(Engine(s.home, embedder=embedder)).run(qs, systems)
    report.update({"questions_file": str(s.questions), "corpus": str(s.corpus) if s.corpus else None,
                   "home": str(s.home)})
    return report


def run_sets(sets: list[EvalSet], embedder, systems: tuple[str, ...], values: dict) -> dict[str, dict]:
    """Every set's report with the knobs in ``values`` changed (a fresh Engine per set, so no
    cache built under other values is reused); {questions file: report}."""
    from matcher import knobs

    with knobs.overridden(values):
        out = {}
        for s in sets:
            out[str(s.questions)] = evaluate_set(s, embedder, systems)
            out[str(s.questions)]["knobs"] = knobs.changed()
        return out


def _systems(text: str | None, sweeping: bool) -> tuple[str, ...]:
    from matcher.evaluate import SYSTEMS

    chosen = tuple(s.strip() for s in (text or ("full" if sweeping else ",".join(SYSTEMS))).split(",") if s.strip())
    unknown = [s for s in chosen if s not in SYSTEMS]
    if unknown or not chosen:
        raise click.BadParameter(f"onbekend systeem {', '.join(unknown) or '(geen)'}; bekend: {', '.join(SYSTEMS)}",
                                 param_hint="--systems")
    return chosen


def _print_knobs() -> None:
    from matcher import knobs

    for k in knobs.KNOBS:
        click.echo(f"{k.name:<28}{str(k.default):>9}  {k.used_in:<11}{k.reason}")


@click.command("eval", cls=DutchCommand)
@click.argument("questions", nargs=-1, type=click.Path(dir_okay=False), metavar="[VRAGENBESTAND]...")
@click.option("--corpus", "corpora", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Corpusmap bij een vragenbestand; een keer per bestand, in dezelfde volgorde (standaard de map "
                   "corpus/ naast het bestand).")
@click.option("--home", "homes", multiple=True, type=click.Path(file_okay=False),
              help="Indexmap bij een vragenbestand; een keer per bestand, in dezelfde volgorde. Zonder --corpus wordt "
                   "de index gebruikt zoals hij is.")
@click.option("--work", type=click.Path(file_okay=False), default=None,
              help="Werkmap voor de indexen per corpus (standaard de cachemap van de gebruiker, schakel/eval).")
@click.option("--embedder", default=None, help=setting_help("embedder"))
@click.option("--systems", default=None,
              help="Te meten systemen, gescheiden door komma's: full, bm25, dense (standaard alle drie; bij --sweep "
                   "alleen full).")
@click.option("--set", "assignments", multiple=True, metavar="NAAM=WAARDE",
              help="Meet met een andere waarde voor een rangschikkingsknop (herhaalbaar); --knobs toont ze.")
@click.option("--sweep", default=None, metavar="NAAM=W1,W2,...",
              help="Meet een keer per waarde van één knop.")
@click.option("--knobs", "list_knobs", is_flag=True, help="Toon de rangschikkingsknoppen met standaardwaarde en reden.")
@click.option("--json", "as_json", is_flag=True, help="Geef het hele verslag als JSON.")
@click.option("--feedback", is_flag=True, help="Meet ook op oordelen uit bewaarde feedback (nuttig = relevantie 1).")
@click.option("--examples", is_flag=True, help="Toon per vraag de algemene vraag, de kernbegrippen en de beste resultaten.")
def eval_cmd(questions, corpora, homes, work, embedder, systems, assignments, sweep, list_knobs, as_json, feedback,
             examples):
    """Meet de kwaliteit van het matchen op vragenbestanden met oordelen (JSONL, zoals dev-eval), elk met
    zijn corpus: het volledige systeem tegen alleen BM25 en alleen dense, per soort, per helft en per
    vraagstijl."""
    from indexer.embedders import get_embedder
    from matcher import knobs
    from matcher.eval_report import format_report, format_sweep

    if list_knobs:
        _print_knobs()
        return
    values = dict(knobs.parse_assignment(a) for a in assignments)
    swept = knobs.parse_sweep(sweep) if sweep else None
    chosen = _systems(systems, bool(swept))
    if not questions and not feedback:
        raise click.UsageError("geef een of meer vragenbestanden (VRAGENBESTAND), of --feedback voor de bewaarde oordelen")
    sets = pair_sets(list(questions), list(corpora), list(homes), Path(work) if work else default_work())
    for s in sets:
        prepare(s, embedder)
    emb = get_embedder(embedder)   # one model for every run
    if swept:
        name, options = swept
        runs = [{"value": v, "reports": run_sets(sets, emb, chosen, {**values, name: v})} for v in options]
        click.echo(json.dumps({"sweep": name, "set": values, "runs": runs}, indent=1, ensure_ascii=False)
                   if as_json else format_sweep(name, runs, chosen[0]))
        return
    reports = list(run_sets(sets, emb, chosen, values).items())
    if feedback:
        with knobs.overridden(values):
            reports.append(("feedback", _feedback_report(homes[0] if homes else None, emb, chosen)))
    if as_json:
        click.echo(json.dumps({title: rep for title, rep in reports}, indent=1, ensure_ascii=False))
        return
    if values:
        click.echo("knobs changed: " + ", ".join(f"{n}={v}" for n, v in values.items()))
    click.echo(format_report(reports))
    if examples:
        for title, rep in reports:
            click.echo(f"\n== {title}: per question (full system)")
            for d in rep["questions"]:
                _print_example(d)


def _feedback_report(home, embedder, systems) -> dict:
    from matcher import Engine
    from matcher.evaluate import Evaluator
    from web.store import AppStore  # the web package depends on matcher, not the other way round

    engine = Engine(home, embedder=embedder)
    url = engine.config.database_url
    qs = AppStore(url or engine.home.app_db).feedback_questions() if url or engine.home.app_db.is_file() else []
    if not qs:
        raise InvalidInput("no stored feedback with a useful match in this home", field="--feedback")
    return Evaluator(engine).run(qs, systems)


def _print_example(d: dict) -> None:
    full = d.get("full", {})
    scores = ", ".join(f"{k} {v:.2f}" for k, v in full.get("ndcg5", {}).items())
    click.echo(f"\n{d['id']} [{', '.join(d['styles'])}]: {d['question']}\n  → {d.get('general', '')}"
               f"\n  concepten: {', '.join(d.get('concepts', []))}; verheldering: {'ja' if d.get('clarified') else 'nee'}"
               f"\n  nDCG@5: {scores or '-'}; getoond: {full.get('matched', 0)}")
    for kind, ids in full.get("top5", {}).items():
        click.echo(f"  {kind}: {', '.join(ids)}")


if __name__ == "__main__":  # pragma: no cover
    eval_cmd(sys.argv[1:])
