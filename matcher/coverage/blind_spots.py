"""Blind spots: concepts with demand or sources and no available expert, merged into entries and ranked.

Merging: blind-spot concepts close in the thesaurus (linked, or linked through one other concept) and
asked about in mostly the same questions form one entry, as do asked concepts on one branch of the
hierarchy with no expert between them and concepts asked in (nearly) the same questions. An unasked
linked concept with mostly the same sources joins such an entry; unasked linked concepts sharing most
sources merge. Entries are the connected components of these merge links
(``scipy.sparse.csgraph.connected_components``).

A weak question (no good expert for it as a whole) whose best BM25 sources mostly belong to an entry's
sources joins that entry at ``VIA_SOURCES`` weight: a paraphrase or another language that missed the
concept words still counts as demand for the topic.

Ranking: weighted demand times ``source_factor``; a question counts by how central the concept is in it,
``SERVED_FACTOR`` when its other concepts have a good expert. Entries nobody asked about come last,
ordered by sources.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from indexer.thesaurus import Concept

from ..loaded import LoadedIndex
from .demand import AskedQuestion, ConceptDemand, top_sources
from .records import RecordCoverage
from .results import BlindSpot, ExpertStrength, GroupStrength, rounded
from .text import why_line

MERGE_OVERLAP = 0.5     # share of the smaller question (or source) set two concepts must share to merge
SAME_QUESTIONS = 0.6    # two asked concepts sharing this share of all their questions (Jaccard) merge ...
SAME_QUESTIONS_MIN = 2  # ... when they share at least this many
BRANCH_HOPS = 3         # asked concepts this many broader/narrower steps apart, all without expert, merge
SERVED_FACTOR = 0.75    # a question that available experts serve well as a whole counts less
VIA_SOURCES = 0.5       # demand weight of a weak question that reaches a blind spot through its sources ...
VIA_SOURCES_HITS = 2    # ... when this many of its three best-matching sources are the blind spot's
VIA_MIN_SOURCES = 2     # ... and the blind spot has at least this many sources
BAR_SAMPLE = 500        # questions sampled for the typical best-source score
NO_SOURCE_FACTOR = 0.25 # ranking weight of a blind spot with no source at all ...
SOURCE_STEP = 0.3       # ... plus this per source, up to 1 (three sources)
SOURCE_ORDER = 0.01     # weight of log(1 + sources) in the score: orders the topics nobody asked about
CLEAR = 0.75            # ranking score from which a blind spot is clear (one central question, 2 sources)
MAX_QUESTIONS = 25      # example questions (and source ids) kept per blind spot
HOLDERS = 5             # experts / theme groups named per blind spot
MIN_LISTED = 0.15       # ... experts with at least this strength
FAINT = 0.6             # share of ``weak`` from which an available expert's own mention is weak coverage


def source_factor(n_sources: int) -> float:
    """Ranking weight (0.25..1) of a blind spot by its sources: knowledge in the network but no person is the
    clearest gap; demand on a topic with no source at all is often a stray concept detection."""
    return min(1.0, NO_SOURCE_FACTOR + SOURCE_STEP * n_sources)


@dataclass
class _Links:
    """Thesaurus neighbours by concept index: ``near`` broader, narrower and related; ``tree`` broader and
    narrower only."""

    near: dict[int, set[int]]
    tree: dict[int, set[int]]


def _thesaurus_links(concepts: list[Concept]) -> _Links:
    by_id = {c.id: i for i, c in enumerate(concepts)}
    links = _Links(defaultdict(set), defaultdict(set))
    for i, c in enumerate(concepts):
        for other in c.broader + c.related:
            j = by_id.get(other)
            if j is not None and j != i:
                links.near[i].add(j)
                links.near[j].add(i)
                if other in c.broader:
                    links.tree[i].add(j)
                    links.tree[j].add(i)
    return links


def _most_shared(sa: set, sb: set) -> bool:
    return bool(sa and sb) and len(sa & sb) >= MERGE_OVERLAP * min(len(sa), len(sb))


def _asked_edges(asked_about: list[int], blind: set[int], qsets: dict[int, set[int]],
                 links: _Links) -> list[tuple[int, int]]:
    """Merge links between concepts asked about: close in the thesaurus and mostly the same questions; on one
    branch with no expert between them (COIL and internationale klas under internationalisering); or asked in
    (nearly) the same questions."""
    edges = []
    asked_set = set(asked_about)
    for a in asked_about:
        close = set(links.near[a]).union(*(links.near[n] for n in links.near[a]))
        edges += [(a, b) for b in (close & asked_set) - {a} if _most_shared(qsets[a], qsets[b])]
    for a in asked_about:
        frontier, seen = {a}, {a}
        for _ in range(BRANCH_HOPS):
            frontier = {n for f in frontier for n in links.tree[f] if n in blind and n not in seen}
            seen |= frontier
            edges += [(a, b) for b in frontier & asked_set]
    for i, a in enumerate(asked_about):
        for b in asked_about[i + 1:]:
            shared = len(qsets[a] & qsets[b])
            if shared >= SAME_QUESTIONS_MIN and shared >= SAME_QUESTIONS * len(qsets[a] | qsets[b]):
                edges.append((a, b))
    return edges


def _unasked_edges(unasked: list[int], asked_set: set[int], sources: list[set[str]],
                   links: _Links) -> list[tuple[int, int]]:
    """A concept nobody asked about joins the linked asked concept that has most of its sources (one step only,
    so a chain of links does not pull in half the thesaurus); otherwise it merges with a linked unasked one
    when they share most sources."""
    edges, alone = [], []
    for z in unasked:
        hosts = [a for a in links.near[z] if a in asked_set and sources[z]
                 and len(sources[z] & sources[a]) >= MERGE_OVERLAP * len(sources[z])]
        if hosts:
            edges.append((z, max(hosts, key=lambda a: (len(sources[z] & sources[a]), -a))))
        else:
            alone.append(z)
    alone_set = set(alone)
    for z in alone:
        edges += [(z, b) for b in (links.near[z] & alone_set) - {z} if _most_shared(sources[z], sources[b])]
    return edges


def merge(n_concepts: int, members: list[int], demand: ConceptDemand, sources: list[set[str]],
          links: _Links) -> list[list[int]]:
    """Blind-spot concepts (MEMBERS, ascending concept indexes) grouped into entries: the connected components
    of the merge links. Entries are ordered by their first concept; concepts within an entry ascending."""
    qsets = {i: set(demand.questions[i]) for i in members}
    asked_about = [i for i in members if qsets[i]]
    unasked = [i for i in members if not qsets[i]]
    edges = _asked_edges(asked_about, set(members), qsets, links)
    edges += _unasked_edges(unasked, set(asked_about), sources, links)
    # imported here: scipy's graph module costs a third of a second, which a server's start-up need not pay
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a, b = (np.array(x, dtype=np.int64) for x in zip(*edges)) if edges else (np.zeros(0, np.int64),) * 2
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n_concepts, n_concepts))
    _, label = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for i in members:
        groups.setdefault(int(label[i]), []).append(i)
    return list(groups.values())


def _via_sources(index: LoadedIndex, asked: list[AskedQuestion], demand: ConceptDemand, groups: list[list[int]],
                 sources: list[set[str]], weak: float) -> dict[int, dict[int, float]]:
    """Per entry (position in GROUPS), weak questions that reach it through their best sources, with weight.

    Only questions that match their best source at least as well as the typical question does (the median
    over at most ``BAR_SAMPLE`` questions): a few common words in one long report are no evidence. Topics
    nobody asked about directly get no demand this way (broad concepts with many sources would collect it).
    """
    weak_q = [qi for qi in range(len(asked)) if demand.served[qi] < weak]
    src_sets = {g: set().union(*(sources[ci] for ci in cis)) for g, cis in enumerate(groups)
                if any(demand.questions[ci] for ci in cis)}
    via: dict[int, dict[int, float]] = defaultdict(dict)
    if not weak_q or not any(len(v) >= VIA_MIN_SOURCES for v in src_sets.values()):
        return via
    sample = [q.text for q in asked[::max(1, math.ceil(len(asked) / BAR_SAMPLE))]]
    tops = top_sources(index, sample + [asked[qi].text for qi in weak_q])
    bar = float(np.median([tops[t][0][1] if tops[t] else 0.0 for t in sample]))
    for qi in weak_q:
        top = tops.get(asked[qi].text, [])
        if not top or top[0][1] < bar:
            continue
        for g, srcs in src_sets.items():
            if len(srcs) >= VIA_MIN_SOURCES and sum(1 for rid, _ in top if rid in srcs) >= VIA_SOURCES_HITS:
                via[g][qi] = VIA_SOURCES
    return via


def _strongest(strength: np.ndarray, recs: list, ok: np.ndarray, floor: float, kind: type) -> list:
    """At most ``HOLDERS`` of RECS by STRENGTH (per record, 0..1) from FLOOR up, as KIND with name and flag OK."""
    return [kind(recs[i].id, rounded(strength[i]), bool(ok[i]), name=recs[i].title)
            for i in np.argsort(-strength, kind="stable")[:HOLDERS] if strength[i] >= floor]


def _holders(rc: RecordCoverage, cis: list[int], weak: float) -> tuple[list[ExpertStrength], list[GroupStrength]]:
    """The strongest experts (at least ``MIN_LISTED``) and theme groups (own text at least WEAK) of an entry."""
    cols = np.asarray(cis)
    experts = _strongest(rc.expert[:, cols].max(1), rc.experts, rc.available, MIN_LISTED, ExpertStrength) \
        if len(rc.experts) else []
    groups = _strongest(rc.group_own[:, cols].max(1), rc.groups, rc.active, weak, GroupStrength) \
        if len(rc.groups) else []
    return experts, groups


def _why(rc: RecordCoverage, cis: list[int], demand: int, n_src: int, weak: float):
    """The entry's reason line, experts and theme groups."""
    experts, groups = _holders(rc, cis, weak)
    away = [e for e in experts if not e.available and e.score >= weak]
    # weak coverage: an available expert whose own profile mentions it (not only through their group)
    own = rc.expert_own[:, np.asarray(cis)].max(1) if len(rc.experts) else np.zeros(0)
    row = {r.id: i for i, r in enumerate(rc.experts)}
    faint = [e for e in experts if e.available and e.score >= FAINT * weak and own[row[e.id]] > 0]
    return why_line(demand, n_src, away, faint, groups), experts, groups


