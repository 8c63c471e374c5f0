"""File readers, one per format in CORPUS_FORMAT.md, dispatched by extension (``READERS``).

Each document reader takes ``(path, warnings)`` and returns ``(meta, blocks)``: front-matter-like
fields and the text as blocks with headings and page numbers; it appends a message (or
``(message, line)``) to ``warnings`` for anything it assumed. The table reader (``TABLE_READERS``, CSV) returns one
``(fields, line, error)`` per row instead. Readers raise :class:`ReadError` with a message (and the
line, where known); the formats themselves live in ``pdftext``, ``docxtext``, ``htmltext``,
``csvrows``, ``frontmatter`` and ``textdecode``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from .csvrows import csv_rows
from .docxtext import read_docx
from .errors import ReadError
from .frontmatter import split_front_matter
from .htmltext import read_html
from .limits import MAX_FILE_BYTES, read_bytes
from .pdftext import read_pdf
from .records import Block
from .textclean import add_paragraph, clean, clean_keep_lines
from .textdecode import decode_text

__all__ = ["READERS", "TABLE_READERS", "ReadError", "Block", "clean", "clean_keep_lines", "add_paragraph",
           "decode_text", "split_front_matter", "markdown_blocks", "read_markdown", "read_text", "read_pdf",
           "read_html", "read_docx", "read_csv", "MAX_FILE_BYTES", "LIST_MARKER", "strip_list_marker"]

#: a list item's marker at the start of a line: "- ", "* ", "+ ", "1. ", "2) "
LIST_MARKER = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")


def strip_list_marker(line: str) -> str:
    """``"- Boek (2012)"`` -> ``"Boek (2012)"``; other lines unchanged (stripped)."""
    return LIST_MARKER.sub("", line).strip()


# --- Markdown -------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def markdown_blocks(body: str) -> list[Block]:
    """Cut markdown into blocks at headings; strip the lightest markup."""
    blocks: list[Block] = []
    heading: str | None = None
    buf: list[str] = []

    def flush():
        text = clean("\n".join(buf))
        if text:
            blocks.append(Block(text=text, heading=heading))
        buf.clear()

    in_code = False
    for line in body.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        m = None if in_code else _HEADING.match(line)
        if m:
            flush()
            heading = _strip_md(m.group(2))
            continue
        buf.append(_strip_md(line))
    flush()
    return blocks


def _strip_md(line: str) -> str:
    line = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)
    line = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)", r"\1", line)
    line = re.sub(r"`([^`]*)`", r"\1", line)
    line = re.sub(r"<[^>]+>", "", line)
    return line


def read_markdown(path: Path, warnings: list[str]) -> tuple[dict[str, Any], list[Block]]:
    """Front matter (see ``frontmatter``) and the body cut at headings."""
    text = clean_keep_lines(decode_text(read_bytes(path), warnings))
    meta, body, _ = split_front_matter(text)
    return meta, markdown_blocks(body)


# --- Plain text -----------------------------------------------------------

def read_text(path: Path, warnings: list[str]) -> tuple[dict[str, Any], list[Block]]:
    """One block per paragraph (separated by an empty line)."""
    text = clean(decode_text(read_bytes(path), warnings))
    return {}, [Block(text=p) for p in re.split(r"\n\s*\n", text) if p.strip()]


# --- CSV ------------------------------------------------------------------

def read_csv(path: Path, warnings: list[str]) -> list[tuple[dict[str, str] | None, int, str | None]]:
    """``(row fields, line, error)`` per data row (see ``csvrows``). Empty cells are left out."""
    return csv_rows(decode_text(read_bytes(path), warnings))


Reader = Callable[[Path, list], tuple[dict[str, Any], list[Block]]]

#: document readers by file extension (lower case)
READERS: dict[str, Reader] = {".md": read_markdown, ".markdown": read_markdown, ".txt": read_text,
                              ".pdf": read_pdf, ".html": read_html, ".htm": read_html, ".docx": read_docx}
#: table readers by file extension: one record per row
TABLE_READERS: dict[str, Callable] = {".csv": read_csv}


def known_extension(path: Path) -> bool:
    """True when some reader takes files with this extension."""
    suffix = path.suffix.lower()
    return suffix in READERS or suffix in TABLE_READERS
