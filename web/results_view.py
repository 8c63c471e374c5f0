"""What the participant's results page shows, built from a ``MatchResult``: presentation only, no ranking.

- ``best_match``: the one match shown first, across kinds (a Kennisrotonde answer to a
  published question close to this one; else an available expert; else an open group; ...).
- ``Card``: a compact card per match: names instead of record ids, how to reach a person
  or group (e-mail, website, contact person from the record), an alternative when the
  match is unavailable, stopped or full, and a short passage without file paths,
  repeated titles or keyword dumps.
- ``ladder_steps``: each ladder level with its own general question and what changed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from indexer.records import KINDS
from matcher.loaded import LoadedIndex
from matcher.results import Match, MatchResult

#: Cards shown per kind before "meer tonen".
SHOWN = 3
#: Ladder names as the page shows them.
LEVEL_NAMES = {0: "Je vraag", 1: "Het onderwerp", 2: "Breder", 3: "Het thema"}

#: label lines a passage may carry ("Trefwoorden: ...", "Type: ..."), cut from excerpts with the white space before
#: them (``_label_spans``)
_KEYWORDS = re.compile(r"(?:Trefwoorden|Tags|Keywords)\s*:[^.\n]*\.?", re.I)
_TYPE = re.compile(r"Type\s*:[^.\n]*\.", re.I)
EXCERPT_CHARS = 220
#: The start of a passage a phone shows before "lees verder" (about two lines at 390 px).
TEASER_CHARS = 90


@dataclass
class Contact:
    """How to reach a person or group: a link (mailto/https) with its text, or a name to ask for."""
    text: str
    href: str | None = None


@dataclass
class Card:
    match: Match
    anchor: str
    contacts: list[Contact] = field(default_factory=list)
    via_connector: bool = False          # no direct contact in the record: offer the follow-up form here
    alternative: Match | None = None     # for an unavailable expert or a stopped or full group
    excerpt: str = ""
    highlights: list[tuple[int, int]] = field(default_factory=list)
    full_text: list[tuple[str, list[str]]] = field(default_factory=list)   # a Kennisrotonde answer (answer_blocks)
    short_answer: str = ""

    @property
    def alternative_anchor(self) -> str:
        return anchor(self.alternative.id) if self.alternative else ""

    def teaser(self) -> tuple[str, list[tuple[int, int]]]:
        """The excerpt's start for a narrow screen (see ``teaser``); ("", []) when the excerpt is short already."""
        return teaser(self.excerpt, self.highlights)


def anchor(record_id: str) -> str:
    """An HTML id for a record: ``m-`` and the id with anything but letters, digits and '-' replaced."""
    return "m-" + re.sub(r"[^A-Za-z0-9-]", "-", record_id)


def http_url(url) -> str | None:
    """A link only when it is a plain http(s) address (no javascript:, data: or relative links)."""
    if isinstance(url, str) and re.match(r"^https?://[^\s/?#]+", url.strip(), re.I):
        return url.strip()
    return None


def record_name(index: LoadedIndex, ref) -> str:
    """The name of a record id (a person, organisation or group), or the text itself when it is not an id."""
    rec = index.records.get(str(ref)) if ref else None
    if rec is None:
        return str(ref or "")
    return str(rec.fields.get("name") or rec.title)


def _contacts_of(index: LoadedIndex, m: Match) -> list[Contact]:
    d = m.details or {}
    out = []
    rec = index.records.get(m.id)
    fields = rec.fields if rec else {}
    email = d.get("email") or fields.get("email")
    if isinstance(email, str) and "@" in email:
        out.append(Contact(email, "mailto:" + email.strip()))
    site = http_url(fields.get("website")) or http_url(m.url)
    if site:
        out.append(Contact("website", site))
    if m.kind == "themegroup" and d.get("contact"):
        person = index.records.get(str(d["contact"]))
        if person is not None:
            pmail = person.fields.get("email")
            out.append(Contact(f"contactpersoon: {record_name(index, person.id)}"
                               + (f" ({pmail})" if pmail else ""), "mailto:" + pmail if pmail else None))
        else:
            out.append(Contact(f"contactpersoon: {d['contact']}"))
    return out


def _unavailable(m: Match) -> bool:
    return m.kind in ("expert", "themegroup") and bool(m.status)


def _alternative(m: Match, result: MatchResult) -> Match | None:
    """Another match of the same kind that is available (for a group: active and open)."""
    for other in result.matches.get(m.kind, []):
        if other.id == m.id or other.status:
            continue
        if m.kind == "themegroup" and (other.details or {}).get("open") is False:
            continue
        return other
    return None


