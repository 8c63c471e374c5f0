"""The command line: `ask --json` is the API contract, readable output, the index summary,
help texts everywhere, and docs that are tested (house style 11)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from indexer import build_index, settings
from indexer.records import KIND_LABELS, KINDS
from schakel.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpus"
README = ROOT / "README.md"
EMB = "hash:256"
QUESTION = "Hoe maak ik kennisclips zodat mbo-studenten de theorie in hun eigen tempo doorwerken?"


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cli-home")
    build_index([DEMO], home, embedder=EMB, progress=False)
    return home


def run(*args, **env):
    return CliRunner().invoke(main, list(args), env={"SCHAKEL_EMBEDDER": EMB, **env})


# --- ask -------------------------------------------------------------------------

def test_ask_json_is_the_api_contract(cli_home):
    from matcher import Engine
    from web import create_app

    result = run("ask", QUESTION, "--home", str(cli_home), "--json")
    assert result.exit_code == 0, result.output
    from_cli = json.loads(result.stdout)

    app = create_app({"HOME": str(cli_home), "TESTING": True, "SECRET_KEY": "x", "INTAKE_RATE": "1000/60",
                      "ENGINE": Engine(cli_home, embedder=EMB)})
    from_api = app.test_client().post("/api/match", json={"question": QUESTION}).get_json()
    assert from_cli == from_api
    assert set(from_cli["matches"]) == set(KINDS)


def test_ask_json_options_match_the_api(cli_home):
    from matcher import Engine
    from web import create_app

    result = run("ask", "Hoe gebruik ik ict?", "--home", str(cli_home), "--json", "--top", "2", "--level", "2",
                 "--answer", "doelgroep=eerstejaars")
    assert result.exit_code == 0, result.output
    app = create_app({"HOME": str(cli_home), "TESTING": True, "SECRET_KEY": "x", "INTAKE_RATE": "1000/60",
                      "ENGINE": Engine(cli_home, embedder=EMB)})
    from_api = app.test_client().post("/api/match", json={
        "question": "Hoe gebruik ik ict?", "top": 2, "level": 2, "answers": {"doelgroep": "eerstejaars"}}).get_json()
    assert json.loads(result.stdout) == from_api
    assert all(len(v) <= 2 for v in from_api["matches"].values())


def test_ask_readable_output_groups_by_kind(cli_home):
    result = run("ask", QUESTION, "--home", str(cli_home), "--no-input")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "\x1b[" not in out                                     # no colour codes when not a terminal
    data = json.loads(run("ask", QUESTION, "--home", str(cli_home), "--json").stdout)
    shown = [k for k in KINDS if data["matches"][k]]
    assert len(shown) >= 3
    lines = out.splitlines()
    positions = []
    for kind in KINDS:
        heading = KIND_LABELS[kind]
        if kind in shown:
            assert heading in lines, f"no heading {heading!r}"
            positions.append(lines.index(heading))
        else:
            assert heading not in lines
    assert positions == sorted(positions)                         # in the fixed order of KINDS
    for kind in shown:
        start = lines.index(KIND_LABELS[kind])
        nxt = [p for p in positions if p > start]
        block = "\n".join(lines[start:nxt[0] if nxt else len(lines)])
        for i, m in enumerate(data["matches"][kind], start=1):
            assert f"{i}. {m['title']}" in block and f"({m['id']}, " in block
    assert "Algemene vraag: " in out
    # English kind names are not used as headings
    assert not any(line.strip() in KINDS for line in lines)


def test_ask_without_a_terminal_says_how_to_answer_a_clarifying_question(cli_home):
    """Without a terminal to ask in, each clarifying question comes with the --answer to give, and that
    answer is accepted (the facet names are not otherwise shown)."""
    vague = "Hoe gebruik ik ict?"
    data = json.loads(run("ask", vague, "--home", str(cli_home), "--json").stdout)
    assert data["clarify"], "the vague question should get clarifying questions"
    out = run("ask", vague, "--home", str(cli_home), "--no-input").stdout
    hints = re.findall(r"beantwoorden: --answer (\S+)", out)
    assert len(hints) == len(data["clarify"])
    for c in data["clarify"]:                       # every option is shown, as on the web page
        assert all(option in out for option in c["options"])
    first = data["clarify"][0]
    assert hints[0].strip("'").startswith(first["facet"] + "=")
    answered = run("ask", vague, "--home", str(cli_home), "--no-input", "--answer", hints[0].strip("'"))
    assert answered.exit_code == 0, answered.output


def test_ask_errors_are_messages_not_tracebacks(cli_home, tmp_path):
    empty = run("ask", "   ", "--home", str(cli_home))
    assert empty.exit_code == 1 and "vraag" in empty.output and "Traceback" not in empty.output
    facet = run("ask", QUESTION, "--home", str(cli_home), "--answer", "budget=veel")
    assert facet.exit_code == 2 and "'--answer': onbekend facet 'budget'; bekende facetten: doelgroep" in facet.output
    usage = run("ask", QUESTION, "--home", str(cli_home), "--answer", "doelgroep")
    assert usage.exit_code == 2 and "FACET=WAARDE" in usage.output
    top = run("ask", QUESTION, "--home", str(cli_home), "--top", "0")
    assert top.exit_code == 2
    no_index = run("ask", QUESTION, "--home", str(tmp_path / "leeg"))
    assert no_index.exit_code == 1 and "schakel index" in no_index.output


# --- index -----------------------------------------------------------------------

def small_corpus(root: Path) -> Path:
    files = {
        "experten/anna.md": "---\nid: exp-anna\nname: Anna\n---\nAnna kent toetsen.\n",
        "experten/lijst.csv": "id,name\nexp-bob,Bob\nexp-carla,Carla\n",
        "themagroepen/toetsen.md": "---\nid: tg-toetsen\nname: Toetsen\n---\nDe groep toetst.\n",
        "kennisrotonde/vraag.md": "---\nid: kr-vraag\nquestion: Hoe toets ik?\n---\n## Kort antwoord\n\nZo.\n\n"
                                  "## Toelichting\n\nUitleg.\n\n## Geraadpleegde bronnen\n\n"
                                  "- Jansen, P. (2012). Toetsen in netwerken. Utrecht.\n"
                                  "- Smit, L. (2019). Nog een bron over toetsen.\n",
        "rapporten/verslag.txt": "Een verslag.\n",
        "rapporten/kapot.md": "---\ntitle: Kapot\nauthors: Jansen: Smit\n---\nx\n",
        "rapporten/notulen.odt": "onbekend formaat",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")
    return root


def test_index_summary_counts(tmp_path):
    corpus = small_corpus(tmp_path / "c")
    home = tmp_path / "h"
    first = run("index", str(corpus), "--home", str(home))
    assert first.exit_code == 0, first.output
    out = first.stdout
    assert re.search(r"^Index gepubliceerd: .+", out, re.M)
    assert "  records:   8 (3 expert, 1 themegroup, 2 literature, 0 product, 1 kennisrotonde, 1 report)" in out
    m = re.search(r"^  passages:  (\d+) \((\d+) nieuw ge-embed, (\d+) uit cache\)$", out, re.M)
    assert m, out
    passages, embedded, cached = map(int, m.groups())
    from indexer.index_format import read_manifest
    from indexer.store import Home

    manifest = read_manifest(Home(home).current())
    assert passages == manifest["counts"]["passages"] and cached == 0 and embedded >= passages
    # the five readable files are new; the broken one is counted as skipped, not as a file of the index
    assert "  bestanden: 5 nieuw, 0 gewijzigd, 0 ongewijzigd, 0 verwijderd; 1 overgeslagen" in out
    assert re.search(rf"^  concepten: {manifest['counts']['concepts']}; embedder {EMB}; [\d.]+ s$", out, re.M)
    assert "  vectorindex: exact (elke passage vergeleken)" in out
    assert "rapporten/kapot.md:3" in first.stderr                # the skipped file, with its line
    assert "rapporten/notulen.odt" in first.stderr               # the ignored file

    (corpus / "rapporten" / "verslag.txt").unlink()
    second = run("index", str(corpus), "--home", str(home))
    assert "  bestanden: 0 nieuw, 0 gewijzigd, 4 ongewijzigd, 1 verwijderd; 1 overgeslagen" in second.stdout
    assert "(0 nieuw ge-embed, " in second.stdout
    third = run("index", str(corpus), "--home", str(home))
    assert "Index ongewijzigd, niets opnieuw gepubliceerd" in third.stdout
    hnsw = run("-o", "exact_search_limit=0", "index", str(corpus), "--home", str(home))
    assert "Index gepubliceerd" in hnsw.stdout and "(0 nieuw ge-embed, " in hnsw.stdout
    assert "  vectorindex: HNSW-graaf over 8-bit codes" in hnsw.stdout
    assert "  records:   7 (3 expert, 1 themegroup, 2 literature, 0 product, 1 kennisrotonde, 0 report)" in third.stdout


def test_index_json_report(tmp_path):
    corpus = small_corpus(tmp_path / "c")
    result = run("index", str(corpus), "--home", str(tmp_path / "h"), "--json")
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["records"] == {"expert": 3, "themegroup": 1, "literature": 2, "kennisrotonde": 1, "report": 1}
    assert body["files"] == {"new": 5, "changed": 0, "unchanged": 0, "deleted": 0}
    assert body["embedder"] == EMB and body["changed"] is True
    assert [p["path"] for p in body["problems"] if p["level"] == "error"] == ["rapporten/kapot.md"]
    assert any(s.startswith("rapporten/notulen.odt") for s in body["skipped"])


def test_index_missing_folder_is_a_usage_error(tmp_path):
    result = run("index", str(tmp_path / "bestaat-niet"), "--home", str(tmp_path / "h"))
    assert result.exit_code == 2 and "bestaat niet" in result.output


# --- help texts ---------------------------------------------------------------------

def all_commands(group: click.Group = main, path: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        yield path + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, path + (name,))


COMMANDS = list(all_commands())


def test_the_expected_commands_exist():
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"index", "ask", "serve", "eval"} <= names


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help(path, cmd):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert cmd.help and cmd.help.strip(), f"`schakel {' '.join(path)}` has no help text"
    assert cmd.get_short_help_str().strip()
    first_line = " ".join(cmd.help.strip().splitlines()[0].split())
    assert first_line in " ".join(result.output.split())          # shown, however it is wrapped
    for param in cmd.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help and param.help.strip(), f"`schakel {' '.join(path)}` option {param.opts} has no help"


#: Words of an English help text (Click's own included: "Show this message and exit.", "Usage:", "[default: ...]",
#: the type metavars TEXT, INTEGER, DIRECTORY, FILE); none of them is a Dutch word. Option names, setting
#: names (with "_") and quoted values are not prose and are left out before the check.
ENGLISH_HELP = {"the", "and", "with", "show", "this", "message", "exit", "usage", "options", "commands", "command",
                "default", "required", "setting", "settings", "print", "when", "without", "from", "into", "each",
                "file", "files", "folder", "text", "integer", "float", "range", "directory", "path", "args",
                "version", "also", "only", "not", "for", "to", "run", "delete", "write", "read", "its", "their",
                "value", "name", "password", "question", "questions", "env", "var"}


def english_in_help(output: str) -> set[str]:
    """The English words of ``ENGLISH_HELP`` in a help text, after removing option names (``--json``),
    identifiers with ``_`` (setting names), quoted values and paths."""
    prose = re.sub(r"'[^']*'|`[^`]*`|\S*/\S*|(?<![\w])-{1,2}[\w-]+|\w*_\w*", " ", output)
    return {w for w in re.findall(r"[A-Za-z]+", prose) if w.lower() in ENGLISH_HELP}


@pytest.mark.parametrize("path", [(), *(p for p, _ in COMMANDS)], ids=["schakel", *(" ".join(p) for p, _ in COMMANDS)])
def test_help_is_dutch(path):
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    found = english_in_help(result.output)
    assert not found, f"`schakel {' '.join(path)} --help` has English words {sorted(found)}:\n{result.output}"
    assert result.output.startswith("Gebruik:") and "Opties:" in result.output
    assert "Toon deze hulp en stop." in result.output


def test_english_help_would_be_caught():
    """The check above is real: Click's own English help and an English option text are found."""
    assert english_in_help("Usage: x [OPTIONS]\n  -h, --help  Show this message and exit.") >= {"Usage", "Show"}
    assert english_in_help("  --home DIRECTORY  Folder with the index  [default: 2]") >= {"DIRECTORY", "Folder",
                                                                                          "with", "default"}
    assert not english_in_help("  --no-input  Stel geen vragen (instelling max_question_chars, 'full').")


