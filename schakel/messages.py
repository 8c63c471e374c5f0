"""Dutch error messages for the command line.

Our own errors (``SchakelError``) are translated by ``web.messages.dutch_message``, the
same function the web pages and the API use. Click's own messages (unknown option,
missing argument, bad value) are English in Click; ``dutch_click`` translates the ones
a user meets, keeping the option and value names. (Click uses gettext, but ships no
Dutch catalogue.)
"""
from __future__ import annotations

import re

import click

CLICK_PATTERNS = [(re.compile(p), t) for p, t in [
    (r"^No such option:? '?([^'\s]+?)'?\.?\s+Did you mean '?([^'?\s]+)'?\?", "Onbekende optie: {0}. Bedoel je {1}?"),
    (r"^No such option:? '?([^'\s]+?)'?\.?$", "Onbekende optie: {0}."),
    (r"^No such option:? '?([^'\s]+?)'?\.?\s", "Onbekende optie: {0}."),
    (r"^No such command '([^']+)'", "Onbekend commando '{0}'."),
    (r"^Missing argument '([^']+)'", "Het argument '{0}' ontbreekt."),
    (r"^Missing option '([^']+)'", "De optie '{0}' ontbreekt."),
    (r"^Option '([^']+)' requires an argument", "De optie '{0}' heeft een waarde nodig."),
    (r"^Option '([^']+)' requires (\d+) arguments", "De optie '{0}' heeft {1} waarden nodig."),
    (r"^Got unexpected extra arguments? \((.*)\)", "Onverwachte extra argumenten: {0}."),
    (r"^Invalid value for '([^']+)': '([^']*)' is not a valid integer", "Ongeldige waarde voor '{0}': '{1}' is geen "
                                                                         "heel getal."),
    (r"^Invalid value for '([^']+)': '([^']*)' is not a valid float", "Ongeldige waarde voor '{0}': '{1}' is geen "
                                                                       "getal."),
    (r"^Invalid value for '([^']+)': '([^']*)' is not one of (.*)\.", "Ongeldige waarde voor '{0}': '{1}' is niet "
                                                                       "een van {2}."),
    (r"^Invalid value for '([^']+)': (?:Directory|File|Path) '([^']*)' does not exist",
     "Ongeldige waarde voor '{0}': '{1}' bestaat niet."),
    (r"^Invalid value for '([^']+)': (?:Directory|File|Path) '([^']*)' is a (?:file|directory)",
     "Ongeldige waarde voor '{0}': '{1}' is van de verkeerde soort (map of bestand)."),
    (r"^Invalid value for '?([^':]+)'?: (.*)$", "Ongeldige waarde voor '{0}': {1}"),
]]


def dutch_click(message: str) -> str:
    """A Dutch sentence for one of Click's own messages; the message itself when it is not one of them."""
    for pattern, template in CLICK_PATTERNS:
        m = pattern.search(message.strip())
        if m:
            return template.format(*m.groups())
    return message


def show(exc: click.ClickException) -> None:
    """Print a Click error in Dutch ("Fout: ..."), with the usage line and a hint for usage errors."""
    from web.messages import translate

    message = exc.format_message()
    text = translate(message) or dutch_click(message)
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        click.echo(exc.ctx.get_usage().replace("Usage:", "Gebruik:", 1), err=True)
        name = exc.ctx.command_path
        click.echo(f"Typ '{name} -h' voor hulp.\n", err=True)
    click.echo(f"Fout: {text}", err=True)
