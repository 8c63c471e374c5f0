"""Question text at the edge: one normalisation for the web API, the web pages and the CLI.

A question pasted from a PDF, a chat app or a phone keyboard carries characters nobody sees: soft
hyphens, zero-width spaces and joiners, byte-order marks, bidi marks, compatibility forms (ligature
glyphs, full-width letters, non-breaking spaces). ``normalise_question`` removes or folds them once,
before the matcher sees the text, so the same question typed or pasted matches the same way.
A lone surrogate (half of a UTF-16 pair, as in the JSON string ``"\\ud83d"``, or an undecodable byte
in a command-line argument) cannot be stored or returned as UTF-8: it is refused with a 400 on the
field, never a 500 or a traceback.
"""
from __future__ import annotations

import unicodedata

from .errors import InvalidInput


def _is_surrogate(ch: str) -> bool:
    return "\ud800" <= ch <= "\udfff"


def normalise_question(value, field: str = "question") -> str:
    """Return ``value`` in Unicode NFKC with format characters (category Cf: soft hyphen, zero-width
    space/joiners, word joiner, BOM, bidi marks) removed, control characters read as spaces and
    whitespace collapsed to single spaces.

    Non-text values are returned unchanged (the matcher reports them on the field). Raises
    :class:`InvalidInput` (400, ``field``) for text holding a lone surrogate. Unicode forms:
    UAX #15 (NFKC), general categories from the Unicode Character Database (``unicodedata``).
    """
    if not isinstance(value, str):
        return value
    bad = next((ch for ch in value if _is_surrogate(ch)), None)
    if bad is not None:
        what = (f"a byte that is not UTF-8 (0x{ord(bad) - 0xDC00:02X})" if "\udc80" <= bad <= "\udcff"
                else f"an invalid character (U+{ord(bad):04X}, half of a character pair)")
        raise InvalidInput(f"the {field} holds {what}; type or paste it again", field=field)
    text = unicodedata.normalize("NFKC", value)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cf":
            continue
        kept.append(" " if category == "Cc" else ch)
    return " ".join("".join(kept).split())