def _entry(index: LoadedIndex, rc: RecordCoverage, asked: list[AskedQuestion], demand: ConceptDemand,
           cis: list[int], via: dict[int, float], links: _Links, weak: float) -> BlindSpot:
    concepts = index.concepts
    qweights: dict[int, float] = dict(via)
    for ci in cis:
        for qi, wt in demand.weights[ci].items():
            qweights[qi] = max(qweights.get(qi, 0.0), wt)
    unmet = sum(wt * (1.0 if demand.served[qi] < weak else SERVED_FACTOR) for qi, wt in qweights.items())
    srcs = set().union(*(rc.sources[ci] for ci in cis))
    score = unmet * source_factor(len(srcs)) + SOURCE_ORDER * math.log1p(len(srcs))
    # name the entry after its strongest concept by the same measure as the ranking
    in_entry = set(cis)
    cis = sorted(cis, key=lambda ci: (-round(sum(demand.weights[ci].values()) * source_factor(len(rc.sources[ci])), 3),
                                      -len(links.near[ci] & in_entry), -len(rc.sources[ci]), concepts[ci].label))
    qorder = sorted(qweights, key=lambda qi: (-qweights[qi], qi))
    texts = list(dict.fromkeys(asked[qi].text for qi in qorder))
    why, experts, groups = _why(rc, cis, len(qweights), len(srcs), weak)
    return BlindSpot(label=concepts[cis[0]].label, concepts=[concepts[ci].label for ci in cis],
                     concept_ids=[concepts[ci].id for ci in cis], demand=len(qweights),
                     questions=texts[:MAX_QUESTIONS], sources=len(srcs), source_ids=sorted(srcs)[:MAX_QUESTIONS],
                     why=why, score=rounded(score), clear=bool(qweights) and score >= CLEAR,
                     experts=experts, themegroups=groups)


def blind_spots(index: LoadedIndex, rc: RecordCoverage, asked: list[AskedQuestion], demand: ConceptDemand,
                blind: np.ndarray, weak: float) -> list[BlindSpot]:
    """The ranked blind-spot entries. BLIND is a bool per concept (demand or sources, no available expert
    at WEAK); entries with demand first, then by score, demand, sources and label."""
    links = _thesaurus_links(index.concepts)
    members = [int(i) for i in np.nonzero(blind)[0]]
    groups = merge(len(index.concepts), members, demand, rc.sources, links)
    via = _via_sources(index, asked, demand, groups, rc.sources, weak)
    entries = [_entry(index, rc, asked, demand, cis, via.get(g, {}), links, weak) for g, cis in enumerate(groups)]
    entries.sort(key=lambda e: (-(e.demand > 0), -e.score, -e.demand, -e.sources, e.label))
    return entries
