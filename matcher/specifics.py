"""Find the specifics in a question: institutions, programmes, tools, places, networks, people.

A generalised question leaves these out. Sources: the lexicon in
``data/specifics.yaml`` (whole words, case-aware: a capitalised entry matches
only capitalised text, so "kok" the word is kept while "Kok" the programme
goes), quoted names, capitalised words inside a sentence that are not in the
thesaurus, and phrases such as "de opleiding X" or "bij X".
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

import yaml

from indexer.analysis import STOPWORDS, fold
from indexer.errors import InstallationBroken

DATA = files("matcher").joinpath("data", "specifics.yaml")   # package data, also in an installed wheel
CATEGORIES = {"tools": "ict-middel", "places": "plaats", "programmes": "opleiding", "institutions": "instelling",
              "organisations": "organisatie"}
# capitalised words that are ordinary in questions about education and never a specific
ORDINARY = {"ik", "we", "wij", "hoe", "wat", "wie", "welke", "waar", "is", "kan", "kunnen", "onze", "ons", "mijn",
            "bij", "in", "de", "het", "een", "als", "voor", "met", "op", "er", "zijn", "dat", "die", "veel",
            "collega's", "studenten", "docenten", "nederland", "nederlands", "vlaanderen", "europa", "europese",
            "engels", "duits", "frans", "mbo", "hbo", "wo", "vo", "po", "ict", "ai", "oer", "plg", "avg",
            "i", "we", "our", "how", "what", "who", "is", "are", "the", "and", "is there", "ok", "covid",
            "corona", "bol", "bbl", "nt2", "vmbo", "havo", "vwo", "pabo", "ggz", "roc", "aoc"}


@lru_cache(maxsize=1)
def lexicon() -> dict[str, list[tuple[re.Pattern, str, str]]]:
    """Entries keyed by their folded first word, longest first: a question is scanned word by word."""
    try:
        data = yaml.safe_load(DATA.read_text("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InstallationBroken(f"the specifics lexicon {DATA} is missing or unreadable ({exc.__class__.__name__}): "
                                 "this Schakel installation is incomplete", field="specifics") from None
    by_first: dict[str, list[tuple[int, re.Pattern, str, str]]] = {}
    for key, category in CATEGORIES.items():
        for item in data.get(key) or []:
            item = str(item).strip()
            first = re.match(r"[^\W_]+", fold(item))
            if len(item) < 2 or not first:
                continue
            body = re.escape(item)
            flags = re.I
            if item[0].isupper():  # first letter case-sensitive, the rest not
                body = item[0] + "(?i:" + re.escape(item[1:]) + ")"
                flags = 0
            pattern = re.compile(body + r"(?![\w@])", flags)
            by_first.setdefault(first.group(0), []).append((len(item), pattern, item, category))
    return {k: [(p, i, c) for _, p, i, c in sorted(v, key=lambda e: -e[0])] for k, v in by_first.items()}


def find(question: str, concept_words: set[str]) -> list[tuple[str, str]]:
    """(text as written, category) of each specific, in order of appearance."""
    spans: list[tuple[int, int, str]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b, _ in spans)

    table = lexicon()
    for w in re.finditer(r"[^\W_]+", question):
        if w.start() and (question[w.start() - 1].isalnum() or question[w.start() - 1] in "@"):
            continue
        for pattern, _, category in table.get(fold(w.group(0)), ()):
            m = pattern.match(question, w.start())
            if m and free(m.start(), m.end()):
                spans.append((m.start(), m.end(), category))
                break
    for m in re.finditer(r"[‘'\"“]([A-Z][^‘'\"”’]{2,60})[’'\"”]", question):
        if free(m.start(1), m.end(1)):
            spans.append((m.start(1), m.end(1), "naam"))
    for m in re.finditer(r"\b(?:opleiding|minor|module|vak|afdeling|academie|school|hogeschool|roc)\s+"
                         r"((?:[A-Z][\w'’&-]*)(?:\s+(?:[A-Z][\w'’&-]*|en|&))*)", question):
        if free(m.start(1), m.end(1)):
            spans.append((m.start(1), m.end(1), "opleiding"))
    for m in re.finditer(r"(?<![.!?]\s)(?<!^)\b([A-Z][\w'’&-]{2,}(?:\s+[A-Z][\w'’&-]+)*)", question):
        word = m.group(1)
        folded = fold(word)
        if folded in ORDINARY or folded in STOPWORDS or folded in concept_words:
            continue
        if _sentence_start(question, m.start(1)):
            continue
        if free(m.start(1), m.end(1)):
            spans.append((m.start(1), m.end(1), "naam"))
    spans.sort()
    out, seen = [], set()
    for s, e, cat in spans:
        text = question[s:e].strip()
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append((text, cat))
    return out


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in ".!?:;\n"
