"""Text tidying shared by every reader: Unicode form, invisible characters, whitespace."""
from __future__ import annotations

import re
import unicodedata

from .records import Block

# characters a reader never sees: soft hyphen, zero-width space/joiners, word joiner, BOM, NUL
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\x00"))
_LIGATURES = {0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "st", 0xFB06: "st"}
_TABLE = {**INVISIBLE, **_LIGATURES}


def clean(text: str) -> str:
    """NFC-normalise, drop invisible characters, fold ligature glyphs, tidy whitespace; keep
    paragraph breaks (at most one empty line) and line breaks."""
    text = clean_keep_lines(text)
    text = re.sub(r"[ \t\u00a0\u202f]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def clean_keep_lines(text: str) -> str:
    """NFC, one kind of line end, invisible characters and ligature glyphs removed; layout kept."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_TABLE)


def add_paragraph(blocks: list[Block], text: str, heading: str | None) -> None:
    """Append a paragraph to the block under the same heading, or start a new block."""
    if blocks and blocks[-1].heading == heading:
        blocks[-1].text += "\n" + text
    else:
        blocks.append(Block(text=text, heading=heading))
