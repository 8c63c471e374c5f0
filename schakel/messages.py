"""Dutch error messages and help texts for the command line.

Our own errors (``SchakelError``) are translated by ``web.messages.dutch_message``, the
same function the web pages and the API use. Click's own messages (unknown option,
missing argument, bad value) are English in Click; ``dutch_click`` translates the ones
a user meets, keeping the option and value names. (Click uses gettext, but ships no
Dutch catalogue.)
"""
from __future__ import annotations

import re

import click

from indexer import settings

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
    (r"^Invalid value for '([^']+)': (?:Directory|Path) '([^']*)' is a file",
     "Ongeldige waarde voor '{0}': '{1}' is een bestand; geef een map."),
    (r"^Invalid value for '([^']+)': (?:File|Path) '([^']*)' is a directory",
     "Ongeldige waarde voor '{0}': '{1}' is een map; geef een bestand."),
    (r"^Invalid value for '([^']+)': (\S+) is not in the range (-?\d+(?:\.\d+)?)<=x<=(-?\d+(?:\.\d+)?)\.?$",
     "Ongeldige waarde voor '{0}': {1}; kies een getal van {2} tot en met {3}."),
    (r"^Invalid value for '([^']+)': (\S+) is not in the range x>=(-?\d+(?:\.\d+)?)\.?$",
     "Ongeldige waarde voor '{0}': {1} is te klein; het moet minstens {2} zijn."),
    (r"^Invalid value for '([^']+)': (\S+) is not in the range (\S+?)\.?$",
     "Ongeldige waarde voor '{0}': {1} ligt niet in het bereik {2}."),
    (r"^Invalid value for '?([^':]+)'?: (.*)$", "Ongeldige waarde voor '{0}': {1}"),
]]


#: problems the indexer reports per file or row (``indexer.records.Problem``: English, for logs and ``--json``), as
#: `schakel index` prints them: (pattern on the message, Dutch template); one not listed is printed as it is
PROBLEM_PATTERNS = [(re.compile(p), t) for p, t in [
    (r"^required field '([^']+)' is missing for (?:an?) (\w+) record", "het verplichte veld '{0}' ontbreekt ({1})"),
    (r"^field '([^']+)' must be true or false, found (.*)$", "het veld '{0}' moet true of false zijn, maar is {1}"),
    (r"^field '([^']+)' must be a whole number, found (.*)$", "het veld '{0}' moet een heel getal zijn, maar is {1}"),
    (r"^field '([^']+)' must be a date YYYY-MM-DD(?:, found (.*))?$", "het veld '{0}' moet een datum JJJJ-MM-DD zijn"),
    (r"^field '([^']+)' must be a list, found (\w+)", "het veld '{0}' moet een lijst zijn, maar is een {1}"),
    (r"^field '([^']+)' must be a list of texts", "het veld '{0}' moet een lijst van teksten zijn"),
    (r"^field '([^']+)' must be a single value, found a mapping", "het veld '{0}' moet één waarde zijn, geen mapping"),
    (r"^field '(kind|status)' is ('[^']*'); expected one of (.*)$", "het veld '{0}' is {1}; verwacht een van {2}"),
    (r"^front matter must be a mapping", "de front matter moet een lijst van veld: waarde zijn"),
    (r"^front matter starts with '---' but has no closing '---' line",
     "de front matter begint met '---' maar heeft geen afsluitende regel '---'"),
    (r"^invalid YAML front matter: (.*)$", "ongeldige YAML in de front matter: {0}"),
    (r"^duplicate id '([^']+)': also used by (\S+); this one is skipped",
     "dubbele id '{0}': ook gebruikt in {1}; deze wordt overgeslagen"),
    (r"^(the same URL|near-identical text) as '([^']+)' \(([^)]*)\); indexed once, as that record",
     "{0} als '{1}' ({2}); één keer geïndexeerd, als dat record"),
    (r"^kept the last good version from the previous index", "de laatste goede versie uit de vorige index is bewaard"),
    (r"^file has no text \(nothing visible in the HTML body\)", "het bestand heeft geen tekst (niets zichtbaars in de "
                                                                "HTML-body)"),
    (r"^file has no text", "het bestand heeft geen tekst"),
    (r"^file is (\d+) MB; the limit is (\d+) MB", "het bestand is {0} MB; de grens is {1} MB"),
    (r"^cannot be read: (.*)$", "kan niet worden gelezen: {0}"),
    (r"^could not be read: nested too deeply", "kan niet worden gelezen: te diep genest"),
    (r"^could not be read: (.*)$", "kan niet worden gelezen: {0}"),
    (r"^not a readable PDF: (.*)$", "geen leesbare PDF: {0}"),
    (r"^PDF has no pages", "de PDF heeft geen pagina's"),
    (r"^PDF has no extractable text", "de PDF heeft geen tekst om uit te lezen (gescande pagina's hebben eerst OCR "
                                      "nodig)"),
    (r"^PDF is encrypted and needs a password", "de PDF is versleuteld en vraagt een wachtwoord"),
    (r"^PDF is encrypted", "de PDF is versleuteld en kan niet worden geopend"),
    (r"^page (\d+): text could not be extracted", "pagina {0}: de tekst kon niet worden uitgelezen"),
    (r"^not a readable \.docx: (.*)$", "geen leesbaar .docx-bestand: {0}"),
    (r"^\.docx has no text", "het .docx-bestand heeft geen tekst"),
    (r"^not readable as HTML", "niet leesbaar als HTML"),
    (r"^CSV file is empty", "het CSV-bestand is leeg"),
    (r"^CSV has a header but no rows", "het CSV-bestand heeft een kopregel maar geen rijen"),
    (r"^CSV header row is empty", "de kopregel van het CSV-bestand is leeg"),
    (r"^CSV cannot be parsed: (.*)$", "het CSV-bestand kan niet worden ontleed: {0}"),
    (r"^not UTF-8; read as (\S+) \(detected\)", "geen UTF-8; gelezen als {0} (herkend)"),
    (r"^not valid UTF-8: (\d+) stray byte\(s\) on line (.*?); read as UTF-8",
     "geen geldige UTF-8: {0} losse byte(s) op regel {1}; gelezen als UTF-8, elke losse byte als cp1252"),
    (r"^Kennisrotonde answer lacks section\(s\): (.*)$", "het Kennisrotonde-antwoord mist de sectie(s) {0}"),
]]


