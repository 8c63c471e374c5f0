"""One configuration: every setting, set through every source (HOME/schakel.cfg, SCHAKEL_* environment,
``schakel -o NAME=VALUE``), reaches its consumer (index build, engine, purge, the app served by
``schakel serve``), and later sources win over earlier ones."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import settings
from indexer.errors import InvalidInput

TEST_EMBEDDER = "hash:256"  # as in conftest.py

SOURCES = ("file", "env", "cli")
QUESTION = "Hoe zet ik kennisclips in zodat studenten in hun eigen tempo werken?"

TINY_EXPERT = """---
id: exp-tiny
name: Tiny expertisecentrum
organisation: Tiny
expertise:
- kennisclips en video in de les
---
Wij helpen docenten met kennisclips, video en gepersonaliseerd leren.
"""
EXTRA_THESAURUS = """version: 1
concepts:
  - id: zzz-proefbegrip
    label: zzz proefbegrip
    group: didactiek
    synonyms: [kennisclipsproef]
"""


@pytest.fixture(scope="module")
def indexed_home(demo_home, tmp_path_factory) -> Path:
    """A copy of the demo index (with the test embedder) that these tests may add a schakel.cfg to."""
    dst = tmp_path_factory.mktemp("settings") / "home"
    shutil.copytree(demo_home, dst)
    return dst


@pytest.fixture
def home(indexed_home):
    yield indexed_home
    (indexed_home / settings.CONFIG_FILE).unlink(missing_ok=True)
    shutil.rmtree(indexed_home / "tiny", ignore_errors=True)


def run(args: list[str], env: dict[str, str], ok: bool = True):
    from schakel.cli import main

    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def apply(source: str, home: Path, name: str, value: str) -> tuple[list[str], dict[str, str]]:
    """Put ``name = value`` into ``source``; returns (leading CLI args, environment) for ``schakel``."""
    env = {"SCHAKEL_HOME": str(home)}
    if name != "embedder" or source == "file":
        env["SCHAKEL_EMBEDDER"] = TEST_EMBEDDER
    if name == "embedder" and source == "file":  # the file is overruled by the environment: leave it out
        env.pop("SCHAKEL_EMBEDDER")
    if source == "file":
        (home / settings.CONFIG_FILE).write_text(f"# test\n{name} = {value}\n", "utf-8")
        return [], env
    if source == "env":
        env[settings.BY_NAME[name].env] = value
        return [], env
    return ["-o", f"{name}={value}"], env


# --- probes: run the real consumer and report what it did ---------------------------------------------

def _index(home: Path, pre, env) -> dict:
    """`schakel index` of a one-record corpus into ``home`` (here: the "tiny" home of the test)."""
    corpus = home.parent / "corpus" / "experten"
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "tiny.md").write_text(TINY_EXPERT, "utf-8")
    out = run([*pre, "index", str(corpus.parent), "--rebuild", "--json"], env)
    return json.loads(out.stdout)


def _manifest(home: Path) -> dict:
    from indexer.store import Home

    return json.loads((Home(home).current() / "manifest.json").read_text("utf-8"))


def _serve(pre, env, monkeypatch) -> tuple:
    captured = {}
    import waitress

    monkeypatch.setattr(waitress, "serve", lambda app, **kw: captured.update(app=app, **kw))
    run([*pre, "serve"], env)
    return captured["app"], captured


def probe_embedder(home, pre, env, mp):
    return _index(home, pre, env)["embedder"]


def probe_thesaurus(home, pre, env, mp):
    _index(home, pre, env)
    from matcher.loaded import LoadedIndex
    from indexer.store import Home

    loaded = LoadedIndex(Home(home).current(), verify=False)
    return any(c.id == "zzz-proefbegrip" for c in loaded.concepts)


def probe_exact_search_limit(home, pre, env, mp):
    _index(home, pre, env)
    return _manifest(home)["faiss_index"]


def probe_top(home, pre, env, mp):
    body = json.loads(run([*pre, "ask", QUESTION, "--json", "--no-input"], env).stdout)
    return max(len(v) for v in body["matches"].values())


def probe_max_question_chars(home, pre, env, mp):
    out = run([*pre, "ask", QUESTION, "--json", "--no-input"], env, ok=False)
    return out.exit_code, "hoogstens 20" in out.output


def probe_retention_days(home, pre, env, mp):
    from web.store import AppStore

    store = AppStore(home / "app.db")
    iid = store.add_intake("Een oude vraag over kennisclips")
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=10)).replace(microsecond=0).isoformat()
    store.db["intakes"].update(iid, {"created": old})
    run([*pre, "purge"], env)
    gone = not list(store.db.query("SELECT id FROM intakes WHERE id = ?", [iid]))
    store.close()
    return gone


def probe_serve(key):
    def probe(home, pre, env, mp):
        return _serve(pre, env, mp)[1][key]
    return probe


def probe_secret_key(home, pre, env, mp):
    return _serve(pre, env, mp)[0].secret_key


def probe_secure_cookies(home, pre, env, mp):
    return _serve(pre, env, mp)[0].config["SESSION_COOKIE_SECURE"]


def probe_privacy_contact(home, pre, env, mp):
    html = _serve(pre, env, mp)[0].test_client().get("/privacy").get_data(as_text=True)
    return 'href="mailto:privacy@example.org"' in html


def probe_followup_days(home, pre, env, mp):
    return _serve(pre, env, mp)[0].config["FOLLOWUP_DAYS"]


def _count_until_429(client, send, limit=10) -> int:
    for n in range(limit):
        if send(client).status_code == 429:
            return n
    return limit


def probe_intake_rate(home, pre, env, mp):
    app = _serve(pre, env, mp)[0]
    return _count_until_429(app.test_client(), lambda c: c.post("/api/match", json={"question": QUESTION}))


def probe_login_rate(home, pre, env, mp):
    app = _serve(pre, env, mp)[0]
    client = app.test_client()
    with client.session_transaction() as s:
        s["_csrf"] = "t"
    return _count_until_429(client, lambda c: c.post("/login", data={
        "username": "niemand", "password": "fout-wachtwoord", "csrf_token": "t"}))


def probe_trusted_proxies(home, pre, env, mp):
    app = _serve(pre, env, mp)[0]
    with app.test_client() as client:
        client.get("/privacy", headers={"X-Forwarded-For": "10.1.2.3"})
        from flask import request
        return request.remote_addr


def probe_ratelimit_storage(home, pre, env, mp):
    app = _serve(pre, env, mp)[0]
    return app.extensions["schakel_limiter"]._storage_uri


def probe_mail(field):
    def probe(home, pre, env, mp):
        return getattr(_serve(pre, env, mp)[0].extensions["schakel"].notifier.mail, field)
    return probe


def probe_database_url(home, pre, env, mp):
    app = _serve(pre, env, mp)[0]
    return Path(app.extensions["schakel"].store.db.url).name


def probe_session_idle_seconds(home, pre, env, mp):
    return _serve(pre, env, mp)[0].permanent_session_lifetime.total_seconds()


def probe_session_absolute_seconds(home, pre, env, mp):
    from web.sessions import lifetimes

    app = _serve(pre, env, mp)[0]
    with app.test_request_context("/"):
        return lifetimes()[1]


def probe_purge_interval_hours(home, pre, env, mp):
    from web import retention

    def stop_all():
        for schedule in list(retention._running.values()):
            schedule.stop()
    stop_all()
    try:
        schedule = _serve(pre, env, mp)[0].extensions.get("schakel_purge")
        return schedule.interval / 3600 if schedule else 0
    finally:
        stop_all()


#: setting -> (value to set, probe, what the probe sees with that value, what it sees by default)
CASES = {
    "embedder": ("hash:64", probe_embedder, "hash:64", None),
    "thesaurus": (None, probe_thesaurus, True, False),   # value: a file made by the test
    "exact_search_limit": ("0", probe_exact_search_limit, "hnsw", "flat"),
    "top": ("2", probe_top, 2, 5),
    "max_question_chars": ("20", probe_max_question_chars, (1, True), (0, False)),
    "retention_days": ("5", probe_retention_days, True, False),
    "secret_key": ("geheim-uit-de-test", probe_secret_key, "geheim-uit-de-test", None),
    "secure_cookies": ("false", probe_secure_cookies, False, True),
    "privacy_contact": ("privacy@example.org", probe_privacy_contact, True, False),
    "followup_days": ("3", probe_followup_days, 3, 5),
    "host": ("127.0.0.2", probe_serve("host"), "127.0.0.2", "127.0.0.1"),
    "port": ("8123", probe_serve("port"), 8123, 8000),
    "threads": ("3", probe_serve("threads"), 3, 64),
    "intake_rate": ("3/60", probe_intake_rate, 3, 10),  # default 120: no 429 in the first 10
    "login_rate": ("2/300", probe_login_rate, 2, 10),
    "trusted_proxies": ("1", probe_trusted_proxies, "10.1.2.3", "127.0.0.1"),
    "ratelimit_storage": ("memory://?probe=1", probe_ratelimit_storage, "memory://?probe=1", "memory://"),
    "session_idle_seconds": ("600", probe_session_idle_seconds, 600, 8 * 3600),
    "session_absolute_seconds": ("900", probe_session_absolute_seconds, 900, 12 * 3600),
    "purge_interval_hours": ("2", probe_purge_interval_hours, 2, 24),
    "database_url": ("sqlite:///{home}/gedeeld.db", probe_database_url, "gedeeld.db", "app.db"),
    "smtp_host": ("mail.example.org", probe_mail("host"), "mail.example.org", None),
    "smtp_port": ("587", probe_mail("port"), 587, 25),
    "smtp_starttls": ("true", probe_mail("starttls"), True, False),
    "smtp_user": ("schakel", probe_mail("user"), "schakel", None),
    "smtp_password": ("geheim", probe_mail("password"), "geheim", None),
    "mail_from": ("noreply@example.org", probe_mail("sender"), "noreply@example.org", None),
    "connector_emails": ("a@example.org, b@example.org", probe_mail("connectors"),
                         ("a@example.org", "b@example.org"), ()),
}


INDEX_SETTINGS = {"embedder", "thesaurus", "exact_search_limit"}


def test_every_setting_has_a_case():
    assert set(CASES) | {"home"} == set(settings.BY_NAME)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_setting_reaches_its_consumer(name, source, home, monkeypatch, tmp_path):
    value, probe, expected, default = CASES[name]
    if name == "thesaurus":
        value = str(tmp_path / "extra.yaml")
        Path(value).write_text(EXTRA_THESAURUS, "utf-8")
    if name in INDEX_SETTINGS:  # the build gets a home of its own (the file lives in the home)
        home = home / "tiny" / "home"
        home.mkdir(parents=True)
    pre, env = apply(source, home, name, value.replace("{home}", str(home)) if value else value)
    if settings.BY_NAME[name].env_only and source != "env":  # secrets: refused outside the environment
        result = run([*pre, "user", "list"], env, ok=False)
        assert result.exit_code != 0 and settings.BY_NAME[name].env in result.output
        return
    assert probe(home, pre, env, monkeypatch) == expected
    if default is not None:
        (home / settings.CONFIG_FILE).unlink(missing_ok=True)
        _, plain = apply("env", home, "top", "5")
        plain.pop("SCHAKEL_TOP")
        assert probe(home, [], plain, monkeypatch) == default


@pytest.mark.parametrize("source", ("env", "cli", "option"))
def test_home_reaches_the_app_store(source, tmp_path):
    target = tmp_path / "elders"
    env = {"SCHAKEL_HOME": str(tmp_path / "default")}
    pre: list[str] = []
    post: list[str] = []
    if source == "env":
        env["SCHAKEL_HOME"] = str(target)
    elif source == "cli":
        pre = ["-o", f"home={target}"]
    else:
        post = ["--home", str(target)]
    from schakel.cli import main

    out = CliRunner().invoke(main, [*pre, "user", "add", "probe", "--role", "connector", "--password-stdin", *post],
                             env=env, input="een-lang-wachtwoord\n", catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert (target / "app.db").is_file()


def test_later_sources_win(tmp_path):
    (tmp_path / settings.CONFIG_FILE).write_text("top = 3\nmax_question_chars = 100\nthreads = 2\n", "utf-8")
    env = {"SCHAKEL_HOME": str(tmp_path), "SCHAKEL_MAX_QUESTION_CHARS": "200", "SCHAKEL_THREADS": "4"}
    cfg = settings.resolve({"threads": "6"}, env=env)
    assert (cfg.top, cfg.max_question_chars, cfg.threads) == (3, 200, 6)
    assert cfg.source("top").endswith("schakel.cfg") and cfg.source("threads") == "command line"
    assert cfg.source("max_question_chars") == "SCHAKEL_MAX_QUESTION_CHARS" and cfg.source("port") == "default"


@pytest.mark.parametrize("text, fragment", [
    ("tpo = 3\n", "unknown setting 'tpo'"),
    ("top = drie\n", "top = 'drie' is not valid"),
    ("just words\n", "expected 'name = value'"),
    ("home = /elders\n", "home cannot be set"),
    ("intake_rate = 30 per minute\n", "COUNT/SECONDS"),
    ("exact_search_limit = -5\n", "exact_search_limit = '-5' is not valid"),
])
def test_bad_file_is_a_clear_error(tmp_path, text, fragment):
    (tmp_path / settings.CONFIG_FILE).write_text(text, "utf-8")
    with pytest.raises(InvalidInput) as err:
        settings.resolve(env={"SCHAKEL_HOME": str(tmp_path)})
    assert fragment in err.value.message and "schakel.cfg:1" in err.value.message


def test_bad_environment_names_the_variable(tmp_path):
    with pytest.raises(InvalidInput, match="SCHAKEL_PORT"):
        settings.resolve(env={"SCHAKEL_HOME": str(tmp_path), "SCHAKEL_PORT": "acht"})


def test_bad_option_is_a_usage_error(tmp_path):
    from schakel.cli import main

    out = CliRunner().invoke(main, ["-o", "onbekend=1", "user", "list"], env={"SCHAKEL_HOME": str(tmp_path)})
    assert out.exit_code == 2 and "onbekend" in out.output


def test_readme_table_is_made_from_the_registry():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    assert settings.markdown_table() in readme, "refresh it: python -m indexer.settings"
