""""Wie weet wat": the experts, theme groups and products of the index, browsable by concept, organisation,
region and kind. Public, server-rendered, filters as GET parameters.

Concepts per record are the thesaurus concepts found (by words) in the
record's text; they are computed once per loaded index build.
"""
from __future__ import annotations

import threading
import weakref
from collections import Counter
from dataclasses import dataclass, field

from flask import Blueprint, render_template, request

from indexer.records import KIND_LABELS

from .services import services

bp = Blueprint("directory", __name__)

KINDS = ("expert", "themegroup", "product")
_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@dataclass
class Entry:
    id: str
    kind: str
    title: str
    url: str | None
    organisation: str = ""
    region: str = ""
    status: str | None = None
    lines: list[str] = field(default_factory=list)           # short facts shown under the title
    concepts: list[tuple[str, str]] = field(default_factory=list)   # (id, label)
    links: list[tuple[str, str]] = field(default_factory=list)      # (label, title) of related records


@dataclass
class Directory:
    entries: list[Entry]
    concepts: list[tuple[str, str, int]]      # (id, label, count), most used first
    organisations: list[tuple[str, int]]
    regions: list[tuple[str, int]]


def _text(index, rec) -> str:
    parts = [rec.title, index.record_body(rec.id)]
    for key in ("expertise", "focus", "role", "tags"):
        value = rec.fields.get(key) if key != "tags" else rec.tags
        if isinstance(value, list):
            parts += [str(v) for v in value]
        elif value:
            parts.append(str(value))
    return "\n".join(parts)


def _title(index, rid) -> str | None:
    rec = index.records.get(rid) if isinstance(rid, str) else None
    return rec.title if rec else None


def _entry(index, rec) -> Entry:
    from .brief import http_url

    f = rec.fields
    e = Entry(id=rec.id, kind=rec.kind, title=rec.title, url=http_url(rec.url), status=rec.status)
    if rec.kind == "expert":
        e.organisation = str(f.get("organisation") or "").strip()
        e.region = str(f.get("region") or "").strip()
        if f.get("role"):
            e.lines.append(str(f["role"]))
        if isinstance(f.get("expertise"), list) and f["expertise"]:
            e.lines.append("Expertise: " + ", ".join(map(str, f["expertise"])))
        for tg in f.get("themegroups") or []:
            if _title(index, tg):
                e.links.append(("Themagroep", _title(index, tg)))
    elif rec.kind == "themegroup":
        if f.get("focus"):
            e.lines.append(f"Focus: {f['focus']}")
        if f.get("members"):
            e.lines.append(f"{f['members']} leden")
        contact = f.get("contact")
        if contact:
            e.links.append(("Contact", _title(index, contact) or str(contact)))
            expert = index.records.get(contact) if isinstance(contact, str) else None
            if expert is not None and expert.kind == "expert":
                e.organisation = str(expert.fields.get("organisation") or "").strip()
                e.region = str(expert.fields.get("region") or "").strip()
    elif rec.kind == "product":
        if f.get("type"):
            e.lines.append(f"Soort: {f['type']}")
        maker = f.get("made_by")
        if maker:
            e.links.append(("Gemaakt door", _title(index, maker) or str(maker)))
    return e


def directory(index) -> Directory:
    """Entries and filter options for one loaded index (cached while that index is loaded)."""
    with _lock:
        hit = _cache.get(index)
        if hit is not None:
            return hit
    cm = index.concept_matcher
    entries = []
    used: Counter = Counter()
    for rec in index.record_list:
        if rec.kind not in KINDS or rec.derived_from:
            continue
        e = _entry(index, rec)
        found = cm.lexical(_text(index, rec)) if cm is not None else {}
        ranked = sorted(found.items(), key=lambda kv: -kv[1][0])
        e.concepts = [(cm.concepts[i].id, cm.concepts[i].label) for i, _ in ranked[:12]]
        used.update(cid for cid, _ in e.concepts)
        entries.append(e)
    order = {k: i for i, k in enumerate(KINDS)}
    entries.sort(key=lambda e: (order[e.kind], e.status is not None, e.title.lower()))
    labels = {cid: label for e in entries for cid, label in e.concepts}
    result = Directory(
        entries=entries,
        concepts=sorted(((cid, labels[cid], n) for cid, n in used.items()), key=lambda t: t[1].lower()),
        organisations=sorted(Counter(e.organisation for e in entries if e.organisation).items(),
                             key=lambda t: t[0].lower()),
        regions=sorted(Counter(e.region for e in entries if e.region).items(), key=lambda t: t[0].lower()))
    with _lock:
        _cache[index] = result
    return result


#: the filters as the page names them, with their article
FILTER_LABELS = {"concept": "Het onderwerp", "organisatie": "De organisatie", "regio": "De regio", "soort": "De soort"}


@bp.get("/wie-weet-wat")
def index():
    d = directory(services().engine.index())
    concept_ids = {cid for cid, _, _ in d.concepts}
    org_names = {o for o, _ in d.organisations}
    region_names = {r for r, _ in d.regions}
    # An unknown value (an old bookmark, a record that left the index) shows everything for that filter, with a
    # notice that says so, rather than an error page or a list that silently ignores what was asked.
    known = {"concept": concept_ids, "organisatie": org_names, "regio": region_names, "soort": set(KINDS)}
    asked = {name: request.args.get(name, "").strip() for name in known}
    chosen = {name: value if value in known[name] else "" for name, value in asked.items()}
    unknown = [(FILTER_LABELS[name], value) for name, value in asked.items() if value and not chosen[name]]
    shown = [e for e in d.entries
             if (not chosen["concept"] or any(cid == chosen["concept"] for cid, _ in e.concepts))
             and (not chosen["organisatie"] or e.organisation == chosen["organisatie"])
             and (not chosen["regio"] or e.region == chosen["regio"])
             and (not chosen["soort"] or e.kind == chosen["soort"])]
    groups = [(k, KIND_LABELS[k], [e for e in shown if e.kind == k]) for k in KINDS]
    concept_label = next((label for cid, label, _ in d.concepts if cid == chosen["concept"]), "")
    return render_template("directory.html", d=d, groups=groups, chosen=chosen, total=len(shown),
                           filtered=any(chosen.values()) or bool(unknown), concept_label=concept_label, kinds=KINDS,
                           unknown=unknown,
                           kind_labels=KIND_LABELS)
