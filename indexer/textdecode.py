"""Bytes of a text file (TXT, Markdown, HTML, CSV) to text, as the author wrote it.

Order of evidence:

1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32) decides;
2. valid UTF-8 is UTF-8;
3. *mostly* UTF-8 (it has valid multi-byte sequences and only a few bytes that are not): stays
   UTF-8, and only each bad byte is replaced (by its cp1252 character, the usual source of a stray
   byte pasted from an old Windows program, or U+FFFD), with a warning naming the line(s);
4. anything else is a legacy encoding, detected with charset-normalizer; the warning names the
   encoding assumed.

charset-normalizer falls short on short Western texts: for a one-line cp1252 file it ranks cp1250,
cp775 or big5 first. A Schakel corpus is Dutch (or another Western European language), so detection
is limited to the encodings such files are saved in (``WESTERN``); within those the library decides.
"""
from __future__ import annotations

import codecs

BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
WESTERN = ["utf_8", "cp1252", "iso8859_15", "latin_1", "mac_roman", "cp850", "utf_16", "utf_32"]
MAX_STRAY_SHARE = 0.05   # at most 1 bad byte per 20 valid multi-byte characters counts as "mostly UTF-8"
MAX_LINES_NAMED = 5


def decode_text(data: bytes, warnings: list) -> str:
    """Decode a text file's bytes; append a message to ``warnings`` whenever something was assumed
    (``(message, line)`` when the first line concerned is known).

    Returns the text without a byte-order mark. Never raises for any input (latin-1 decodes every byte).
    """
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding).lstrip("\ufeff")
            except UnicodeDecodeError:
                break  # a BOM followed by other bytes: detect below
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = _mostly_utf8(data, warnings)
    if text is not None:
        return text
    return _legacy(data, warnings)


def _stray_byte(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start:error.start + 1]
    try:
        char = bad.decode("cp1252")
    except UnicodeDecodeError:
        char = "\ufffd"
    return char, error.start + 1


codecs.register_error("schakel-stray-byte", _stray_byte)


def _mostly_utf8(data: bytes, warnings: list[str]) -> str | None:
    text = data.decode("utf-8", errors="surrogateescape")
    stray = [i for i, ch in enumerate(text) if "\udc80" <= ch <= "\udcff"]
    multibyte = sum(1 for ch in text if ord(ch) > 0x7F and not "\udc80" <= ch <= "\udcff")
    if not multibyte or len(stray) > max(1, multibyte * MAX_STRAY_SHARE):
        return None
    lines = sorted({text.count("\n", 0, i) + 1 for i in stray})
    shown = ", ".join(map(str, lines[:MAX_LINES_NAMED])) + (" …" if len(lines) > MAX_LINES_NAMED else "")
    fixed = data.decode("utf-8", errors="schakel-stray-byte")
    warnings.append((f"not valid UTF-8: {len(stray)} stray byte(s) on line {shown}; read as UTF-8 with "
                     "each stray byte read as cp1252", lines[0]))
    return fixed


def _legacy(data: bytes, warnings: list[str]) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=WESTERN).best()
    encoding = best.encoding if best is not None else "cp1252"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding, text = "latin-1", data.decode("latin-1")
    warnings.append(f"not UTF-8; read as {encoding.replace('_', '-')} (detected)")
    return text.lstrip("\ufeff")
