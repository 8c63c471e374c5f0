"""Dutch messages for errors, wherever they were raised.

The library layers (indexer, matcher, the app store) raise ``SchakelError``s with an English
message for logs and developers, a stable English ``code`` and the ``field``. Participants,
connectors and API clients get a Dutch sentence: ``dutch_message(exc)`` translates the known
messages (keeping the numbers and names they carry) and otherwise gives a Dutch sentence for
the error's code and field. The CLI uses the same function.
"""
from __future__ import annotations

import re

from indexer.errors import SchakelError

FIELD_NAMES = {"question": "de vraag", "answers": "de antwoorden", "top": "'top'", "level": "'level'",
               "email": "het e-mailadres", "text": "de notitie", "status": "de status", "body": "de inhoud",
               "username": "de gebruikersnaam", "password": "het wachtwoord", "role": "de rol",
               "record_id": "'record_id'", "useful": "'useful'", "consent": "'consent'", "days": "het aantal dagen"}

#: (pattern on the English message, Dutch template using the pattern's groups)
PATTERNS: list[tuple[re.Pattern, str]] = [(re.compile(p, re.I), t) for p, t in [
    (r"^'question' must be a (non-empty )?text", "Geef de vraag als tekst."),
    (r"^the question is empty", "Je vraag is leeg. Typ een vraag uit je onderwijspraktijk."),
    (r"^the question has (\d+) characters; at most (\d+)",
     "Je vraag is {0} tekens lang; er passen er hoogstens {1}. Maak hem korter."),
    (r"^the question has no words", "Je vraag bevat geen woorden. Typ een vraag uit je onderwijspraktijk."),
    (r"^'answers' must be an object", "'answers' moet een object zijn van facet: antwoord."),
    (r"^unknown facet '([^']*)' in 'answers'; known: (.*)$",
     "Onbekend facet '{0}' in 'answers'; bekende facetten: {1}."),
    (r"^answer for '([^']*)' must be a text", "Het antwoord bij '{0}' moet tekst zijn."),
    (r"^'top' must be a whole number from (\d+) to (\d+)", "'top' moet een heel getal van {0} tot en met {1} zijn."),
    (r"^'level' must be 0", "'level' moet 0 (de vraag zoals gesteld) tot en met 3 (het algemeenst) zijn."),
    (r"^'(\w+)' must be a whole number", "'{0}' moet een heel getal zijn."),
    (r"^'(\w+)' must be true or false", "'{0}' moet true of false zijn."),
    (r"^'record_id' must be the id", "'record_id' moet de id van een record in de index zijn."),
    (r"^the JSON body is nested too deeply", "De JSON is te diep genest."),
    (r"^the body must be a JSON object", "Stuur een JSON-object."),
    (r"^send JSON with Content-Type", "Stuur JSON met de header Content-Type: application/json."),
    (r"^too many requests; try again in (\d+)", "Te veel verzoeken achter elkaar. Probeer het over {0} seconden "
                                                "opnieuw."),
    (r"^log in first", "Log eerst in."),
    (r"^this needs the role (.*)$", "Hiervoor heb je de rol {0} nodig."),
    (r"^that is not a valid e-mail address", "Vul een geldig e-mailadres in, bijvoorbeeld naam@school.nl."),
    (r"^the note is empty", "Schrijf eerst een notitie; een lege notitie wordt niet bewaard."),
    (r"^status must be one of: (.*)$", "Kies een van deze statussen: {0}."),
    (r"^tick the box to confirm the deletion", "Vink het vakje aan om het verwijderen te bevestigen."),
    (r"^no intake (\d+)", "Er is geen vraag met nummer {0}."),
    (r"^no user '([^']*)'", "Er is geen gebruiker '{0}'."),
    (r"^user '([^']*)' already exists", "De gebruiker '{0}' bestaat al."),
    (r"^password: at least (\d+) characters", "Het wachtwoord moet minstens {0} tekens hebben."),
    (r"^username: ", "Gebruikersnaam: 2 tot 40 tekens, kleine letters, cijfers, '.', '_' of '-'."),
    (r"^role must be one of (.*)$", "De rol moet een van deze zijn: {0}."),
    (r"^no password on standard input", "Er kwam geen wachtwoord binnen via standaardinvoer."),
    (r"^retention_days must be", "De bewaartermijn moet een heel aantal dagen zijn, minstens 1."),
    (r"^(.+?): unknown setting '([^']*)' \(known: (.*)\)", "{0}: onbekende instelling '{1}' (bekend: {2})."),
    (r"^(.+?): unknown setting '([^']*)'", "{0}: onbekende instelling '{1}'."),
    (r"^(.+?): expected 'name = value', got (.*)$", "{0}: verwacht 'naam = waarde', maar kreeg {1}."),
    (r"^(?:(.+?): )?(\w+) is a secret: set it in the environment \((\w+)\)",
     "{1} is geheim: zet het in de omgeving ({2}), niet in een bestand of op de opdrachtregel."),
    (r"^(.+?): home cannot be set in the file", "{0}: home kan niet in het bestand staan dat erin ligt."),
    (r"^(.+?) '([^']*)': expected NAME=VALUE", "{0} '{1}': verwacht NAAM=WAARDE met een bekende instelling."),
    (r"^'(\w+)' has (\d+) characters; at most (\d+) are accepted",
     "'{0}' is {1} tekens lang; er passen er hoogstens {2}."),
    (r"^'answers' has (\d+) entries; at most (\d+) are accepted", "'answers' heeft {0} antwoorden; hoogstens {1}."),
    (r"^password: at most (\d+) characters", "Het wachtwoord mag hoogstens {0} tekens hebben."),
    (r"^password: too common or too easy to guess", "Dit wachtwoord is te bekend of te makkelijk te raden. Gebruik "
                                                    "een langere zin van een paar woorden."),
    (r"^RETENTION_DAYS='?([^':]*)'?: give a whole number", "RETENTION_DAYS={0}: geef een heel aantal dagen, minstens 1."),
    (r"^PURGE_INTERVAL_HOURS='?([^' ]*)'? is not a number", "PURGE_INTERVAL_HOURS={0} is geen getal."),
    (r"^no index in (\S+?):?(?:\s|$)", "Er is nog geen index in {0}. Voer eerst `schakel index MAP --home {0}` uit, "
                                        "met als MAP de map van je corpus."),
    # installation (package data) and `schakel eval` (matcher.knobs, schakel.eval_cmd, matcher.evaluate)
    (r"^the built-in thesaurus (\S+) is missing", "De ingebouwde thesaurus {0} ontbreekt: deze installatie van "
                                                  "Schakel is onvolledig. Installeer Schakel opnieuw."),
    (r"^the built-in thesaurus is unusable: (\S+?):", "De ingebouwde thesaurus {0} is onleesbaar: deze installatie "
                                                      "van Schakel is onvolledig. Installeer Schakel opnieuw."),
    (r"^the specifics lexicon (\S+) is missing or unreadable", "De lijst met namen van scholen, opleidingen en tools "
                                                               "{0} ontbreekt of is onleesbaar: deze installatie van "
                                                               "Schakel is onvolledig. Installeer Schakel opnieuw."),
    (r"^(?:SCHAKEL_KNOBS: )?unknown ranking knob '([^']*)'; did you mean (.*)\?$",
     "Onbekende rangschikkingsknop '{0}'; bedoel je {1}?"),
    (r"^(?:SCHAKEL_KNOBS: )?unknown ranking knob '([^']*)'",
     "Onbekende rangschikkingsknop '{0}'; `schakel eval --knobs` toont ze."),
    (r"^(?:SCHAKEL_KNOBS: )?knob (\w+): '([^']*)' is not one of (.*)$", "Knop {0}: '{1}' is niet een van {2}."),
    (r"^(?:SCHAKEL_KNOBS: )?knob (\w+): '([^']*)' is not a \w+ \(default ([^)]*)\)",
     "Knop {0}: '{1}' is geen geldige waarde (standaard {2})."),
    (r"^(?:SCHAKEL_KNOBS: )?'([^']*)' is not NAME=VALUE", "'{0}' is geen NAAM=WAARDE."),
    (r"^'([^']*)' is not NAME=v1,v2", "'{0}' is geen NAAM=W1,W2,..."),
    (r"^(--corpus|--home) is given (\d+) times for (\d+) question files",
     "{0} staat er {1} keer voor {2} vragenbestanden; geef het een keer per bestand, in dezelfde volgorde."),
    (r"^(\S+): no corpus/ folder beside it", "Naast {0} staat geen map corpus/; geef er --corpus of --home voor."),
    (r"^(\S+): has no questions", "{0} bevat geen vragen."),
    # question files (``matcher.questions.read_jsonl``: `schakel eval`, `schakel coverage --questions`)
    (r"^question file (\S+) does not exist", "Het vragenbestand {0} bestaat niet."),
    (r"^(\S+): cannot be read: (.*)$", "{0} kan niet worden gelezen ({1})."),
    (r"^(\S+): is not UTF-8 text", "{0} is geen UTF-8-tekst."),
    (r"^(\S+):(\d+): not valid JSON \((.*)\)$", "{0}:{1}: regel {1} is geen geldige JSON (melding: {2})."),
    (r"^(\S+):(\d+): expected an object with a 'question' text",
     "{0}:{1}: verwacht op regel {1} een JSON-object met de vraag als tekst in \"question\"."),
    (r"^(\S+):(\d+): grades in 'relevant' must be whole numbers",
     "{0}, regel {1}: de cijfers in 'relevant' moeten hele getallen zijn."),
    (r"^(\S+):(\d+): 'relevant' must map record ids", "{0}, regel {1}: 'relevant' moet record-id's op cijfers afbeelden."),
    (r"^no stored feedback with a useful match", "Er is in deze home geen bewaard oordeel over een nuttige match."),
    (r"^this index was built with embedder '([^']*)' \((\d+) dimensions\); the query embedder is '([^']*)' "
     r"\((\d+) dimensions\)",
     "Deze index is gemaakt met taalmodel '{0}' ({1} dimensies); Schakel verwerkt vragen nu met '{2}' ({3} "
     "dimensies). Gebruik hetzelfde taalmodel (--embedder of SCHAKEL_EMBEDDER) of bouw de index opnieuw met "
     "`schakel index --rebuild`."),
]]
#: file paths (with a line number where given: ``file.jsonl:2``) and quoted names in an English message, kept in
#: the Dutch fallback so it still names them
_NAMES = re.compile(r"(?:[\w.-]*/[\w./-]+(?::\d+)?|\b[\w-]+\.(?:db|json|jsonl|faiss|npy|yaml|yml|md|csv|txt|pdf|html|docx)\b(?::\d+)?|'[^']+')")

