"""Read a corpus folder (CORPUS_FORMAT.md v1) into validated records.

``read_corpus(root)`` never raises for a bad file: each problem is collected
with the file, the line where known and what is wrong, the file is skipped,
and everything else is read. The parts: ``walk`` (which files), ``readers`` (their text, by
extension), ``fields`` (checked fields and the record), ``kennisrotonde`` (derived literature),
``dedupe`` (near-identical documents), ``limits`` (per-file size and time).
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import limits, readers
from .dedupe import collapse_near_duplicates
from .errors import EmptyCorpus, ReadError
from .fields import build_record, slugify
from .kennisrotonde import derived_literature, parse_source_line, split_authors  # noqa: F401 (re-exported)
from .records import Block, Problem, Record
from .walk import walk

log = logging.getLogger(__name__)


@dataclass
class FileInfo:
    """A file of the index: its path relative to the corpus root (NFC), SHA-256 of its bytes, size in
    bytes and the ids of the records read from it (what incremental builds compare)."""

    path: str
    sha256: str
    size: int
    records: list[str] = field(default_factory=list)


@dataclass
class CorpusRead:
    """What ``read_corpus`` found in one folder: records, problems (errors skip a file or row, warnings
    do not), files skipped by rule, the files read, and the folder's ``thesaurus.yaml`` if any."""

    root: Path
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)      # ignored by rule (hidden, unknown extension)
    files: list[FileInfo] = field(default_factory=list)
    thesaurus: Path | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]


def file_digest(path: Path) -> tuple[str, int]:
    """(SHA-256 hex digest, size in bytes) of a file, read in 1 MB chunks. Raises OSError."""
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
    for message in warn:  # a text, or (text, line) where a reader knows the line
        text, line = message if isinstance(message, tuple) else (message, None)
        result.problems.append(Problem(shown, text, line, level="warning"))
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
