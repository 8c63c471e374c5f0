"""HTML to text blocks: all visible main text, site boilerplate left out.

Libraries do the judging; this module walks what is left:

- parsing and repair: trafilatura's ``load_html`` (lxml, tolerant of broken markup and encoding
  declarations);
- metadata: trafilatura's ``extract_metadata`` (title; canonical URL from ``<link rel=canonical>``);
  the language from ``<html lang>``;
- boilerplate: HTML's own landmarks first (``<main>`` / ``role=main`` when the page has one; page-level
  ``<header>``, ``<nav>``, ``<aside>``, ``<footer>`` and ARIA banner/navigation/complementary/
  contentinfo roles otherwise), then trafilatura's boilerplate vocabulary: ``MANUALLY_CLEANED`` tags and
  ``OVERALL_DISCARD_XPATH`` (cookie and consent banners, share bars, menus, ads), with trafilatura's
  own guard against pruning nearly everything; consent banners whose marks that vocabulary misses
  (``_consent_box``).

trafilatura's full ``extract()`` falls short on the short pages a corpus holds (measured on the bug
cases): under 250 characters of main text it falls back to a baseline that returns the cookie banner
as the content, and its fast mode drops text that sits directly in ``<section>`` or ``<div>`` next to
a ``<p>``. So the text itself is collected here, block by block (``div``, ``section``, ``br`` and
``p`` alike), from the pruned tree.
"""
from __future__ import annotations

import re
from typing import Any

from .errors import ReadError
from .limits import read_bytes
from .records import Block
from .textdecode import decode_text
from .titles import is_junk_title

BLOCK_TAGS = {"p", "div", "section", "article", "main", "li", "dd", "dt", "blockquote", "pre", "figcaption",
              "caption", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "ul", "ol", "dl", "form",
              "header", "footer", "address", "details", "summary", "center", "hr"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
LANDMARK_TAGS = ("header", "nav", "aside", "footer")
LANDMARK_ROLES = ("banner", "navigation", "complementary", "contentinfo", "search")
INVISIBLE = ("script", "style", "noscript", "template", "svg", "head", "title", "iframe", "object")


def _strip(elements) -> None:
    from trafilatura.xml import delete_element

    for el in list(elements):
        delete_element(el, keep_tail=True)


def _main_tree(tree):
    """The part of the page a reader reads: <main>/role=main when present, else the body without
    page-level landmarks; then trafilatura's boilerplate vocabulary pruned from it."""
    from trafilatura.htmlprocessing import prune_unwanted_nodes
    from trafilatura.settings import MANUALLY_CLEANED
    from trafilatura.xpaths import OVERALL_DISCARD_XPATH

    _strip(el for el in tree.iter(*INVISIBLE))
    _strip(el for el in tree.iter() if isinstance(el.tag, str) and el.get("hidden") is not None)
    mains = tree.xpath("//main | //*[@role='main']")
    root = mains[0] if mains else (tree.find(".//body") if tree.find(".//body") is not None else tree)
    if not mains:
        outside = [el for el in root.iter(*LANDMARK_TAGS) if not el.xpath("ancestor::article | ancestor::main")]
        _strip(outside)
    _strip(el for el in root.iter() if isinstance(el.tag, str) and el.get("role") in LANDMARK_ROLES)
    _strip(el for el in root.iter("div", "section", "aside", "form", "p") if _consent_box(el))
    _strip(el for el in root.iter(*[t for t in MANUALLY_CLEANED if t not in ("form", "figure", "picture")]))
    prune_unwanted_nodes(root, OVERALL_DISCARD_XPATH, with_backup=True)
    return root


# trafilatura's consent token ("cookie") is case-sensitive and tested on the first of @id/@class only,
# so "CybotCookiebotDialog", id="gdpr" class="cookiebar" and id="consent" pass; this completes it for
# consent banners only, guarded so that an article about cookies (it has a heading, or is long) stays.
_CONSENT = re.compile(r"cookie|consent|gdpr|\bcmp\b|cmplz|onetrust|privacy-?banner", re.I)
MAX_BANNER_CHARS = 1500


def _consent_box(el) -> bool:
    marks = " ".join(filter(None, (el.get("id"), el.get("class"), el.get("aria-label"))))
    if not marks or not _CONSENT.search(marks):
        return False
    return not el.xpath(".//h1 | .//h2") and len(el.text_content()) < MAX_BANNER_CHARS


class _Lines:
    """Collects (is_heading, text) lines from an element tree, a new line at every block element."""

    def __init__(self):
        self.lines: list[tuple[bool, str]] = []
        self.buf: list[str] = []
        self.heading = False

    def flush(self) -> None:
        text = " ".join("".join(self.buf).split())
        if text:
            self.lines.append((self.heading, text))
        self.buf, self.heading = [], False

    def walk(self, el) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        block = tag in BLOCK_TAGS
        if tag == "br":
            self.flush()
        elif block:
            self.flush()
            self.heading = tag in HEADINGS
        if tag in ("td", "th"):
            self.buf.append(" | " if self.buf else "")
        if tag and el.text:
            self.buf.append(el.text)
        if tag:
            for child in el:
                self.walk(child)
        if block:
            self.flush()
        if el.tail:
            self.buf.append(el.tail)


def read_html(path, warnings: list[str]) -> tuple[dict[str, Any], list[Block]]:
    """Return ({"title"?, "url"?, "language"?}, blocks under their headings).

    ``url`` is the page's canonical URL, ``language`` its ``<html lang>`` (primary subtag, lower
    case). Raises ReadError when the file is not HTML or holds no visible text.
    """
    from trafilatura.metadata import extract_metadata
    from trafilatura.utils import load_html

    text = decode_text(read_bytes(path), warnings)
    tree = load_html(text) if text.strip() else None
    if tree is None:
        raise ReadError("not readable as HTML")
    meta = _metadata(tree, extract_metadata)
    lines = _Lines()
    lines.walk(_main_tree(tree))
    lines.flush()
    blocks = _blocks(lines.lines)
    if not blocks:
        raise ReadError("file has no text (nothing visible in the HTML body)")
    return meta, blocks


def _metadata(tree, extract_metadata) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    lang = (tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang") or "").strip()
    if re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*", lang):
        meta["language"] = re.split(r"[-_]", lang)[0].lower()
    try:
        info = extract_metadata(tree, extensive=False)
    except Exception:  # metadata is optional; broken head markup must not lose the text
        return meta
    titles = tree.xpath("//title")
    title = " ".join(titles[0].text_content().split()) if titles else ""
    title = title or (info.title or "")
    if title and not is_junk_title(title):
        meta["title"] = title
    canonical = tree.xpath("//link[@rel='canonical']/@href")
    if canonical and info.url:
        meta["url"] = info.url
    return meta


def _blocks(lines: list[tuple[bool, str]]) -> list[Block]:
    from .textclean import add_paragraph, clean

    blocks: list[Block] = []
    heading = None
    for is_heading, raw in lines:
        text = clean(raw.strip(" |"))
        if not text:
            continue
        if is_heading:
            heading = text
            continue
        add_paragraph(blocks, text, heading)
    return blocks
