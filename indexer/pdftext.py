"""PDF to text blocks with page numbers (pypdf, with its ``crypto`` extra for AES).

Glue only: pypdf opens, decrypts and extracts; this module

- opens PDFs encrypted with an empty user password (only an owner password restricting printing or
  copying, as many published reports are), and reports those that need a password;
- rejoins words hyphenated at a line end (``dehyphenate``), which pypdf leaves as "differenti-\\natie";
- folds typographic ligature glyphs (U+FB00-FB06) to letters, which pypdf passes through
  (``textclean``);
- replaces a tool-made metadata title ("untitled", "Microsoft Word - x.docx") by the first line;
- keeps pypdf's per-stream decompression limits at ``limits.MAX_UNPACKED_BYTES``.
"""
from __future__ import annotations

import io
import re
from typing import Any

from .errors import ReadError
from .limits import pdf_limits, read_bytes
from .records import Block
from .titles import usable_title

# a word broken at a line end: "differenti-" + newline + "atie"
_BROKEN = re.compile(r"(\w+)-[ \t]*\n[ \t]*(\w+)")
SUSPENDED = {"en", "of", "tot", "noch", "and", "or", "to", "&"}   # "lees- en schrijfvaardigheid"


def dehyphenate(text: str) -> str:
    """Rejoin words hyphenated at a line end; keep real hyphens.

    Kept as written: a suspended hyphen before a conjunction ("lees- en schrijfvaardigheid"), a next
    line starting with a capital or digit ("Noord-\\nBrabant"), a first part with a capital after its
    first letter or a digit ("ICT-\\nbeleid", "21e-\\neeuws"), and a hyphenated form that also occurs
    elsewhere in the same text ("e-\\nlearning" when "e-learning" is used too). Otherwise the two
    parts are one word (Dutch and English typesetting hyphenate this way).
    """
    def join(m: re.Match) -> str:
        left, right = m.group(1), m.group(2)
        if right.lower() in SUSPENDED:
            return f"{left}- {right}"
        if not right[0].islower() or re.search(r"\d|.[A-Z]", left) or f"{left}-{right}" in text:
            return f"{left}-{right}"
        return left + right
    return _BROKEN.sub(join, text)


def _open(data: bytes):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")  # PasswordType.NOT_DECRYPTED (0) when a user password is set
        except DependencyError:
            raise ReadError("PDF is encrypted with AES; install the 'cryptography' package to read it") from None
        except (FileNotDecryptedError, NotImplementedError, ValueError, KeyError) as exc:
            raise ReadError(f"PDF is encrypted in a way that cannot be opened ({exc.__class__.__name__})") from None
        if not opened:
            raise ReadError("PDF is encrypted and needs a password to open")
    return reader


def read_pdf(path, warnings: list[str]) -> tuple[dict[str, Any], list[Block]]:
    """Return ({"title"?}, one Block per page with text, ``page`` 1-based).

    Raises ReadError: not a PDF, needs a password, no pages, no text layer (a scan), a stream over
    the unpacked-size limit. Pages whose text cannot be extracted become warnings.
    """
    from pypdf.errors import LimitReachedError

    data = read_bytes(path)
    with pdf_limits():
        try:
            reader = _open(data)
            pages = list(reader.pages)
        except ReadError:
            raise
        except LimitReachedError as exc:
            raise ReadError(f"PDF exceeds a size limit while unpacking: {exc}") from None
        except Exception as exc:  # pypdf raises many kinds on garbage
            raise ReadError(f"not a readable PDF: {exc.__class__.__name__}: {str(exc)[:120]}") from None
        if not pages:
            raise ReadError("PDF has no pages")
        blocks = _page_blocks(pages, warnings)
    if not blocks:
        raise ReadError("PDF has no extractable text (scanned images need OCR first)")
    meta: dict[str, Any] = {}
    title = usable_title(_metadata_title(reader), blocks[0].text)
    if title:
        meta["title"] = title
    return meta, blocks


def _page_blocks(pages, warnings: list[str]) -> list[Block]:
    from pypdf.errors import LimitReachedError

    from .textclean import clean, clean_keep_lines

    blocks = []
    for number, page in enumerate(pages, start=1):
        try:
            # pypdf's extract_text() swallows LimitReachedError and returns "" (a bomb would read as a
            # scan), so the content stream is decoded first, where the limit error surfaces; pypdf
            # keeps the decoded data, so extract_text() does not decode it again.
            contents = page.get_contents()
            if contents is not None:
                contents.get_data()
            raw = page.extract_text() or ""
        except ReadError:
            raise
        except LimitReachedError as exc:
            raise ReadError(f"page {number} exceeds a size limit while unpacking: {exc}") from None
        except Exception as exc:
            warnings.append(f"page {number}: text could not be extracted ({exc.__class__.__name__})")
            continue
        text = clean(dehyphenate(clean_keep_lines(raw)))
        if text:
            blocks.append(Block(text=text, page=number))
    return blocks


def _metadata_title(reader) -> str | None:
    try:
        info = reader.metadata
        return str(info.title).strip() if info and info.title else None
    except Exception:  # metadata is optional; a broken info dict must not lose the text
        return None