def excerpt(m: Match) -> tuple[str, list[tuple[int, int]]]:
    """The first passage, shortened: no repeated title or focus, no keyword list, at most ~220 characters around the
    first marked word. Returns the text and the highlight offsets within it."""
    if not m.passages or m.kind == "literature":  # a literature passage is its citation: shown as meta already
        return "", []
    p = m.passages[0]
    text, marks = p.text, list(p.highlights)
    cuts = _label_spans(text)
    for known in (m.title, str((m.details or {}).get("focus") or "")):  # already on the card
        if known and text.lower().startswith(known.lower()):
            cuts.append((0, len(known) + (1 if text[len(known):len(known) + 1] in ".:" else 0)))
            break
    for s, e in sorted(cuts, reverse=True):
        text = text[:s] + text[e:]
        marks = [(a - (e - s) if a >= e else a, b - (e - s) if b >= e else b) for a, b in marks
                 if b <= s or a >= e]
    lead = len(text) - len(text.lstrip())
    text, marks = text.strip(), [(a - lead, b - lead) for a, b in marks]
    if len(text) > EXCERPT_CHARS:
        start = 0
        if marks and marks[0][0] > EXCERPT_CHARS - 80:
            start = text.rfind(". ", 0, marks[0][0]) + 2 if text.rfind(". ", 0, marks[0][0]) > 0 else marks[0][0]
        end = text.rfind(" ", start, start + EXCERPT_CHARS)
        end = end if end > start else start + EXCERPT_CHARS
        text = ("…" if start else "") + text[start:end] + "…"
        shift = start - (1 if start else 0)
        marks = [(a - shift, b - shift) for a, b in marks if a >= start and b <= end]
    if len(text) < 40:
        return "", []
    return text, marks


