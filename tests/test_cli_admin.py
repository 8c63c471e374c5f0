"""`schakel user ...` and `schakel purge`."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from schakel.cli import main


@pytest.fixture
def run(tmp_path):
    home = str(tmp_path / "home")

    def _run(*args, input=None):
        return CliRunner().invoke(main, [*args, "--home", home], input=input, catch_exceptions=False)
    _run.home = home
    return _run


def _store(run):
    from web.store import AppStore

    return AppStore(f"{run.home}/app.db")


def test_roles_match_the_store():
    from schakel.admin import ROLES
    from web.store import ROLES as STORE_ROLES

    assert ROLES == STORE_ROLES


def test_add_with_password_from_stdin(run):
    res = run("user", "add", "Anna", "--role", "connector", "--password-stdin", input="een lang wachtwoord\n")
    assert res.exit_code == 0, res.output
    assert "Gebruiker anna toegevoegd met rol connector." in res.output
    assert "een lang wachtwoord" not in res.output
    store = _store(run)
    assert store.authenticate("anna", "een lang wachtwoord")["role"] == "connector"
    assert store.authenticate("anna", "iets anders") is None


def test_add_without_a_terminal_generates_a_password_once(run):
    res = run("user", "add", "ring", "--role", "tussenring")
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert "maar één keer getoond" in lines[1]
    password = lines[2]
    assert len(password) >= 16
    assert _store(run).authenticate("ring", password)["role"] == "tussenring"
    again = run("user", "passwd", "ring")
    new = again.output.strip().splitlines()[-1]
    assert new != password and _store(run).authenticate("ring", new) and not _store(run).authenticate("ring", password)


def test_add_on_a_terminal_prompts_twice_hidden(run, monkeypatch):
    import schakel.admin

    monkeypatch.setattr(schakel.admin, "_stdin_is_tty", lambda: True)
    res = run("user", "add", "beheer", "--role", "admin", input="geheim wachtwoord 1\ngeheim wachtwoord 1\n")
    assert res.exit_code == 0, res.output
    assert "Wachtwoord:" in res.output and "Nog een keer:" in res.output
    assert "geheim wachtwoord 1" not in res.output  # hidden
    assert _store(run).authenticate("beheer", "geheim wachtwoord 1")["role"] == "admin"


@pytest.mark.parametrize("args,stdin,message", [
    (["user", "add", "anna", "--role", "connector", "--password-stdin"], "kort\n", "minstens 10 tekens"),
    (["user", "add", "anna", "--role", "connector", "--password-stdin"], "\n", "geen wachtwoord binnen"),
    (["user", "add", "Anna Maria", "--role", "connector", "--password-stdin"], "lang genoeg wachtwoord\n",
     "Gebruikersnaam"),
    (["user", "remove", "niemand"], None, "geen gebruiker 'niemand'"),
    (["user", "passwd", "niemand", "--password-stdin"], "lang genoeg wachtwoord\n", "geen gebruiker 'niemand'"),
])
def test_errors_are_clean_messages(run, args, stdin, message):
    res = run(*args, input=stdin)
    assert res.exit_code == 1
    assert res.output.startswith("Fout: ") and message in res.output  # Dutch (issue 11)
    assert "Traceback" not in res.output


def test_bad_role_is_a_usage_error(run):
    res = run("user", "add", "anna", "--role", "baas")
    assert res.exit_code == 2 and "Ongeldige waarde voor '--role'" in res.output


def test_duplicate_user_is_refused_before_a_password_is_asked(run):
    run("user", "add", "anna", "--role", "connector", "--password-stdin", input="een lang wachtwoord\n")
    res = run("user", "add", "ANNA", "--role", "admin")
    assert res.exit_code == 1 and "bestaat al" in res.output
    assert "Wachtwoord voor" not in res.output


def test_list_passwd_remove(run):
    assert "Nog geen gebruikers" in run("user", "list").output
    run("user", "add", "bert", "--role", "tussenring", "--password-stdin", input="een lang wachtwoord\n")
    run("user", "add", "anna", "--role", "connector", "--password-stdin", input="een lang wachtwoord\n")
    out = run("user", "list").output.splitlines()
    assert out[0].split()[:2] == ["anna", "connector"] and out[1].split()[:2] == ["bert", "tussenring"]
    as_json = json.loads(run("user", "list", "--json").output)
    assert [u["username"] for u in as_json] == ["anna", "bert"] and "password" not in as_json[0]
    stamp = _store(run).user_by_name("anna")["password_stamp"]
    res = run("user", "passwd", "anna", "--password-stdin", input="nieuw lang wachtwoord\n")
    assert res.exit_code == 0 and "open sessies zijn beëindigd" in res.output
    assert _store(run).user_by_name("anna")["password_stamp"] != stamp
    assert _store(run).authenticate("anna", "nieuw lang wachtwoord")
    res = run("user", "remove", "anna")
    assert res.exit_code == 0 and "Gebruiker anna verwijderd." in res.output
    assert [u["username"] for u in _store(run).users()] == ["bert"]


def _age(store, table, row_id, days):
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)).replace(microsecond=0).isoformat()
    store.db[table].update(row_id, {"created": old})


def test_purge_uses_the_retention_setting(run, monkeypatch):
    store = _store(run)
    old = store.add_intake("Oude vraag")
    store.add_followup(old, "a@example.org")
    store.add_note(old, "anna", "oude notitie")
    new = store.add_intake("Nieuwe vraag")
    fb = store.add_feedback("Oude vraag", "exp-x", True)
    _age(store, "intakes", old, 200)
    _age(store, "feedback", fb, 200)
    res = run("purge")
    assert res.exit_code == 0, res.output
    assert res.output.strip() == ("Verwijderd (ouder dan 180 dagen): 1 vragen, 1 opvolgverzoeken, 1 notities, "
                                  "1 oordelen.")
    assert [r["id"] for r in store.intakes()] == [new]

    _age(store, "intakes", new, 40)
    monkeypatch.setenv("SCHAKEL_RETENTION_DAYS", "30")
    assert "1 vragen" in run("purge").output
    assert store.intakes() == []


def test_purge_days_option(run):
    store = _store(run)
    iid = store.add_intake("Vraag")
    _age(store, "intakes", iid, 10)
    assert "0 vragen" in run("purge", "--days", "11").output
    assert "1 vragen" in run("purge", "--days", "9").output
    res = run("purge", "--days", "0")
    assert res.exit_code == 2


def test_purge_with_a_bad_setting_is_a_clean_error(run, monkeypatch):
    monkeypatch.setenv("SCHAKEL_RETENTION_DAYS", "veel")
    res = run("purge")
    assert res.exit_code == 1 and res.output.startswith("Fout: SCHAKEL_RETENTION_DAYS")


def test_every_command_has_help(run):
    for args in (["user"], ["user", "add"], ["user", "remove"], ["user", "list"], ["user", "passwd"], ["purge"]):
        res = CliRunner().invoke(main, [*args, "--help"])
        assert res.exit_code == 0, args
        assert "--home" in res.output or args == ["user"], args
        assert len(res.output.splitlines()) > 3
