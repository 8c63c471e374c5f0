"""File readers, one per format in CORPUS_FORMAT.md.

Each reader takes a path and returns ``(meta, blocks)``: front-matter-like
fields and the text as blocks with headings and page numbers. CSV is the
exception: ``read_csv`` returns one ``(meta, blocks, line)`` per row.
Readers raise :class:`ReadError` with a message (and line, where known).
"""
from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from .records import Block

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024


class ReadError(Exception):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


def clean(text: str) -> str:
    """NFC-normalise and tidy whitespace, keeping paragraph breaks."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00ad", "").replace("\x00", "")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def decode_text(data: bytes, warnings: list[str]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("cp1252")
            warnings.append(f"not UTF-8 (byte {exc.start}); read as cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            warnings.append(f"not UTF-8 (byte {exc.start}); read as latin-1")
        return text


def _read_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ReadError(f"file is {size // (1024 * 1024)} MB; the limit is {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return path.read_bytes()


# --- Markdown -------------------------------------------------------------

_FM = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(\n|\Z)", re.S)


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Return (front matter, body, line number where the body starts)."""
    if not text.startswith("---"):
        return {}, text, 1
    m = _FM.match(text)
    if not m:
        raise ReadError("front matter starts with '---' but has no closing '---' line", line=1)
    raw = m.group(1) or ""
    try:
        meta = yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        line = None
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = mark.line + 2  # +1 for 1-based, +1 for the opening '---'
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ReadError(f"invalid YAML front matter: {problem}", line=line) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ReadError("front matter must be a mapping of field: value", line=2)
    body_line = text[: m.end()].count("\n") + 1
    return meta, text[m.end():], body_line


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


def read_markdown(path: Path, warnings: list[str]):
    text = clean_keep_lines(decode_text(_read_bytes(path), warnings))
    meta, body, _ = split_front_matter(text)
    return meta, markdown_blocks(body), body


def clean_keep_lines(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\ufeff", "")


# --- Plain text -----------------------------------------------------------

def read_text(path: Path, warnings: list[str]):
    text = clean(decode_text(_read_bytes(path), warnings))
    return {}, [Block(text=p) for p in re.split(r"\n\s*\n", text) if p.strip()]


# --- PDF ------------------------------------------------------------------

def read_pdf(path: Path, warnings: list[str]):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    data = _read_bytes(path)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # PasswordType.NOT_DECRYPTED (0) when a user password is set
            except Exception:
                opened = False
            if not opened:
                raise ReadError("PDF is encrypted with a password")
        pages = list(reader.pages)
    except ReadError:
        raise
    except (PdfReadError, Exception) as exc:  # pypdf raises many kinds on garbage
        raise ReadError(f"not a readable PDF: {exc.__class__.__name__}: {str(exc)[:120]}") from None
    if not pages:
        raise ReadError("PDF has no pages")
    meta: dict[str, Any] = {}
    try:
        info = reader.metadata
        if info and info.title and str(info.title).strip():
            meta["title"] = str(info.title).strip()
    except Exception:  # metadata is optional; a broken info dict must not lose the text
        pass
    blocks = []
    for number, page in enumerate(pages, start=1):
        try:
            text = clean(page.extract_text() or "")
        except Exception as exc:
            warnings.append(f"page {number}: text could not be extracted ({exc.__class__.__name__})")
            continue
        if text:
            blocks.append(Block(text=text, page=number))
    if not blocks:
        raise ReadError("PDF has no extractable text (scanned images need OCR first)")
    return meta, blocks


def add_paragraph(blocks: list[Block], text: str, heading: str | None) -> None:
    """Append a paragraph to the block under the same heading, or start a new block."""
    if blocks and blocks[-1].heading == heading:
        blocks[-1].text += "\n" + text
    else:
        blocks.append(Block(text=text, heading=heading))


# --- HTML -----------------------------------------------------------------

def read_html(path: Path, warnings: list[str]):
    from bs4 import BeautifulSoup

    raw = decode_text(_read_bytes(path), warnings)
    soup = BeautifulSoup(raw, "html.parser")
    meta: dict[str, Any] = {}
    if soup.title and soup.title.get_text(strip=True):
        meta["title"] = clean(soup.title.get_text(" ", strip=True))
    for tag in soup(["script", "style", "noscript", "template", "head", "svg", "nav", "footer"]):
        tag.decompose()
    blocks: list[Block] = []
    heading = None
    root = soup.body or soup
    for el in root.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th", "pre",
                             "blockquote", "dd", "dt", "figcaption"]):
        if el.find_parent(["p", "li", "td", "th", "blockquote", "dd"]) is not None and el.name != "li":
            continue
        text = clean(el.get_text(" ", strip=True))
        if not text:
            continue
        if el.name.startswith("h"):
            heading = text
            continue
        add_paragraph(blocks, text, heading)
    if not blocks:
        text = clean(root.get_text("\n", strip=True))
        if text:
            blocks.append(Block(text=text))
    return meta, blocks


# --- DOCX -----------------------------------------------------------------

def read_docx(path: Path, warnings: list[str]):
    import zipfile

    import docx

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, Exception) as exc:
        raise ReadError(f"not a readable .docx: {exc.__class__.__name__}: {str(exc)[:120]}") from None
    meta: dict[str, Any] = {}
    try:
        props = document.core_properties
        if props.title:
            meta["title"] = props.title.strip()
        if props.author:
            meta["authors"] = [props.author.strip()]
    except Exception:
        pass
    blocks: list[Block] = []
    heading = None
    for para in document.paragraphs:
        text = clean(para.text)
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style.startswith("heading") or style.startswith("kop") or style == "title":
            if style == "title" and "title" not in meta:
                meta["title"] = text
            heading = text
            continue
        add_paragraph(blocks, text, heading)
    for table in document.tables:
        rows = []
        for row in table.rows:
            cells = [clean(c.text) for c in row.cells]
            if any(cells):
                rows.append(" | ".join(cells))
        if rows:
            blocks.append(Block(text="\n".join(rows), heading=heading))
    if not blocks:
        raise ReadError(".docx has no text")
    return meta, blocks


# --- CSV ------------------------------------------------------------------

def read_csv(path: Path, warnings: list[str]):
    """Yield (row fields, line number) per data row. Empty cells are left out."""
    text = decode_text(_read_bytes(path), warnings)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ReadError("CSV file is empty") from None
    except csv.Error as exc:
        raise ReadError(f"CSV cannot be parsed: {exc}", line=1) from None
    header = [unicodedata.normalize("NFC", h).strip().lower() for h in header]
    if not any(header):
        raise ReadError("CSV header row is empty", line=1)
    rows = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                rows.append((None, line, f"row has {len(row)} cells but the header names {len(header)}"))
                continue
            fields = {h: unicodedata.normalize("NFC", v).strip() for h, v in zip(header, row) if h and v.strip()}
            rows.append((fields, line, None))
    except csv.Error as exc:
        raise ReadError(f"CSV cannot be parsed: {exc}", line=reader.line_num) from None
    return rows


READERS = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".pdf": "pdf",
           ".html": "html", ".htm": "html", ".docx": "docx", ".csv": "csv"}
