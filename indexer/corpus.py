"""Read a corpus folder (CORPUS_FORMAT.md v1) into validated records.

``read_corpus(root)`` never raises for a bad file: each problem is collected
with the file, the line where known and what is wrong, the file is skipped,
and everything else is read.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from . import limits, readers
from .dedupe import collapse_near_duplicates
from .errors import EmptyCorpus, ReadError
from .readers import strip_list_marker
from .records import KINDS, Block, Problem, Record
from .walk import walk

log = logging.getLogger(__name__)

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
KR_SECTIONS = {"kort antwoord": "short_answer", "toelichting": "explanation",
               "geraadpleegde bronnen": "sources"}


@dataclass
class FileInfo:
    path: str
    sha256: str
    size: int
    records: list[str] = field(default_factory=list)


@dataclass
class CorpusRead:
    root: Path
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)      # ignored by rule (hidden, unknown extension)
    files: list[FileInfo] = field(default_factory=list)
    thesaurus: Path | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "x"


def kind_for(rel: Path, meta: dict[str, Any]) -> str:
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
                raise ReadError(f"field '{name}' must be a list of texts, found a nested {type(item).__name__}", field=name)
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


def build_record(rel: Path, meta: dict[str, Any], blocks: list[Block], source: str) -> Record:
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
            raise ReadError(f"field 'status' is {fields['status']!r}; expected one of {', '.join(STATUSES)}", field="status")
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


_SOURCE_YEAR = re.compile(r"^(?P<authors>.*?)\s*\((?P<year>\d{4})[a-z]?(?:,[^)]*)?\)\.?\s*(?P<rest>.*)$")


# between two authors: ';', '&' / 'en' / 'and' (with or without a comma before it), or the comma after
# someone's initials ("Guo, P. J., Kim, J.")
_AUTHOR_SEP = re.compile(r"\s*;\s*|,?\s+(?:&|en|and)\s+|(?<=\.),\s*(?=[^\W\d_])")


def split_authors(text: str) -> list[str]:
    """'Guo, P. J., Kim, J., & Rubin, R.' -> ['Guo, P. J.', 'Kim, J.', 'Rubin, R.'] (drops 'et al.')."""
    parts = (a.strip().strip(",").strip() for a in _AUTHOR_SEP.split(text))
    return [a for a in parts if a and not re.fullmatch(r"(?i)et\.? al\.?|e\.a\.", a)]


def parse_source_line(line: str) -> dict[str, Any]:
    """Best-effort APA-ish parse: 'Authors (2012). Title. Publisher.'"""
    line = strip_list_marker(line)
    out: dict[str, Any] = {"citation": line}
    m = _SOURCE_YEAR.match(line)
    if m:
        out["year"] = int(m.group("year"))
        authors = m.group("authors").strip().rstrip(",")
        if authors:
            out["authors"] = split_authors(authors)
        rest = m.group("rest")
        title, _, tail = rest.partition(". ")
        out["title"] = title.strip().rstrip(".") or line
        if tail.strip():
            out["publisher"] = tail.strip().rstrip(".")
    else:
        out["title"] = line.rstrip(".")
    return out


def kennisrotonde_parts(record: Record) -> tuple[dict[str, str], list[str]]:
    sections: dict[str, list[str]] = {}
    for block in record.blocks:
        key = KR_SECTIONS.get((block.heading or "").strip().lower().rstrip(":"))
        if key:
            sections.setdefault(key, []).append(block.text)
    texts = {k: "\n\n".join(v) for k, v in sections.items()}
    sources = []
    for line in texts.get("sources", "").splitlines():
        line = strip_list_marker(line)
        if len(line) >= 8:
            sources.append(line)
    return texts, sources


def derived_literature(answer: Record, warn: list[str]) -> list[Record]:
    texts, sources = kennisrotonde_parts(answer)
    missing = [name for name, key in (("Kort antwoord", "short_answer"), ("Toelichting", "explanation"),
                                      ("Geraadpleegde bronnen", "sources")) if key not in texts]
    if missing:
        warn.append("Kennisrotonde answer lacks section(s): " + ", ".join(f"'## {m}'" for m in missing))
    answer.fields["short_answer"] = texts.get("short_answer", "")
    out = []
    for line in sources:
        parsed = parse_source_line(line)
        digest = hashlib.sha1(re.sub(r"\W+", " ", line.lower()).strip().encode()).hexdigest()[:10]
        rid = f"kr-bron-{digest}"
        fields = {k: v for k, v in parsed.items() if k not in ("title",)}
        fields["title"] = parsed["title"]
        rec = Record(id=rid, kind="literature", title=parsed["title"], source=answer.source,
                     body=line,
                     fields=fields, derived_from=answer.id)
        rec.blocks = [Block(text=rec.body)]
        rec.links.append((answer.id, "cited_by"))
        answer.links.append((rid, "cites"))
        out.append(rec)
    return out


def file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def read_corpus(root: str | Path, id_prefix: str = "") -> CorpusRead:
    """Read every file under ``root`` (see ``walk``) into records; never raises for a bad file.

    Each file is read under the per-file limits of ``limits`` (size, unpacked size, time). A file that
    cannot be read becomes an error ``Problem`` naming it (and the line and field, where known), a
    file skipped by rule a line in ``skipped``; everything else is read.
    """
    root = Path(root)
    result = CorpusRead(root=root)
    if not root.is_dir():
        result.problems.append(Problem(str(root), "corpus folder does not exist or is not a folder"))
        return result
    thesaurus = root / "thesaurus.yaml"
    if thesaurus.is_file():
        result.thesaurus = thesaurus
    records: list[Record] = []
    per_file: list[tuple[FileInfo, list[Record]]] = []
    for entry in walk(root):
        shown = entry.rel.as_posix()
        if entry.problem:
            if entry.error:
                result.problems.append(Problem(shown, entry.problem))
            elif not entry.problem.startswith("thesaurus"):
                result.skipped.append(f"{shown}: {entry.problem}")
            continue
        info, found = _read_file(entry.path, entry.rel, shown, result)
        for record in found:
            if id_prefix:
                record.id = id_prefix + record.id
        records += found
        if info is not None:
            per_file.append((info, found))
    result.records, duplicates = unique_ids(records)
    result.records, copies = collapse_near_duplicates(result.records)
    result.problems += duplicates + copies
    kept = {id(r) for r in result.records}
    for info, found in per_file:
        info.records = list(dict.fromkeys(r.id for r in found if id(r) in kept or r.derived_from))
    return result


def _read_file(path: Path, rel: PurePosixPath, shown: str,
               result: CorpusRead) -> tuple[FileInfo | None, list[Record]]:
    try:
        digest, size = file_digest(path)
    except OSError as exc:
        result.problems.append(Problem(shown, f"cannot be read: {exc.strerror or exc}"))
        return None, []
    warn: list[str] = []
    try:
        with limits.time_limit():
            records = _records_from_file(path, rel, shown, warn, result)
    except ReadError as exc:
        line = exc.line if exc.line is not None else _field_line(path, exc.field)
        result.problems.append(Problem(shown, exc.message, line))
        return None, []
    except RecursionError:
        result.problems.append(Problem(shown, "could not be read: nested too deeply"))
        return None, []
    except Exception as exc:  # a reader bug must not stop the whole run
        log.exception("unexpected error reading %s", shown)
        result.problems.append(Problem(shown, f"could not be read: {exc.__class__.__name__}: {exc}"))
        return None, []
    for message in warn:
        result.problems.append(Problem(shown, message, level="warning"))
    info = FileInfo(shown, digest, size)
    result.files.append(info)
    return info, records


def unique_ids(records: list[Record]) -> tuple[list[Record], list[Problem]]:
    """Keep the first record of each id; a later one is an error naming both files. The same cited
    source in two Kennisrotonde answers (derived literature) is one record with the links of both.
    Used per corpus (``read_corpus``) and across corpora (``build_index``)."""
    first: dict[str, Record] = {}
    kept: list[Record] = []
    problems: list[Problem] = []
    for rec in records:
        seen = first.get(rec.id)
        if seen is None:
            first[rec.id] = rec
            kept.append(rec)
        elif rec.derived_from and seen.derived_from:
            seen.links += [link for link in rec.links if link not in seen.links]
        else:
            problems.append(Problem(rec.source, f"duplicate id '{rec.id}': also used by {seen.source}; "
                                                "this one is skipped"))
    return kept, problems


MAX_LISTED = 10


def require_records(records: list[Record], reads: list[CorpusRead]) -> None:
    """Raise :class:`EmptyCorpus` when there is nothing to index, naming each folder and the
    problems that left it empty (at most ``MAX_LISTED``), instead of building an empty index."""
    if records:
        return
    folders = ", ".join(str(r.root) for r in reads)
    errors = [p for r in reads for p in r.errors]
    if not errors:
        skipped = sum(len(r.skipped) for r in reads)
        reason = "holds no files to index" + (f" ({skipped} skipped: hidden or unknown extension)" if skipped else "")
        raise EmptyCorpus(f"nothing to index: {folders} {reason}. Add .md, .txt, .pdf, .html, .docx or .csv "
                          "files (CORPUS_FORMAT.md); the index in use is unchanged.")
    listed = "; ".join(str(p) for p in errors[:MAX_LISTED]) + (" …" if len(errors) > MAX_LISTED else "")
    raise EmptyCorpus(f"nothing to index: every file in {folders} has a problem ({len(errors)}): {listed}. "
                      "The index in use is unchanged.")


def _records_from_file(path: Path, rel: PurePosixPath, shown: str, warn: list[str],
                       result: CorpusRead) -> list[Record]:
    suffix = path.suffix.lower()
    if suffix in readers.TABLE_READERS:
        return _records_from_table(readers.TABLE_READERS[suffix], path, rel, shown, warn, result)
    meta, blocks = readers.READERS[suffix](path, warn)
    if not blocks and not meta:
        raise ReadError("file has no text")
    record = build_record(rel, meta, blocks, shown)
    records = [record]
    if record.kind == "kennisrotonde":
        records += derived_literature(record, warn)
    return records


def _records_from_table(reader, path: Path, rel: PurePosixPath, shown: str, warn: list[str],
                        result: CorpusRead) -> list[Record]:
    rows = reader(path, warn)
    out = []
    for fields, line, error in rows:
        where = f"{shown}#{line}"
        if error:
            result.problems.append(Problem(shown, error, line))
            continue
        body = fields.pop("body", "") or fields.pop("description", "") or fields.pop("profile", "")
        if "id" not in fields:
            base = fields.get("name") or fields.get("title") or str(line)
            fields["id"] = f"{rel.with_suffix('').as_posix()}/{slugify(str(base))}"
        try:
            blocks = [Block(text=readers.clean(body))] if body.strip() else []
            record = build_record(rel, fields, blocks, where)
        except ReadError as exc:
            result.problems.append(Problem(shown, exc.message, line))
            continue
        out.append(record)
        if record.kind == "kennisrotonde":
            out += derived_literature(record, warn)
    if not out and not rows:
        raise ReadError("CSV has a header but no rows")
    return out


def _field_line(path: Path, field_name: str | None) -> int | None:
    if not field_name or path.suffix.lower() != ".md":
        return None
    try:
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines()[:200], start=1):
            if re.match(rf"^{re.escape(field_name)}\s*:", line, re.I):
                return number
    except OSError:
        return None
    return None
