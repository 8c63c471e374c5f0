"""YAML front matter of a Markdown file, with values kept as written.

PyYAML resolves plain scalars by YAML 1.1 rules: ``region: NO`` becomes ``False``, ``id: 0712`` the
octal number 458, ``updated: 2024-02-30`` a ``ValueError`` traceback from ``datetime.date``. The
loader here (a PyYAML ``SafeLoader`` with a reduced resolver table) only resolves ``true``/``false``
and ``null``; every other plain scalar stays the text that was written. Typed fields (numbers,
dates, booleans such as ``ja``/``nee``) are converted, with a message naming the field and its
line, by ``corpus.normalise_fields``.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

from .errors import ReadError


class FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that resolves only booleans (true/false) and null; all else stays text."""

    yaml_implicit_resolvers: dict = {}


FrontMatterLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
FrontMatterLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
FrontMatterLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])

_FM = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(\n|\Z)", re.S)


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Return (front matter, body, line number where the body starts).

    Raises ReadError (with the line where known) for an unclosed block, invalid YAML, or front
    matter that is not a mapping of field: value.
    """
    if not text.startswith("---"):
        return {}, text, 1
    m = _FM.match(text)
    if not m:
        raise ReadError("front matter starts with '---' but has no closing '---' line", line=1)
    raw = m.group(1) or ""
    try:
        meta = yaml.load(raw, Loader=FrontMatterLoader) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None  # +1 for 1-based, +1 for the opening '---'
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ReadError(f"invalid YAML front matter: {problem}", line=line) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # a constructor on odd input
        raise ReadError(f"invalid YAML front matter: {exc}", line=2) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ReadError("front matter must be a mapping of field: value", line=2)
    body_line = text[: m.end()].count("\n") + 1
    return meta, text[m.end():], body_line