BY_CODE = {
    "invalid_input": "De invoer klopt niet{where}.",
    "not_found": "Niet gevonden{where}.",
    "no_index": "Schakel heeft nog geen index. Vraag de beheerder om `schakel index` uit te voeren.",
    # a plain `schakel index` builds a damaged index again from the stored embeddings (its checksums fail, so
    # it does not count as unchanged); --rebuild would embed every passage again, hours at 10^6 passages
    "corrupt_index": "De index is beschadigd. Vraag de beheerder om `schakel index` opnieuw uit te voeren: dat "
                     "bouwt hem opnieuw met de bewaarde embeddings (`schakel index --rebuild` embedt alles "
                     "opnieuw).",
    "embedder_mismatch": "De index is gemaakt met een ander taalmodel. Bouw de index opnieuw met "
                         "`schakel index --rebuild`.",
    "embedder_unavailable": "Het taalmodel kon niet worden geladen.",
    "index_busy": "Er wordt al een index gebouwd. Probeer het straks opnieuw.",
    "unauthorized": "Log eerst in.",
    "forbidden": "Je hebt geen toegang tot deze pagina.",
    "rate_limited": "Te veel verzoeken achter elkaar. Wacht even en probeer het opnieuw.",
    "installation_broken": "Deze installatie van Schakel is onvolledig: een meegeleverd bestand ontbreekt of is "
                           "onleesbaar{where}. Installeer Schakel opnieuw.",
}
GENERIC = "Er ging iets mis{where}."