def test_version_is_dutch():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "versie" in result.output and "version" not in result.output


def test_main_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert main.help and main.help.strip()
    for path, _ in COMMANDS:
        if len(path) == 1:
            assert re.search(rf"^\s+{re.escape(path[0])}\s", result.output, re.M), path


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "schakel" in result.output


# --- docs that are tested --------------------------------------------------------------

@pytest.mark.xfail(not README.exists(), reason="README.md is not written yet", strict=False)
def test_readme_documents_every_command_and_setting():
    text = README.read_text("utf-8")
    missing = []
    for path, cmd in COMMANDS:
        if isinstance(cmd, click.Group) and path and any(p[:len(path)] == path and len(p) > len(path)
                                                         for p, _ in COMMANDS):
            continue                                              # a group is documented through its subcommands
        if f"schakel {' '.join(path)}" not in text:
            missing.append(f"command `schakel {' '.join(path)}`")
    for s in settings.SETTINGS:
        if s.env not in text:
            missing.append(f"setting {s.name} ({s.env})")
    assert not missing, "README.md does not mention: " + ", ".join(missing)


def test_serve_puts_numpy_blas_on_one_thread():
    """schakel serve limits OpenBLAS to one thread (a question-sized product waits on two threads)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from schakel import cli

    with threadpool_limits(limits=None, user_api="blas"):   # restores the test process' limits afterwards
        cli._one_blas_thread()
        blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
        assert blas and all(i["num_threads"] == 1 for i in blas)


def test_serve_warns_when_others_reach_it_over_plain_http_with_https_only_cookies(tmp_path):
    """``plain_http_hint``: a server listening beyond this machine, without a declared HTTPS proxy, whose session
    cookies are HTTPS-only, gets a Dutch hint that names the setting; localhost, a proxy or cookies that are not
    HTTPS-only get none."""
    from indexer import settings
    from schakel.cli import plain_http_hint

    def cfg(**values):
        return settings.resolve({"home": tmp_path, **values})

    hint = plain_http_hint(cfg(host="0.0.0.0"))
    assert hint and "secure_cookies" in hint and "SCHAKEL_SECURE_COOKIES=0" in hint and "0.0.0.0" in hint
    assert plain_http_hint(cfg(host="192.168.1.20"))
    for quiet in (cfg(host="127.0.0.1"), cfg(host="::1"), cfg(host="localhost"),
                  cfg(host="0.0.0.0", trusted_proxies=1), cfg(host="0.0.0.0", secure_cookies=False)):
        assert plain_http_hint(quiet) is None


def test_serve_without_an_index_stops_before_it_writes_to_the_home(tmp_path):
    """``schakel serve`` on a home without an index says so, and leaves the folder as it was (no app database or
    secret key made for a server that does not start)."""
    home = tmp_path / "leeg"
    home.mkdir()
    out = CliRunner().invoke(main, ["serve", "--home", str(home), "--port", "1"])
    assert out.exit_code != 0 and "Er is nog geen index in" in out.output, out.output
    assert list(home.iterdir()) == []