def _label_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each label line of TEXT (``_KEYWORDS``, then ``_TYPE``), with the white space before it: the
    spans of the same patterns led by ``\\s*``. That form tried the pattern at every character of a passage (70 us
    per passage); these start at a label word, and the white space is taken back by hand, no further than the
    previous span of the same pattern. Both need a colon."""
    if ":" not in text:
        return []
    spans = []
    for pattern in (_KEYWORDS, _TYPE):
        previous = 0
        for mo in pattern.finditer(text):
            start = mo.start()
            while start > previous and text[start - 1].isspace():   # str.isspace: the characters re's \s matches in text
                start -= 1
            spans.append((start, mo.end()))
            previous = mo.end()
    return spans


_MARK, _UNMARK = Markup("<mark>"), Markup("</mark>")


def marked(text: str, highlights) -> Markup:
    """TEXT as HTML with each (start, end) character span of HIGHLIGHTS (in order, not overlapping) in a ``<mark>``;
    a span that starts before the previous one ends, or ends past the text, is left out. Everything else escaped
    (markupsafe). A template global: a Jinja macro looping over the spans cost ~55 us per passage."""
    out, pos = [], 0
    for start, end in highlights:
        if start >= pos and end <= len(text):
            out += [escape(text[pos:start]), _MARK, escape(text[start:end]), _UNMARK]
            pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def teaser(text: str, marks: list[tuple[int, int]], limit: int = TEASER_CHARS) -> tuple[str, list[tuple[int, int]]]:
    """The first ``limit`` characters of an excerpt, cut at a word and ended with "…", with the highlights that lie
    wholly inside. ("", []) when the text is not more than a quarter longer than ``limit`` (nothing to fold)."""
    if len(text) <= limit * 1.25:
        return "", []
    end = text.rfind(" ", 0, limit)
    end = end if end > limit // 2 else limit
    cut = text[:end].rstrip(" ,;:.…")
    return cut + "…", [(a, b) for a, b in marks if b <= len(cut)]


def answer_blocks(index: LoadedIndex, m: Match, skip: str = "") -> list[tuple[str, list[str]]]:
    """The full text of a Kennisrotonde answer from the index as blocks: ``("p", [text])`` for a paragraph line,
    ``("ul", [items])`` for consecutive "- " lines. A paragraph equal to ``skip`` (the short answer) is left out."""
    rec = index.records.get(m.id)
    body = index.record_body(rec.id) if rec is not None else ""
    if not body:
        return []
    blocks: list[tuple[str, list[str]]] = []
    for para in re.split(r"\n\s*\n", body):
        if not para.strip() or " ".join(para.split()) == " ".join(skip.split()):
            continue
        for line in para.strip().splitlines():
            line = line.strip()
            if line.startswith(("- ", "* ")):
                if blocks and blocks[-1][0] == "ul":
                    blocks[-1][1].append(line[2:])
                else:
                    blocks.append(("ul", [line[2:]]))
            elif line:
                blocks.append(("p", [line]))
    return blocks


def card(index: LoadedIndex, result: MatchResult, m: Match, full: bool = False) -> Card:
    c = Card(match=m, anchor=anchor(m.id))
    if m.kind in ("expert", "themegroup"):
        c.contacts = _contacts_of(index, m)
        c.via_connector = not any(x.href for x in c.contacts)
        if _unavailable(m) or (m.kind == "themegroup" and (m.details or {}).get("open") is False):
            c.alternative = _alternative(m, result)
    if m.kind == "kennisrotonde":
        c.short_answer = str((m.details or {}).get("short_answer") or "")
        c.full_text = answer_blocks(index, m, skip=c.short_answer)
        if full:
            return c
    c.excerpt, c.highlights = excerpt(m)
    return c


def best_match(result: MatchResult) -> Match | None:
    """The single match shown first.

    In order: a Kennisrotonde answer whose published question is close to this one (it answers
    the question); the best available expert; the best active group that takes new members;
    the best Kennisrotonde answer; then the best of the remaining kinds in page order.
    """
    close = {s.get("id") for s in (result.general.similar if result.general else []) if s.get("id")}
    for m in result.matches.get("kennisrotonde", []):
        if m.id in close:
            return m
    for m in result.matches.get("expert", []):
        if not m.status:
            return m
    for m in result.matches.get("themegroup", []):
        if not m.status and (m.details or {}).get("open") is not False:
            return m
    for kind in ("kennisrotonde",) + KINDS:
        if result.matches.get(kind):
            return result.matches[kind][0]
    return None


@dataclass
class KindBlock:
    kind: str
    label: str
    shown: list[Card]
    more: list[Card]

    @property
    def count(self) -> int:
        return len(self.shown) + len(self.more)


def blocks(index: LoadedIndex, result: MatchResult, labels: dict[str, str], best: Match | None) -> list[KindBlock]:
    """Per kind, the cards after the best match: ``SHOWN`` at first, the rest behind "meer tonen"."""
    out = []
    for kind in KINDS:   # the one order of kinds: CLI, results page and brief
        cards = [card(index, result, m) for m in result.matches.get(kind, []) if best is None or m.id != best.id]
        out.append(KindBlock(kind, labels.get(kind, kind), cards[:SHOWN], cards[SHOWN:]))
    return out


@dataclass
class LadderStep:
    level: int
    name: str
    question: str
    change: str


def ladder_steps(result: MatchResult) -> list[LadderStep]:
    """Each ladder level with its own general question and, from level 1 on, what changed: the concepts it adds
    or replaces. A label already shown at a lower level is not repeated; a level that adds nothing is left out."""
    g = result.general
    if not g:
        return []
    steps, seen, prev = [], set(), []
    for s in g.ladder:
        level = int(s.get("level", 0))
        concepts = [c for c in s.get("concepts") or [] if c not in seen]
        if level > 0 and not concepts:
            continue
        if level == 0:
            change = "zoals je hem stelde"
        elif level == 1:
            change = "zonder details, op " + _join(concepts)
        else:
            change = f"{_join(concepts)} in plaats van {_join(prev)}" if prev else "breder: " + _join(concepts)
        seen.update(concepts)
        prev = concepts or prev
        steps.append(LadderStep(level, LEVEL_NAMES.get(level, s.get("name", "")), s.get("question", ""), change))
    return steps


def current_general(result: MatchResult) -> str:
    """The general question of the level the results were found at (the ladder step of ``result.level``);
    the level-1 question when the level is 0 or not on the ladder."""
    g = result.general
    if not g:
        return ""
    for s in g.ladder:
        if int(s.get("level", -1)) == result.level and result.level >= 1 and s.get("question"):
            return str(s["question"])
    return g.question


def _join(items: list[str]) -> str:
    items = [f"‘{i}’" for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " en " + items[-1]


def reason_text(why: str, status: str | None) -> str:
    """The reason without the record's "(status)" at its end: the status is shown on its own badge, and at the
    end of the sentence it would seem to belong to the last linked item."""
    suffix = f" ({status})" if status else ""
    return why[: -len(suffix)] if suffix and why.endswith(suffix) else why


def organisation_question(item) -> str:
    """An organisation concept (``{"label", "question"}`` from the general block) as a question a participant
    or connector can ask in the organisation; a text that is already a question is kept."""
    text = str((item or {}).get("question") or "").strip() if isinstance(item, dict) else str(item or "")
    if text.endswith("?"):
        return text
    label = (item.get("label") if isinstance(item, dict) else "") or text.split(":")[0]
    return f"Welke afspraken over {label.strip().lower()} zijn hiervoor nodig, en wie in je organisatie gaat daarover?"