def _write_failed(m: re.Match) -> str:
    where, reason, current, hint = m.groups()
    kept = f"de index in gebruik ({current}) is ongewijzigd" if current else "er is nog geen gepubliceerde index"
    return (f"De nieuwe index in {where} kon niet worden geschreven (melding van het systeem: {reason}). Er is niets "
            f"gepubliceerd; {kept}. {'Maak schijfruimte vrij en v' if hint else 'Los dit op en v'}oer "
            "`schakel index` opnieuw uit.")


#: messages whose Dutch form depends on what they say (a function of the match)
def _unreadable_character(m: re.Match) -> str:
    field, byte, char = m.groups()
    which = f"de byte {byte}, geen UTF-8" if byte else f"{char}, een half tekenpaar"
    return (f"In {FIELD_NAMES.get(field, repr(field))} staat een teken dat niet gelezen kan worden ({which}). "
            "Typ of plak de tekst opnieuw.")


def _empty_corpus(m: re.Match) -> str:
    folders, skipped = m.groups()
    extra = f" ({skipped} overgeslagen: verborgen of onbekende extensie)" if skipped else ""
    return (f"Niets te indexeren: in {folders} staan geen bestanden om te indexeren{extra}. Voeg .md-, .txt-, .pdf-, "
            ".html-, .docx- of .csv-bestanden toe (zie CORPUS_FORMAT.md); de index in gebruik blijft ongewijzigd.")


def _all_broken(m: re.Match) -> str:
    folders, count, listed = m.groups()
    return (f"Niets te indexeren: elk bestand in {folders} heeft een probleem ({count}): {listed}. "
            "De index in gebruik blijft ongewijzigd.")


