"""Links between records made at index time: a cited work and its corpus record (``same_as``), experts and
the documents they wrote or are named in (Model 2's p(d|e), Balog et al. 2006), a theme group's contact,
and the theme groups named in an expert's profile (document expansion)."""
from __future__ import annotations

import re

from .records import Record


PARTICLES = {"van", "der", "den", "de", "het", "ten", "ter", "von", "le", "la", "du", "et", "al", "and", "en"}


def _name_words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[^\W\d_]{3,}", text) if w.lower() not in PARTICLES]


def link_same_as(records: list[Record]) -> None:
    """Link literature made from Kennisrotonde source lines to a corpus record of the same work:
    same year and the citation's first surname among the words of the record's first author."""
    by_year: dict[int, list[tuple[set[str], str]]] = {}
    for r in records:
        if r.kind == "literature" and not r.derived_from and r.fields.get("year") and r.fields.get("authors"):
            by_year.setdefault(int(r.fields["year"]), []).append((set(_name_words(r.fields["authors"][0])), r.id))
    for r in records:
        if not r.derived_from or not r.fields.get("year"):
            continue
        words = _name_words(r.fields.get("citation", ""))
        if not words:
            continue
        for names, target in by_year.get(int(r.fields["year"]), []):
            if words[0] in names:
                r.fields["same_as"] = target
                r.links.append((target, "same_as"))
                break


# A byline or maker statement names who wrote or made a document: a Kennisrotonde answer's "Opgesteld door:
# ...", a product's "Ontwikkeld door ...", a note's "Auteurs: ...". Only the first lines (paragraphs) of a
# body are read for it, where credits stand; the names must follow the cue, up to the end of its sentence.
BYLINE_CUE = re.compile(r"\b(?:(?:opgesteld|geschreven|samengesteld|bewerkt|ontwikkeld|gemaakt|ontworpen)\s+door"
                        r"|(?:written|developed|made|compiled|created)\s+by)\b\s*:?"
                        r"|^\W*(?:auteurs?|door|authors?|by)\s*:", re.I | re.M)
SENTENCE_END = re.compile(r"(?<=[^\sA-Z][.!?])\s|\n")   # not after an initial ("A. Jansen")
BYLINE_LINES = 4
_ACRONYM = re.compile(r"[A-Z][A-Z0-9&-]{1,7}")


def expert_aliases(name: str) -> list[str]:
    """The strings that name an expert or organisation in text: the full name, the name without a
    trailing parenthetical ("Lectoraat X (Hogeschool Y)" -> "Lectoraat X") and an acronym given in one
    ("Expertisecentrum ... (ELTO)" -> "ELTO"). A name of one word that is not an acronym is too
    ambiguous to look for and gives [] (an acronym of one word, "SURF", is kept)."""
    name = " ".join(name.split())
    out = [name] if len(name.split()) >= 2 or _ACRONYM.fullmatch(name) else []
    m = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", name)
    if m:
        head, inner = m.group(1).strip(), m.group(2).strip()
        if len(head.split()) >= 2:
            out.append(head)
        if _ACRONYM.fullmatch(inner):
            out.append(inner)
    return out


_TOKEN = re.compile(r"\w+")


