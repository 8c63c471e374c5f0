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


@click.group("user")
def user_group() -> None:
    """Manage accounts for the connector (schakelaar), tussenring and admin pages."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may see.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
@HOME_OPTION
def user_add(name, role, password_stdin, home):
    """Add the account NAME.

    Without --password-stdin: on a terminal you type the password twice
    (hidden); otherwise a random password is made and printed once.
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
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of standard input.")
@HOME_OPTION
def user_passwd(name, password_stdin, home):
    """Set a new password for NAME; the user's open sessions end."""
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
@click.argument("name")
@HOME_OPTION
def user_remove(name, home):
    """Remove the account NAME; the user's open sessions end."""
    store = _store(home)
    store.remove_user(name)
    click.echo(f"Gebruiker {name.strip().lower()} verwijderd.")


@user_group.command("list")
@HOME_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON.")
def user_list(home, as_json):
    """List the accounts (name, role, created)."""
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



@click.command("purge")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Delete what is older than this many days. " + settings.BY_NAME["retention_days"].help
                   + " (setting retention_days, env SCHAKEL_RETENTION_DAYS; default 180)")
@HOME_OPTION
def purge_cmd(days, home):
    """Delete stored questions, follow-up requests, notes and feedback older than the retention period."""
    cfg = config_for(home=home, retention_days=days)
    days = cfg.retention_days
    if not isinstance(days, int) or days < 1:
        raise InvalidInput("retention_days must be a whole number of days, at least 1", field="retention_days")
    from web.sessions import ABSOLUTE_SECONDS

    counts = _store(cfg=cfg).purge(days, session_seconds=ABSOLUTE_SECONDS)  # and sessions that can no longer live
    click.echo(f"Verwijderd (ouder dan {days} dagen): {counts.get('intakes', 0)} vragen, "
               f"{counts.get('followups', 0)} opvolgverzoeken, {counts.get('notes', 0)} notities, "
               f"{counts.get('feedback', 0)} oordelen.")


@click.command("forget")
@click.option("--intake", "intake_id", type=click.IntRange(min=1), default=None,
              help="Delete this intake (the number in the connector's inbox) with its follow-ups and notes.")
@click.option("--email", default=None, help="Delete every follow-up request with this e-mail address and the "
                                              "questions they were about.")
@HOME_OPTION
def forget_cmd(intake_id, email, home):
    """Delete everything about one intake or one e-mail address, on the participant's request (AVG art. 17)."""
    if (intake_id is None) == (email is None):
        raise click.UsageError("geef precies een van --intake NUMMER of --email ADRES")
    store = _store(home)
    counts = store.forget_intake(intake_id) if intake_id is not None else store.forget_email(email)
    click.echo(f"Verwijderd: {counts['intakes']} vragen, {counts['followups']} opvolgverzoeken, "
               f"{counts['notes']} notities.")


@click.command("notify")
@HOME_OPTION
def notify_cmd(home):
    """Send the follow-up e-mails that are due (those that failed before); for cron or a systemd timer."""
    from web.notify import MailSettings, Notifier

    cfg = config_for(home=home)
    mail = MailSettings.from_config(cfg)
    if not mail.enabled:
        raise InvalidInput("no smtp_host is set, so no e-mail can be sent", field="smtp_host")
    counts = Notifier(_store(cfg=cfg), mail).deliver_due()
    click.echo(f"Verstuurd: {counts['sent']}; mislukt (later opnieuw): {counts['failed']}.")