#: why a setting's value is refused (``indexer.settings``' converters), in Dutch
SETTING_REASONS: list[tuple[re.Pattern, str]] = [(re.compile(p), t) for p, t in [
    (r"^must be a whole number from (\d+) to (\d+)", "het moet een heel getal van {0} tot en met {1} zijn"),
    (r"^must be a whole number of at least (\d+)", "het moet een heel getal van minstens {0} zijn"),
    (r"^not a whole number", "het is geen heel getal"),
    (r"^must be 0 or more hours", "het moet 0 of meer uren zijn"),
    (r"^could not convert string to float", "het is geen getal"),
    (r"^not a boolean", "gebruik true of false"),
    (r"^not a storage URL such as (\S+) or (\S+)", "gebruik een adres zoals {0} of {1}"),
    (r"^use (postgresql://\S+) or (sqlite:///)PATH", "gebruik {0} of {1}PAD"),
    (r"^not COUNT/SECONDS", "gebruik AANTAL/SECONDEN met positieve hele getallen, zoals 120/60"),
    (r"^not an e-mail address: ('[^']*')", "{0} is geen e-mailadres"),
]]


def _bad_setting(m: re.Match) -> str:
    where, name, value, reason = m.groups()
    where = {"command line": "opdrachtregel"}.get(where, where)
    why = next((t.format(*r.groups()) for p, t in SETTING_REASONS for r in [p.search(reason or "")] if r), "")
    return f"{where}: de instelling {name} = {value} is geen geldige waarde" + (f"; {why}." if why else ".")


FUNCTIONS: list[tuple[re.Pattern, object]] = [
    (re.compile(r"^(.+?): setting (\w+) = ('[^']*'|\S+) is not valid(?:: (.*))?$", re.S), _bad_setting),
    (re.compile(r"^the (\w+) holds (?:a byte that is not UTF-8 \((0x[0-9A-Fa-f]+)\)|an invalid character "
                r"\((U\+[0-9A-Fa-f]+))"), _unreadable_character),
    (re.compile(r"^nothing to index: (.+?) holds no files to index(?: \((\d+) skipped[^)]*\))?\."), _empty_corpus),
    (re.compile(r"^nothing to index: every file in (.+?) has a problem \((\d+)\): (.*)\. The index in use is "
                r"unchanged\.", re.S), _all_broken),
    (re.compile(r"^could not write the new index in (\S+): (.*?)\. Nothing was published; (?:the index in use "
                r"\((\S+)\) is unchanged|there is no published index yet)\. (Free disk space and )?", re.S),
     _write_failed),
]


def translate(message: str) -> str | None:
    """The Dutch sentence for a known English message, or None."""
    for pattern, fn in FUNCTIONS:
        m = pattern.search(message.strip())
        if m:
            return fn(m)
    for pattern, template in PATTERNS:
        m = pattern.search(message.strip())
        if m:
            return template.format(*m.groups())
    return None


def dutch_message(exc: SchakelError, server_side: bool | None = None) -> str:
    """A Dutch sentence for ``exc``: its translated message, else one for its code that names the field and
    the files it is about. ``server_side`` (default: a status of 500 or more): a fault of the server's own
    files, told to whoever asked, also on the public pages; such a sentence is the code's own and names files
    without their folders (the server's paths are nobody's business; its log has the full message)."""
    server_side = exc.status >= 500 if server_side is None else server_side
    if not server_side:
        known = translate(exc.message or "")
        if known:
            return known
        if _looks_dutch(exc.message or ""):
            return exc.message
    field = exc.field or ""
    where = f" bij {FIELD_NAMES.get(field, repr(field))}" if field else ""
    text = BY_CODE.get(exc.code, GENERIC).format(where=where)
    names = [n.rstrip(".:") for n in _NAMES.findall(exc.message or "")]
    if server_side:
        names = [n.rsplit("/", 1)[-1] for n in names if not n.startswith("'")]
    names = list(dict.fromkeys(n for n in names if n))[:3]
    return f"{text} (betreft: {', '.join(names)})" if names else text


_DUTCH_WORDS = {"de", "het", "een", "en", "van", "niet", "is", "geen", "je", "deze", "bij", "op", "moet", "kan", "er"}
_ENGLISH_WORDS = {"the", "a", "an", "must", "is", "not", "no", "of", "to", "be", "with", "run", "file", "cannot",
                  "found", "should", "and", "or"}


def _looks_dutch(text: str) -> bool:
    words = re.findall(r"[a-z]+", text.lower())
    nl = sum(w in _DUTCH_WORDS for w in words)
    en = sum(w in _ENGLISH_WORDS and w not in _DUTCH_WORDS for w in words)
    return nl > en