def dutch_problem(message: str) -> str:
    """The Dutch text of an indexer problem's MESSAGE (``PROBLEM_PATTERNS``), or MESSAGE itself when none fits."""
    return templated(PROBLEM_PATTERNS, message) or message


def templated(patterns: list[tuple[re.Pattern, str]], message: str) -> str | None:
    """The template of the first of PATTERNS (pattern, template) found in MESSAGE (stripped), filled with its groups;
    None when none is found (``web.messages.translate`` does the same for our own errors; this module does not import
    the web package, which would load Flask for every command)."""
    for pattern, template in patterns:
        m = pattern.search(message.strip())
        if m:
            return template.format(*m.groups())
    return None


def dutch_click(message: str) -> str:
    """A Dutch sentence for one of Click's own messages; the message itself when it is not one of them."""
    return templated(CLICK_PATTERNS, message) or message


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


# --- help texts -----------------------------------------------------------------------
# Our own help texts are written in Dutch at the commands. Click adds a few English words of its
# own around them (the usage prefix, section headings, the --help and --version lines, "[default: ...]",
# the type names shown as metavars). Click takes them from gettext without a Dutch catalogue, so the
# formatter below translates them, the same way ``dutch_click`` translates Click's error messages.

HELP_HEADINGS = {"Usage:": "Gebruik:", "Options": "Opties", "Commands": "Commando's",
                 "Positional arguments": "Argumenten"}
HELP_PHRASES = [(re.compile(p), t) for p, t in [
    (r"Show this message and exit\.", "Toon deze hulp en stop."),
    (r"Show the version and exit\.", "Toon het versienummer en stop."),
    (r"\bdefault: ", "standaard: "),
    (r"\benv var: ", "omgevingsvariabele: "),
    (r"\brequired\b", "verplicht"),
    (r"\(dynamic\)", "(wisselend)"),
]]
#: Click's metavars for its parameter types (upper case in the help), longest first.
METAVARS = [(re.compile(rf"(?<![\w-]){p}(?![\w-])"), t) for p, t in [
    ("INTEGER RANGE", "GETAL"), ("FLOAT RANGE", "GETAL"), ("INTEGER", "GETAL"), ("FLOAT", "GETAL"),
    ("DIRECTORY", "MAP"), ("FILE", "BESTAND"), ("PATH", "PAD"), ("TEXT", "TEKST"), ("BOOLEAN", "JA/NEE"),
]]


def dutch_help(text: str, patterns=HELP_PHRASES) -> str:
    """``text`` with Click's own English help fragments (``HELP_PHRASES`` or ``METAVARS``) in Dutch."""
    for pattern, template in patterns:
        text = pattern.sub(template, text)
    return text


class DutchFormatter(click.HelpFormatter):
    """Click's help formatter with Click's own words in Dutch (see ``HELP_HEADINGS``, ``HELP_PHRASES``)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, dutch_help(args, METAVARS), HELP_HEADINGS["Usage:"] + " " if prefix is None
                            else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(HELP_HEADINGS.get(heading, heading))

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(dutch_help(term, METAVARS), dutch_help(text)) for term, text in rows]
        super().write_dl(rows, col_max, col_spacing)


class DutchContext(click.Context):
    """A Click context whose help is formatted by ``DutchFormatter``."""

    formatter_class = DutchFormatter


class DutchCommand(click.Command):
    """A Click command with Dutch help: ``DutchContext`` and a Dutch options placeholder in the usage line."""

    context_class = DutchContext

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[OPTIES]")
        super().__init__(*args, **kwargs)


class DutchGroup(click.Group):
    """A Click group with Dutch help, whose subcommands and subgroups are Dutch too."""

    context_class = DutchContext
    command_class = DutchCommand
    group_class = type  # subgroups get this group's class

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[OPTIES]")
        kwargs.setdefault("subcommand_metavar", "COMMANDO [ARGUMENTEN]...")
        super().__init__(*args, **kwargs)


def setting_help(name: str, prefix: str = "") -> str:
    """An option's Dutch help from the settings registry (``Setting.help_nl``), naming the setting, its
    environment variable and its default. Raises KeyError for an unknown setting or one without Dutch help."""
    s = settings.BY_NAME[name]
    if not s.help_nl:
        raise KeyError(f"setting {name!r} has no help_nl (Dutch help for the command line)")
    if s.default in (None, "", ()) and "standaard" in s.help_nl:   # the help says what happens without one
        return f"{prefix}{s.help_nl} (instelling {s.name}, omgevingsvariabele {s.env})"
    default = "geen" if s.default in (None, "", ()) else s.default
    return f"{prefix}{s.help_nl} (instelling {s.name}, omgevingsvariabele {s.env}; standaard: {default})"
