"""DOCX to text blocks: the text as Word shows it, in reading order.

python-docx opens the package and gives the core properties and style names, but its
``Paragraph.text`` reads only the runs directly under a paragraph: it drops tracked insertions
(``w:ins``), text boxes (``w:txbxContent``), content controls (``w:sdt``), hyperlinks in older
versions, and it reads tables only through ``document.tables`` (after all paragraphs, merged cells
repeated). So the body is walked here with lxml, in document order:

- paragraphs, with tracked insertions and moves-to kept and tracked deletions (``w:del``,
  ``w:moveFrom``) and hidden text (``w:vanish``) left out;
- text boxes (one copy of ``mc:AlternateContent``, not the VML fallback too) as paragraphs after
  the paragraph that anchors them;
- block-level content controls and tables (one line per row, cells separated by " | ") where they
  stand;
- headers first and footers, footnotes and endnotes last, when they carry content (more than a page
  number or the title), each distinct text once.
"""
from __future__ import annotations

import io
import re
from typing import Any

from lxml import etree

from .errors import ReadError
from .limits import check_zip, read_bytes
from .records import Block
from .titles import is_junk_title

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_SKIP = {"del", "moveFrom", "sdtPr", "sdtEndPr", "delText", "instrText", "rPr", "pPr", "sectPr", "footnoteReference",
         "endnoteReference", "commentReference", "fldData"}
_EXTRA_PARTS = (("header", 0), ("footnotes", 2), ("endnotes", 2), ("footer", 2))
MIN_EXTRA_WORDS = 4


def _local(el) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _hidden(run) -> bool:
    vanish = run.find(f"{{{W}}}rPr/{{{W}}}vanish")
    return vanish is not None and vanish.get(f"{{{W}}}val", "true") not in ("false", "0", "off")


def _inline(el, text: list[str], boxes: list) -> None:
    """Collect the visible text under a paragraph; text-box contents go to ``boxes``."""
    for child in el:
        name = _local(child)
        if name in _SKIP:
            continue
        if name == "r" and _hidden(child):
            continue
        if name == "AlternateContent":
            choice = child.find(f"{{{MC}}}Choice")
            chosen = choice if choice is not None else child.find(f"{{{MC}}}Fallback")
            if chosen is not None:
                _inline(chosen, text, boxes)
            continue
        if name == "txbxContent":
            boxes.append(child)
            continue
        if name == "t":
            text.append(child.text or "")
        elif name in ("tab", "ptab"):
            text.append("\t")
        elif name in ("br", "cr"):
            text.append("\n")
        elif name == "noBreakHyphen":
            text.append("-")
        else:
            _inline(child, text, boxes)


class _Walker:
    """Turns body-level XML into (text, is_heading) paragraphs in reading order."""

    def __init__(self, style_names: dict[str, str]):
        self.style_names = style_names
        self.out: list[tuple[str, str]] = []   # (kind: "heading" | "title" | "text", text)

    def blocks(self, parent) -> None:
        for child in parent:
            name = _local(child)
            if name == "p":
                self.paragraph(child)
            elif name == "tbl":
                self.table(child)
            elif name in ("sdt", "customXml", "sdtContent", "ins", "moveTo", "smartTag"):
                self.blocks(child)
            elif name == "AlternateContent":
                choice = child.find(f"{{{MC}}}Choice")
                self.blocks(choice if choice is not None else child)

    def paragraph(self, p) -> None:
        text: list[str] = []
        boxes: list = []
        _inline(p, text, boxes)
        line = "".join(text).strip()
        if line:
            self.out.append((self._style_kind(p), line))
        for box in boxes:
            self.blocks(box)

    def _style_kind(self, p) -> str:
        style = p.find(f"{{{W}}}pPr/{{{W}}}pStyle")
        name = self.style_names.get(style.get(f"{{{W}}}val", ""), "") if style is not None else ""
        name = name.lower()
        if name == "title":
            return "title"
        if name.startswith(("heading", "kop")) or p.find(f"{{{W}}}pPr/{{{W}}}outlineLvl") is not None:
            return "heading"
        return "text"

    def table(self, tbl) -> None:
        for tr in tbl.iterfind(f"{{{W}}}tr"):
            cells = []
            for tc in tr.iterfind(f"{{{W}}}tc"):
                inner = _Walker(self.style_names)
                inner.blocks(tc)
                cells.append(" ".join(t for _, t in inner.out))
            if any(c.strip() for c in cells):
                self.out.append(("text", " | ".join(c.strip() for c in cells)))


def read_docx(path, warnings: list[str]) -> tuple[dict[str, Any], list[Block]]:
    """Return ({"title"?, "authors"?}, blocks under their headings). Raises ReadError for a file
    that is not a DOCX, unpacks beyond ``limits.MAX_UNPACKED_BYTES``, or holds no text."""
    import docx

    data = io.BytesIO(read_bytes(path))
    check_zip(data, ".docx")
    try:
        document = docx.Document(data)
    except Exception as exc:  # python-docx raises zip, KeyError, lxml and ValueError kinds on garbage
        raise ReadError(f"not a readable .docx: {exc.__class__.__name__}: {str(exc)[:120]}") from None
    meta = _core_properties(document)
    try:
        style_names = {s.style_id: s.name or "" for s in document.styles}
    except Exception:
        style_names = {}
    parts = {0: [], 2: []}
    for kind, where in _EXTRA_PARTS:
        parts[where] += _extra_part_texts(document, kind, style_names)
    body = _Walker(style_names)
    body.blocks(document.element.body)
    blocks = _to_blocks(_extras(parts[0], meta) + body.out + _extras(parts[2], meta), meta)
    if not blocks:
        raise ReadError(".docx has no text")
    return meta, blocks


def _core_properties(document) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    try:
        props = document.core_properties
        if props.title and not is_junk_title(props.title):
            meta["title"] = " ".join(props.title.split())
        if props.author and props.author.strip():
            meta["authors"] = [props.author.strip()]
    except Exception:  # core properties are optional; broken ones must not lose the text
        pass
    return meta


def _extra_part_texts(document, kind: str, style_names: dict[str, str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pattern = re.compile(rf"^/word/{kind}\d*\.xml$")
    for part in document.part.package.iter_parts():
        if not pattern.match(str(part.partname)):
            continue
        try:
            root = etree.fromstring(part.blob)
        except Exception:
            continue
        walker = _Walker(style_names)
        for note in (root if kind in ("footnotes", "endnotes") else [root]):
            if note.get(f"{{{W}}}type") in ("separator", "continuationSeparator", "continuationNotice"):
                continue
            walker.blocks(note)
        out += [("text", t) for _, t in walker.out]
    return out


def _extras(items: list[tuple[str, str]], meta: dict) -> list[tuple[str, str]]:
    """Header/footer/note paragraphs that carry content, each distinct text once."""
    seen, out = set(), []
    title = str(meta.get("title", "")).lower()
    for kind, text in items:
        key = " ".join(text.lower().split())
        if key in seen or key == title or len(re.findall(r"[^\W\d_]{2,}", text)) < MIN_EXTRA_WORDS:
            continue
        seen.add(key)
        out.append((kind, text))
    return out


def _to_blocks(paragraphs: list[tuple[str, str]], meta: dict) -> list[Block]:
    from .textclean import add_paragraph, clean

    blocks: list[Block] = []
    heading = None
    for kind, raw in paragraphs:
        text = clean(raw)
        if not text:
            continue
        if kind in ("heading", "title"):
            if kind == "title" and "title" not in meta:
                meta["title"] = text
            heading = text
            continue
        add_paragraph(blocks, text, heading)
    return blocks