class _NameFinder:
    """Finds expert names in text in one pass per text. The reference is a single regular expression over
    all aliases (longest first, whole words; ``pattern``); acronyms match case-sensitively, names
    case-insensitively. Python's ``re`` tries an alternation's branches one by one at every word start, so
    that expression costs O(aliases) per word: with 4,000 experts 8.7 ms per 110-word text, hundreds of
    seconds for a corpus of 10^5 passages. ``find`` therefore indexes the aliases by their first word
    and tries, at each word of the text, only the aliases that begin with it, in the expression's order:
    the same matches (whole words, leftmost, longest first, not overlapping) in O(words) per text."""

    def __init__(self, experts: list[Record]):
        self.owner: dict[str, Record] = {}
        words, acronyms = [], []
        for e in experts:
            for alias in expert_aliases(str(e.fields.get("name", ""))):
                key = alias if alias.isupper() else alias.lower()
                if key not in self.owner:
                    self.owner[key] = e
                    (acronyms if alias.isupper() else words).append(alias)
        ordered = sorted(words, key=len, reverse=True) + sorted(acronyms, key=len, reverse=True)
        parts = [re.escape(a) for a in ordered[:len(words)]] + [f"(?-i:{re.escape(a)})" for a in ordered[len(words):]]
        self.pattern = re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.I) if parts else None
        # first word (lower case) -> [(alias, alias in lower case, is an acronym)], in the expression's order;
        # None when an alias does not begin with a word character (then the expression is used)
        self.by_first: dict[str, list[tuple[str, str, bool]]] | None = {}
        for i, alias in enumerate(ordered):
            first = _TOKEN.match(alias)
            if first is None:
                self.by_first = None
                break
            self.by_first.setdefault(first.group(0).lower(), []).append((alias, alias.lower(), i >= len(words)))

    def find(self, text: str) -> list[Record]:
        """Experts named in TEXT, each once, in order of first mention."""
        if self.pattern is None:
            return []
        hits = self._hits(text) if self.by_first is not None else [m.group(0) for m in self.pattern.finditer(text)]
        found: dict[str, Record] = {}
        for hit in hits:
            e = self.owner.get(hit if hit.isupper() and hit in self.owner else hit.lower())
            if e is not None:
                found.setdefault(e.id, e)
        return list(found.values())

    def _hits(self, text: str) -> list[str]:
        """What ``pattern.finditer(text)`` matches, in order, found through ``by_first``."""
        index = self.by_first
        if index.keys().isdisjoint(map(str.lower, _TOKEN.findall(text))):
            return []
        hits, end = [], 0
        for token in _TOKEN.finditer(text):
            start = token.start()
            aliases = index.get(token.group(0).lower()) if start >= end else None
            for alias, lower, acronym in aliases or ():
                stop = start + len(alias)
                piece = text[start:stop]
                if (piece == alias if acronym else piece.lower() == lower) and \
                        (stop == len(text) or not _word_char(text[stop])):
                    hits.append(piece)
                    end = stop
                    break
        return hits


def _word_char(c: str) -> bool:
    """Whether C is a word character of ``re``'s ``\\w`` (str patterns): alphanumeric or underscore."""
    return c.isalnum() or c == "_"


def _byline(body: str) -> str:
    """The text after each byline cue in the first ``BYLINE_LINES`` non-empty lines, to its sentence end."""
    head = "\n".join([ln for ln in body.splitlines() if ln.strip()][:BYLINE_LINES])
    return "\n".join(SENTENCE_END.split(head[m.end():], maxsplit=1)[0] for m in BYLINE_CUE.finditer(head))


def link_people(records: list[Record]) -> None:
    """Associate experts with the documents they wrote or are named in (Model 2's p(d|e), Balog et al.
    2006), and resolve a theme group's free-text contact to an expert of that name.

    An expert is an author of a document that lists them in ``authors`` or names them in a byline or maker
    statement among its first lines ("Opgesteld door: ...", "Ontwikkeld door ..."); an expert named
    elsewhere in the body is mentioned in it.
    Names are found by ``expert_aliases`` (also an organisation's acronym or its name without the
    parenthetical), as whole words."""
    experts = [r for r in records if r.kind == "expert" and expert_aliases(str(r.fields.get("name", "")))]
    if not experts:
        return
    finder = _NameFinder(experts)
    by_name = {str(e.fields["name"]).strip().lower(): e for e in experts}
    ids = {r.id for r in records}
    for r in records:
        if r.kind == "themegroup" and r.fields.get("contact") and str(r.fields["contact"]) not in ids:
            e = by_name.get(str(r.fields["contact"]).strip().lower())
            if e:
                r.links.append((e.id, "contact"))
        if r.kind == "expert":
            continue
        authors = {e.id: e for a in r.fields.get("authors", []) if isinstance(a, str) for e in finder.find(a)}
        authors.update((e.id, e) for e in finder.find(_byline(r.body)))
        for e in authors.values():
            e.links.append((r.id, "author_of"))
        for e in finder.find(r.body):
            if e.id not in authors:
                e.links.append((r.id, "mentioned_in"))


def add_group_context(records: list[Record]) -> None:
    """Document expansion: an expert's profile names the theme groups they belong to, with their focus,
    so a question about the group's topic also finds its members."""
    groups = {r.id: r for r in records if r.kind == "themegroup"}
    for r in records:
        if r.kind != "expert":
            continue
        for gid in r.fields.get("themegroups", []):
            g = groups.get(gid)
            if g is not None:
                focus = str(g.fields.get("focus") or "").strip()
                r.context.append(f"{g.title}" + (f" ({focus})" if focus else ""))
