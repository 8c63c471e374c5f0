"""Cut records into passages that fit the embedder's window.

Blocks (from headings, pages, paragraphs) are packed into passages of at most
``target_words`` words; a single overlong paragraph is split on sentences.
Every passage keeps its heading and page for citations. A record's first
passage starts with its title, so short records embed with their name.
"""
from __future__ import annotations

import re

from .records import Passage, Record

TARGET_WORDS = 170     # ~270 e5 tokens for Dutch; leaves room under the 512 window
HARD_MAX_WORDS = 260

_SENT = re.compile(r"(?<=[.!?;:])\s+(?=[A-Z0-9\"'(«À-Ý])")


def _split_long(text: str, limit: int) -> list[str]:
    words = text.split()
    if len(words) <= limit:
        return [text]
    pieces, buf = [], []
    for sentence in _SENT.split(text):
        sw = sentence.split()
        if len(sw) > limit:  # no sentence boundaries: hard wrap
            if buf:
                pieces.append(" ".join(buf))
                buf = []
            for i in range(0, len(sw), limit):
                pieces.append(" ".join(sw[i:i + limit]))
            continue
        if len(buf) + len(sw) > limit and buf:
            pieces.append(" ".join(buf))
            buf = []
        buf += sw
    if buf:
        pieces.append(" ".join(buf))
    return pieces


def profile_text(record: Record, with_title: bool = True) -> str:
    """A compact text of the record's fields: what BM25 and the embedder see first. Without the
    title when the text itself starts with it (``with_title=False``); "" when nothing is left."""
    f = record.fields
    parts = [record.title] if with_title else []
    if record.kind == "expert":
        role = ", ".join(x for x in (f.get("role"), f.get("organisation")) if x)
        if role:
            parts.append(role)
        if f.get("expertise"):
            parts.append("Expertise: " + "; ".join(f["expertise"]))
        if record.context:
            parts.append("Themagroepen: " + "; ".join(record.context))
    elif record.kind == "themegroup":
        if f.get("focus"):
            parts.append(str(f["focus"]))
    elif record.kind == "kennisrotonde":
        if f.get("question") and f["question"] != record.title:
            parts.append(str(f["question"]))
    elif record.kind == "literature":
        if f.get("authors"):
            parts.append(", ".join(f["authors"]) + (f" ({f['year']})" if f.get("year") else ""))
    elif record.kind == "product" and f.get("type"):
        parts.append(f"Type: {f['type']}")
    if record.tags:
        parts.append("Trefwoorden: " + ", ".join(record.tags))
    return as_sentences(parts)


def as_sentences(parts: list[str]) -> str:
    """Join parts into sentences: ". " between them unless a part already ends a sentence
    ("Wat werkt?" stays "Wat werkt?", never "Wat werkt?.")."""
    out = ""
    for part in (str(p).strip() for p in parts):
        if not part:
            continue
        if out:
            out += " " if out[-1] in ".?!…:;" else ". "
        out += part
    if out and out[-1] not in ".?!…":
        out += "."
    return out


def _fold(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def starts_with_title(text: str, title: str) -> bool:
    """True when ``text`` opens with ``title`` (case, punctuation and spacing ignored), as a page
    whose first line is its headline does."""
    t, x = _fold(title), _fold(text)
    return bool(t) and (x == t or x.startswith(t + " "))


def make_passages(record: Record, target_words: int = TARGET_WORDS) -> list[Passage]:
    """Cut a record into passages of about TARGET_WORDS words (never more than ``HARD_MAX_WORDS``): paragraphs are
    kept whole and joined while they share a heading and page. The first passage starts with the record's
    profile (title and fields, ``profile_text``), or is the profile when the record has no text. Returns at
    least one passage; ordinals run from 0."""
    out: list[Passage] = []
    first_text = next((b.text for b in record.blocks if b.text.strip()), "")
    head = profile_text(record, with_title=not starts_with_title(first_text, record.title))
    units: list[tuple[str, str | None, int | None]] = []
    for block in record.blocks:
        for para in re.split(r"\n\s*\n|\n(?=[-*•] )", block.text):
            para = " ".join(para.split())
            if para:
                for piece in _split_long(para, HARD_MAX_WORDS):
                    units.append((piece, block.heading, block.page))
    buf: list[str] = []
    cur: tuple[str | None, int | None] | None = None
    count = 0

    def flush():
        nonlocal buf, count
        if buf:
            out.append(Passage(record.id, len(out), " ".join(buf), cur[0], cur[1]))
        buf, count = [], 0

    for text, heading, page in units:
        n = len(text.split())
        key = (heading, page)
        if buf and (key != cur or count + n > target_words):
            # keep small sections together under one passage when they share a page
            if not (key[1] == cur[1] and count + n <= target_words // 2):
                flush()
        if not buf:
            cur = key
        buf.append(text)
        count += n
    flush()
    if not out:
        out.append(Passage(record.id, 0, head or record.title, None, None))
    elif head:
        first = out[0]
        if len(first.text.split()) + len(head.split()) <= HARD_MAX_WORDS:
            first.text = head + " " + first.text
        else:
            out.insert(0, Passage(record.id, 0, head, None, None))
            for i, p in enumerate(out):
                p.ordinal = i
    return out
