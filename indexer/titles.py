"""Titles from file metadata: tell a real title from what the producing tool left there.

PDF document information, DOCX core properties and HTML ``<title>`` often hold "untitled",
"Microsoft Word - verslag_def_v3.docx", "Document1" or a file name. Such a title gives way to the
document's first heading or first line (``first_line``), or else to the file name.
"""
from __future__ import annotations

import re

_JUNK = re.compile(
    r"""^(?:
        untitled(?:\s+document)?(?:[\s_-]*\d+)? | naamloos(?:\s+document)?(?:[\s_-]*\d+)? | no\s+title |
        document\s*\d* | document\s+zonder\s+titel | titel | title | presentatie\d* | presentation\d* |
        dia\s*\d+ | slide\s*\d+ | powerpoint[-\s]presentatie | [-_.\s\d]* |
        (?:microsoft\s+)?(?:word|powerpoint|excel|publisher)\s*-\s*.* |
        .*\.(?:docx?|pdf|pptx?|xlsx?|odt|odp|rtf|tex|indd|pages|txt|html?|qxp|dotx?)
    )$""", re.I | re.X)
_FILE_LIKE = re.compile(r"^[\w.-]*_[\w.-]*$")          # verslag_def_v3: a file name, not a title
MAX_TITLE_WORDS = 20


def is_junk_title(title: str | None) -> bool:
    """True for a missing or tool-made title ("untitled", "Microsoft Word - x.docx", "verslag_v3")."""
    text = " ".join(str(title or "").split())
    return not text or bool(_JUNK.match(text)) or bool(_FILE_LIKE.match(text))


def first_line(text: str) -> str | None:
    """The first line of ``text`` that reads as a title: 2-20 words with letters, not a sentence
    ending in a full stop. None when the text does not start with such a line."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line:
            continue
        words = line.split()
        if (1 <= len(words) <= MAX_TITLE_WORDS and re.search(r"[^\W\d_]{2}", line) and ". " not in line
                and not line.endswith((".", ",", ";", ":", "-"))):
            return line
        return None
    return None


def usable_title(meta_title: str | None, text: str) -> str | None:
    """``meta_title`` when it is a real title; when it is tool-made junk, the first title-like line of
    ``text``; else None (the caller then uses the first heading or the file name). A document without
    any metadata title keeps that rule too: None, so the heading or file name decides."""
    if not is_junk_title(meta_title):
        return " ".join(str(meta_title).split())
    if not " ".join(str(meta_title or "").split()):
        return None
    return first_line(text)
