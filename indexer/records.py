"""Typed records: what the corpus reader produces and the store keeps."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("expert", "themegroup", "literature", "product", "kennisrotonde", "report")

#: Dutch display names per kind, used by the CLI and the pages.
KIND_LABELS = {
    "expert": "Experts",
    "themegroup": "Themagroepen",
    "kennisrotonde": "Kennisrotonde-antwoorden",
    "literature": "Literatuur",
    "product": "Producten",
    "report": "Rapporten en verslagen",
}


@dataclass
class Block:
    """A piece of text as read from a file, before it is cut into passages."""

    text: str
    heading: str | None = None
    page: int | None = None


@dataclass
class Record:
    """One expert, theme group, source or answer: read from the corpus by the indexer, stored in records.db
    (``indexer.index_format``) and loaded back by the matcher. The fields after ``context`` are set when
    the record is read from a build: ``row`` (position in the loaded index), ``passages`` (its passage rows)
    and ``concepts`` (ids of the thesaurus concepts found in its text at index time)."""

    id: str
    kind: str
    title: str
    source: str                      # path relative to the corpus root (plus "#row" for csv)
    body: str = ""
    url: str | None = None
    tags: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)   # (target id, relation)
    derived_from: str | None = None  # kennisrotonde id for literature made from a source line
    carried: list["Passage"] | None = None  # passages kept from the last good build (file turned bad)
    context: list[str] = field(default_factory=list)  # linked records' names and focus, added to the profile
    concepts: list[str] = field(default_factory=list)  # concept ids found in its text (stored at index time)
    row: int = 0                     # position in a loaded index
    passages: list[int] = field(default_factory=list)  # passage rows in a loaded index

    @property
    def active(self) -> bool:
        """False for an expert marked unavailable or a theme group that stopped (``status`` is then
        'niet beschikbaar' or 'gestopt'); such records are shown but never count as coverage."""
        if self.kind == "expert":
            return self.fields.get("available", True) is not False
        if self.kind == "themegroup":
            return self.fields.get("status", "actief") != "gestopt"
        return True

    @property
    def status(self) -> str | None:
        """Dutch status shown with the record, or None for an available expert or an active, open theme group:
        'niet beschikbaar', 'gestopt', 'in oprichting' or 'neemt geen nieuwe leden aan'."""
        if self.kind == "expert":
            return None if self.active else "niet beschikbaar"
        if self.kind == "themegroup":
            status = self.fields.get("status") or "actief"
            if status != "actief":
                return str(status)
            if self.fields.get("open") is False:
                return "neemt geen nieuwe leden aan"
        return None


@dataclass
class Passage:
    """A piece of a record's text as indexed and retrieved: ORDINAL is its position in the record (0 = first, with
    the profile), HEADING and PAGE (1-based) where it was found."""
    record_id: str
    ordinal: int
    text: str
    heading: str | None = None
    page: int | None = None


@dataclass
class Problem:
    """Something wrong with one corpus file. ``level`` is 'error' (file skipped) or 'warning'."""

    path: str
    message: str
    line: int | None = None
    level: str = "error"

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        return f"{where}: {self.message}"
