"""`schakel coverage`: blind spots and concept coverage for the tussenring.

Thin shell over ``matcher.coverage``: it gathers questions (a JSONL file
and/or the consented intakes of the web app), calls ``compute`` and prints or
writes the report.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import click

from .messages import DutchCommand, setting_help


def load_questions(path: str | Path) -> list[dict]:
    """Questions from a JSONL file: one object per line with 'question' and optional 'date'."""
    from matcher.questions import read_jsonl

    return [{"question": item["question"], "date": item.get("date")} for _, item in read_jsonl(path, "questions")]


def stored_questions(engine) -> list[dict]:
    """Consented intake questions kept by the web app (none when the app database does not exist)."""
    url = engine.config.database_url
    if not url and not engine.home.app_db.is_file():
        return []
    from web.store import AppStore  # the web package depends on matcher, not the other way round

    return AppStore(url or engine.home.app_db).all_questions()


def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def print_report(report: dict, top: int, show_concepts: int, names: dict[str, str] | None = None) -> None:
    names = names or {}
    spots = report["blind_spots"]
    asked = report.get("questions", 0)
    click.echo(click.style(f"Blinde vlekken ({len(spots)} onderwerpen, {asked} vragen bekeken)", bold=True))
    if not spots:
        click.echo("  Geen: elk onderwerp met vragen of bronnen heeft een beschikbare expert.")
    for n, b in enumerate(spots[:top], start=1):
        if not b.get("clear", True) and (n == 1 or spots[n - 2].get("clear", True)):
            click.echo(click.style("    -- mogelijke blinde vlekken: weinig vraag of geen bronnen, controleer ze --",
                                   fg="yellow"))
        click.echo(f"{n:2d}. {click.style(b['label'], bold=True)}  ({b['why']})")
        others = [c for c in b["concepts"] if c != b["label"]]
        if others:
            click.echo(f"    ook: {', '.join(others)}")
        for q in b["questions"][:3]:
            click.echo(textwrap.fill(_cut(q, 180), 100, initial_indent="    · ", subsequent_indent="      "))
    if len(spots) > top:
        click.echo(f"    … en nog {len(spots) - top} (zie --json of --csv)")
    unmatched = report.get("unmatched", {})
    if unmatched.get("count"):
        click.echo(f"\n{unmatched['count']} vragen zonder herkend onderwerp (de thesaurus mist hier misschien een "
                   "concept).")

    rows = [c for c in report["concepts"] if c["demand"] or c["sources"]]
    rows.sort(key=lambda c: (-c["demand"], -c["sources"], c["label"]))
    if not rows or show_concepts <= 0:
        return
    weak = report.get("weak", 0.5)
    click.echo("\n" + click.style("Dekking per onderwerp", bold=True)
               + " (vragen, bronnen, experts met dekking, beste expert)")
    click.echo(f"  {'onderwerp':36s} {'vragen':>6s} {'bronnen':>7s} {'experts':>7s}  beste expert")
    for c in rows[:show_concepts]:
        covering = [e for e in c["experts"] if e.get("available", True) and e["score"] >= weak]
        best = (covering or c["experts"] or [None])[0]
        best_text = "-"
        if best:
            away = "" if best.get("available", True) else ", niet beschikbaar"
            best_text = f"{_cut(names.get(best['id'], best['id']), 30)} ({best['score']:.2f}{away})"
        mark = click.style(" ● blinde vlek", fg="red") if c["blind_spot"] else ""
        click.echo(f"  {_cut(c['label'], 36):36s} {c['demand']:6d} {c['sources']:7d} {len(covering):7d}  "
                   f"{best_text}{mark}")
    if len(rows) > show_concepts:
        click.echo(f"  … en nog {len(rows) - show_concepts} onderwerpen")


@click.command("coverage", cls=DutchCommand)
@click.option("--home", type=click.Path(file_okay=False), default=None,
              help=setting_help("home"))
@click.option("--embedder", default=None, help=setting_help("embedder"))
@click.option("--questions", "questions_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="JSONL-bestand met vragen: per regel een object met 'question' en eventueel 'date' (JJJJ-MM-DD).")
@click.option("--intakes/--no-intakes", default=True, show_default=True,
              help="Neem ook de vragen mee die deelnemers met toestemming via de webapp stelden.")
@click.option("--weak", type=click.FloatRange(0.05, 1.0), default=None,
              help="Expertsterkte waaronder een onderwerp als niet gedekt telt (standaard 0.5).")
@click.option("--top", type=click.IntRange(1, 200), default=10, show_default=True,
              help="Aantal blinde vlekken in het overzicht.")
@click.option("--concepts", "show_concepts", type=click.IntRange(0, 1000), default=25, show_default=True,
              help="Aantal onderwerpen in de dekkingstabel (0: geen tabel).")
@click.option("--json", "as_json", is_flag=True, help="Geef het hele verslag als JSON in plaats van tabellen.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Schrijf per onderwerp een regel naar dit CSV-bestand.")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Schrijf een heatmap van onderwerpen x expertorganisaties naar dit SVG-bestand.")
def coverage_cmd(home, embedder, questions_file, intakes, weak, top, show_concepts, as_json, csv_file, plot_file):
    """Vind blinde vlekken: onderwerpen met vragen of bronnen maar zonder (beschikbare) expert.

    De vragen komen uit --questions en, tenzij --no-intakes, uit de vragen
    die deelnemers met toestemming in de webapp stelden. Toont de grootste
    blinde vlekken met de reden, en per onderwerp de vraag ernaar, de
    bronnen en de dekking door experts.
    """
    from matcher import Engine
    from matcher import coverage

    from .cli import config_for

    engine = Engine(config=config_for(home=home, embedder=embedder))
    engine.index()  # fail early, with a clear message, when there is no index
    questions = load_questions(questions_file) if questions_file else []
    if intakes:
        questions += stored_questions(engine)
    report = coverage.compute(engine, questions, weak=weak if weak is not None else coverage.WEAK)
    if csv_file:
        Path(csv_file).write_text(coverage.to_csv(report), "utf-8")
    if plot_file:
        Path(plot_file).write_text(coverage.heatmap_svg(report, engine.index()), "utf-8")
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        index = engine.index()
        names = {r.id: r.title for r in index.record_list if r.kind == "expert"}
        print_report(report, top, show_concepts, names)
        for what, path in (("CSV", csv_file), ("heatmap", plot_file)):
            if path:
                click.echo(f"{what} geschreven: {path}")
