"""`schakel user ...` (accounts for the connector and tussenring pages), `schakel purge` (retention) and
`schakel forget` (deletion on request).

Both work on HOME/app.db through ``web.store.AppStore``; errors are
``SchakelError``s, which the ``schakel`` group prints as clean messages.
"""
from __future__ import annotations

import json
import secrets
import sys

import click

from indexer import settings
from indexer.errors import InvalidInput
from indexer.settings import ROLES

from .cli import HOME_OPTION, config_for
from .messages import DutchCommand, DutchGroup, setting_help



def _store(home=None, cfg: settings.Config | None = None):
    """The app store of the resolved settings (``cfg``, else resolved with ``--home``)."""
    from web.store import AppStore

    return AppStore.from_config(cfg or config_for(home=home))


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _password(from_stdin: bool) -> tuple[str, bool]:
    """(password, generated). From stdin's first line, a hidden prompt on a terminal, or generated."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InvalidInput("no password on standard input", field="password")
        return line, False
    if _stdin_is_tty():
        return click.prompt("Wachtwoord", hide_input=True, confirmation_prompt="Nog een keer"), False
    return secrets.token_urlsafe(15), True


def _show_generated(username: str, password: str) -> None:
    click.echo(f"Wachtwoord voor {username} (wordt maar één keer getoond, geef het veilig door):")
    click.echo(password)


@click.group("user", cls=DutchGroup)
def user_group() -> None:
    """Beheer de accounts voor de pagina's van schakelaars, tussenring en beheer."""


@user_group.command("add")
@click.argument("name", metavar="NAAM")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="Wat het account mag zien: connector (de pagina's van de schakelaar), tussenring of admin "
                   "(beheer).")
@click.option("--password-stdin", is_flag=True,
              help="Lees het wachtwoord uit de eerste regel van de standaardinvoer (voor scripts).")
@HOME_OPTION
def user_add(name, role, password_stdin, home):
    """Maak het account NAAM aan.

    Zonder --password-stdin typ je het wachtwoord twee keer (onzichtbaar);
    buiten een terminal maakt Schakel een willekeurig wachtwoord en toont
    het één keer.
    """
    store = _store(home)
    if store.user_by_name(name):  # before asking for a password
        raise InvalidInput(f"user {name.strip().lower()!r} already exists", field="username")
    password, generated = _password(password_stdin)
    user = store.add_user(name, password, role)
    click.echo(f"Gebruiker {user['username']} toegevoegd met rol {user['role']}.")
    if generated:
        _show_generated(user["username"], password)


@user_group.command("passwd")
@click.argument("name", metavar="NAAM")
@click.option("--password-stdin", is_flag=True,
              help="Lees het nieuwe wachtwoord uit de eerste regel van de standaardinvoer.")
@HOME_OPTION
def user_passwd(name, password_stdin, home):
    """Geef NAAM een nieuw wachtwoord; de open sessies van die gebruiker eindigen."""
    store = _store(home)
    user = store.user_by_name(name)
    if user is None:
        from indexer.errors import NotFound

        raise NotFound(f"no user {name.strip().lower()!r}", field="username")
    password, generated = _password(password_stdin)
    store.set_password(user["username"], password)
    click.echo(f"Wachtwoord van {user['username']} gewijzigd; open sessies zijn beëindigd.")
    if generated:
        _show_generated(user["username"], password)


@user_group.command("remove")
@click.argument("name", metavar="NAAM")
@HOME_OPTION
def user_remove(name, home):
    """Verwijder het account NAAM; de open sessies van die gebruiker eindigen."""
    store = _store(home)
    store.remove_user(name)
    click.echo(f"Gebruiker {name.strip().lower()} verwijderd.")


@user_group.command("list")
@HOME_OPTION
@click.option("--json", "as_json", is_flag=True, help="Geef de accounts als JSON.")
def user_list(home, as_json):
    """Toon de accounts (naam, rol, aangemaakt op)."""
    users = _store(home).users()
    if as_json:
        click.echo(json.dumps(users, indent=2, ensure_ascii=False))
        return
    if not users:
        click.echo("Nog geen gebruikers. Maak er een met: schakel user add NAAM --role connector")
        return
    width = max(len(u["username"]) for u in users)
    for u in users:
        click.echo(f"{u['username']:<{width}}  {u['role']:<10}  {u['created'][:10]}")



@click.command("purge", cls=DutchCommand)
@click.option("--days", type=click.IntRange(min=1), default=None,
              help=setting_help("retention_days"))
@HOME_OPTION
def purge_cmd(days, home):
    """Verwijder bewaarde vragen, opvolgverzoeken, notities en feedback die ouder zijn dan de bewaartermijn."""
    cfg = config_for(home=home, retention_days=days)
    days = cfg.retention_days
    if not isinstance(days, int) or days < 1:
        raise InvalidInput("retention_days must be a whole number of days, at least 1", field="retention_days")
    from web.sessions import ABSOLUTE_SECONDS

    counts = _store(cfg=cfg).purge(days, session_seconds=ABSOLUTE_SECONDS)  # and sessions that can no longer live
    click.echo(f"Verwijderd (ouder dan {days} dagen): {counts.get('intakes', 0)} vragen, "
               f"{counts.get('followups', 0)} opvolgverzoeken, {counts.get('notes', 0)} notities, "
               f"{counts.get('feedback', 0)} oordelen.")


@click.command("forget", cls=DutchCommand)
@click.option("--intake", "intake_id", type=click.IntRange(min=1), default=None, metavar="NUMMER",
              help="Verwijder deze vraag (het nummer in de inbox van de schakelaar) met opvolgverzoeken en notities.")
@click.option("--email", default=None, metavar="ADRES", help="Verwijder alle opvolgverzoeken met dit e-mailadres "
                                                             "en de vragen waar ze over gingen.")
@HOME_OPTION
def forget_cmd(intake_id, email, home):
    """Verwijder alles over één vraag of één e-mailadres, op verzoek van de deelnemer (AVG art. 17)."""
    if (intake_id is None) == (email is None):
        raise click.UsageError("geef precies een van --intake NUMMER of --email ADRES")
    store = _store(home)
    counts = store.forget_intake(intake_id) if intake_id is not None else store.forget_email(email)
    click.echo(f"Verwijderd: {counts['intakes']} vragen, {counts['followups']} opvolgverzoeken, "
               f"{counts['notes']} notities.")


@click.command("notify", cls=DutchCommand)
@HOME_OPTION
def notify_cmd(home):
    """Verstuur de opvolgmails die klaarstaan (ook eerder mislukte); voor cron of een systemd-timer."""
    from web.notify import MailSettings, Notifier

    cfg = config_for(home=home)
    mail = MailSettings.from_config(cfg)
    if not mail.enabled:
        raise InvalidInput("no smtp_host is set, so no e-mail can be sent", field="smtp_host")
    counts = Notifier(_store(cfg=cfg), mail).deliver_due()
    click.echo(f"Verstuurd: {counts['sent']}; mislukt (later opnieuw): {counts['failed']}.")
