"""Near-identical documents collapsed into one record that says where else it appears.

The same report saved as PDF and DOCX, a web page saved twice, a news item copied into two folders:
left alone, each copy takes a place in the results. Two document records (``DOCUMENT_KINDS``) are one
when they have the same URL (normalised by courlan, trafilatura's URL library) or near-identical
text of at least ``MIN_WORDS`` words: a Jaccard similarity of word 3-shingles of at least ``THRESHOLD``, found with MinHash LSH
(datasketch; Broder 1997, "On the resemblance and containment of documents") and confirmed on the
exact shingle sets, so the estimate never merges two documents on its own.

One record stays (one with a URL, then the one nearest the corpus root); ``fields["also_at"]`` lists
the sources (and URLs) of the others, and each collapsed copy is reported as a warning naming the record it joined.
"""
from __future__ import annotations

import re

from .records import Problem, Record

DOCUMENT_KINDS = ("report", "literature", "product")
THRESHOLD = 0.85
SHINGLE_WORDS = 3
NUM_PERM = 128
MIN_WORDS = 40   # a shorter text (an abstract line, a stub) is no evidence of a copy; only the URL counts


def _url_key(url: str | None) -> str | None:
    if not url or not str(url).strip():
        return None
    from courlan import normalize_url

    try:
        key = normalize_url(str(url).strip(), strict=True)
    except Exception:  # an unparseable URL is compared as written
        key = str(url).strip()
    return key.rstrip("/").lower()


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """Word ``size``-grams of the lower-cased text; empty for a text under ``MIN_WORDS`` words."""
    words = re.findall(r"\w+", text.lower())
    if len(words) < max(size, MIN_WORDS):
        return set()
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def _text_groups(docs: list[Record]) -> dict[int, int]:
    """Map index of a copy -> index of the first near-identical document before it."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    sets: list[set[str]] = []
    copy_of: dict[int, int] = {}
    for i, rec in enumerate(docs):
        grams = shingles(rec.body)
        sets.append(grams)
        if not grams:
            continue
        sketch = MinHash(num_perm=NUM_PERM)
        sketch.update_batch([g.encode("utf-8") for g in grams])
        for j in sorted(int(k) for k in lsh.query(sketch)):
            if len(grams & sets[j]) / len(grams | sets[j]) >= THRESHOLD:
                copy_of[i] = copy_of.get(j, j)
                break
        else:
            lsh.insert(str(i), sketch)
    return copy_of


def _keeper(group: list[int], docs: list[Record]) -> int:
    """The copy that stays: one with a URL, then the one nearest the corpus root, then corpus order."""
    return min(group, key=lambda i: (docs[i].url is None, docs[i].source.count("/"), i))


def collapse_near_duplicates(records: list[Record]) -> tuple[list[Record], list[Problem]]:
    """Return (records with each group of copies collapsed into one, one warning per copy).

    The record that stays (``_keeper``) gets ``fields["also_at"]``: the sources and URLs of the others.
    """
    docs = [r for r in records if r.kind in DOCUMENT_KINDS and not r.derived_from]
    copy_of = _text_groups(docs)
    first_by_url: dict[str, int] = {}
    for i, rec in enumerate(docs):
        key = _url_key(rec.url)
        if key is None or i in copy_of:
            continue
        if key in first_by_url:
            copy_of[i] = copy_of.get(first_by_url[key], first_by_url[key])
        else:
            first_by_url[key] = i
    groups: dict[int, list[int]] = {}
    for i, j in copy_of.items():
        groups.setdefault(j, [j]).append(i)
    dropped: set[int] = set()
    notes: list[Problem] = []
    for members in groups.values():
        keep = _keeper(members, docs)
        kept = docs[keep]
        where = kept.fields.setdefault("also_at", [])
        for i in sorted(m for m in members if m != keep):
            copy = docs[i]
            where += [s for s in (copy.source, copy.url) if s and s not in where and s != kept.url]
            dropped.add(id(copy))
            same_url = _url_key(copy.url) is not None and _url_key(copy.url) == _url_key(kept.url)
            reason = "the same URL" if same_url else "near-identical text"
            notes.append(Problem(copy.source, f"{reason} as '{kept.id}' ({kept.source}); indexed once, as that "
                                              "record", level="warning"))
    return [r for r in records if id(r) not in dropped], notes
