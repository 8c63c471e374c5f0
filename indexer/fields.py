"""Record fields: check and convert front-matter / CSV fields, and make a record of a file's text.

Typed fields (lists, booleans, whole numbers, dates) are converted from the text as written
(``frontmatter`` keeps YAML scalars as text); a bad value is a :class:`ReadError` naming the field,
which ``read_corpus`` reports with the file and line.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import PurePath
from typing import Any

from .errors import ReadError
from .records import KINDS, Block, Record

FOLDER_KINDS = {
    "experts": "expert", "experten": "expert",
    "themegroups": "themegroup", "themagroepen": "themegroup",
    "literature": "literature", "literatuur": "literature",
    "products": "product", "producten": "product",
    "kennisrotonde": "kennisrotonde",
    "reports": "report", "rapporten": "report",
}

LIST_FIELDS = {"tags", "expertise", "themegroups", "products", "authors"}
BOOL_FIELDS = {"available", "open"}
INT_FIELDS = {"members", "year"}
DATE_FIELDS = {"updated", "date"}
STATUSES = ("actief", "gestopt", "in oprichting")
REQUIRED = {"expert": ("name",), "themegroup": ("name",), "literature": ("title",),
            "product": ("title",), "kennisrotonde": ("question",), "report": ()}

def slugify(text: str) -> str:
    """An ASCII id part: "Coach digitale didactiek" -> "coach-digitale-didactiek" ("x" when empty)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "x"


def kind_for(rel: PurePath, meta: dict[str, Any]) -> str:
    """The record kind: ``kind`` in the fields, else the first folder (``FOLDER_KINDS``), else report.
    Raises ReadError (field 'kind') for an unknown declared kind."""
    declared = meta.get("kind")
    if declared is not None:
        value = str(declared).strip().lower()
        if value not in KINDS:
            raise ReadError(f"field 'kind' is {declared!r}; expected one of {', '.join(KINDS)}", field="kind")
        return value
    if len(rel.parts) > 1:
        return FOLDER_KINDS.get(rel.parts[0].lower(), "report")
    return "report"


def _as_list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            if isinstance(item, (dict, list)):
                raise ReadError(f"field '{name}' must be a list of texts, found a nested {type(item).__name__}",
                                field=name)
            if item is not None and str(item).strip():
                out.append(str(item).strip())
        return out
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    raise ReadError(f"field '{name}' must be a list, found {type(value).__name__}", field=name)


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in {"true", "ja", "yes", "1", "waar"}:
            return True
        if v in {"false", "nee", "no", "0", "onwaar"}:
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ReadError(f"field '{name}' must be true or false, found {value!r}", field=name)


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ReadError(f"field '{name}' must be a whole number, found {value!r}", field=name)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise ReadError(f"field '{name}' must be a whole number, found {value!r}", field=name)


def _as_date(name: str, value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise ReadError(f"field '{name}' must be a date YYYY-MM-DD, found {value!r}", field=name)


def normalise_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """Check and convert typed fields. Unknown fields are kept as text."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        name = str(key).strip().lower()
        if value is None or value == "":
            continue
        if name in LIST_FIELDS:
            out[name] = _as_list(name, value)
        elif name in BOOL_FIELDS:
            out[name] = _as_bool(name, value)
        elif name in INT_FIELDS:
            out[name] = _as_int(name, value)
        elif name in DATE_FIELDS:
            out[name] = _as_date(name, value)
        elif isinstance(value, (dict,)):
            raise ReadError(f"field '{name}' must be a single value, found a mapping", field=name)
        elif isinstance(value, list):
            out[name] = _as_list(name, value)
        elif isinstance(value, (dt.date, dt.datetime)):
            out[name] = value.isoformat()
        else:
            out[name] = str(value).strip() if not isinstance(value, (bool, int, float)) else value
    return out


def build_record(rel: PurePath, meta: dict[str, Any], blocks: list[Block], source: str) -> Record:
    """A checked record from a file's (or row's) fields and text blocks. The id is the ``id`` field or
    the path without extension; the title the ``title``/``name`` field, else the first heading, else
    the file name. Raises ReadError naming the field for a bad or missing required field."""
    kind = kind_for(rel, meta)
    fields = normalise_fields(meta)
    fields.pop("kind", None)
    if "name" in fields and "title" not in fields:
        fields["title"] = fields["name"]
    if "title" in fields and "name" not in fields and kind in ("expert", "themegroup"):
        fields["name"] = fields["title"]
    if kind == "kennisrotonde" and "question" in fields and "title" not in fields:
        fields["title"] = fields["question"]
    for required in REQUIRED[kind]:
        if required not in fields:
            article = "an" if kind[0] in "aeiou" else "a"
            raise ReadError(f"required field '{required}' is missing for {article} {kind} record", field=required)
    if kind == "themegroup" and "status" in fields:
        status = str(fields["status"]).strip().lower()
        if status not in STATUSES:
            raise ReadError(f"field 'status' is {fields['status']!r}; expected one of {', '.join(STATUSES)}",
                            field="status")
        fields["status"] = status
    rid = str(fields.pop("id", "")).strip() or rel.with_suffix("").as_posix()
    title = str(fields.get("title") or "").strip()
    if not title:
        title = _first_heading(blocks) or rel.stem.replace("-", " ").replace("_", " ")
        fields["title"] = title
    record = Record(id=rid, kind=kind, title=title, source=source, url=fields.pop("url", None),
                    tags=fields.pop("tags", []), fields=fields, blocks=blocks)
    record.body = "\n\n".join(b.text for b in blocks)
    _links(record)
    return record


def _first_heading(blocks: list[Block]) -> str | None:
    for b in blocks:
        if b.heading:
            return b.heading
    return None


def _links(record: Record) -> None:
    f = record.fields
    if record.kind == "expert":
        record.links += [(t, "member_of") for t in f.get("themegroups", [])]
    elif record.kind == "themegroup":
        record.links += [(p, "made") for p in f.get("products", [])]
        if f.get("contact"):
            record.links.append((str(f["contact"]), "contact"))
    elif record.kind == "product" and f.get("made_by"):
        record.links.append((str(f["made_by"]), "made_by"))


