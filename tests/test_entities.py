"""matcher.entities: Model 2 propagation, hub resistance, availability (on a small in-memory index)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import pytest

from matcher import entities, knobs
from matcher.knobs import K, relation_weights
from matcher.loaded import RecordInfo


def _rec(rid, kind, row, **fields):
    return RecordInfo(rid, kind, rid, "", fields=fields, row=row)


def _index(records, links, concepts):
    """A stand-in for LoadedIndex with what entities.py reads: records, links seen from each side,
    concepts per record and inactive rows."""
    by_id = {r.id: r for r in records}
    rows = {}
    for src, rel, dst, inverse in links:
        rows.setdefault(by_id[src].row, []).append((by_id[dst].row, rel, dst))
        rows.setdefault(by_id[dst].row, []).append((by_id[src].row, inverse, src))
    return SimpleNamespace(
        record_list=records, records=by_id, neighbour_rows=sorted(rows.items()),
        record_concepts=lambda rid: set(range(concepts.get(rid, 3))),
        inactive_rows=np.array([r.row for r in records if not r.active], dtype=np.int64))


def _hub_world():
    people = [_rec(f"exp-{i}", "expert", i) for i in range(8)]
    hub = _rec("rap-hub", "report", 8)
    note = _rec("rap-note", "report", 9)
    records = people + [hub, note]
    links = [(f"exp-{i}", "mentioned_in", "rap-hub", "mentions") for i in range(8)]
    links.append(("exp-0", "mentioned_in", "rap-note", "mentions"))
    concepts = {"rap-hub": 80, "rap-note": 3}
    return _index(records, links, concepts)


def test_a_hub_report_lends_each_person_less_than_a_focused_note():
    index = _hub_world()
    own = np.zeros(10, np.float32)
    own[8] = 1.0                   # only the hub matches
    from_hub, _ = entities.propagate(index, own)
    own = np.zeros(10, np.float32)
    own[9] = 1.0                   # only the focused note matches, just as well
    from_note, _ = entities.propagate(index, own)
    assert from_note[0] > 0
    assert from_hub[1] < 0.25 * from_note[0]


def test_one_document_counts_once_per_person_and_is_capped():
    a = _rec("exp-a", "expert", 0)
    g = _rec("tg-g", "themegroup", 1)
    index = _index([a, g], [("exp-a", "member_of", "tg-g", "has_member"),
                            ("tg-g", "contact", "exp-a", "contact_of")], {})
    edges = dict(entities.weighted_links(index))[0]
    assert len(edges) == 1 and edges[0][1] == relation_weights()[("expert", "contact_of")]
    own = np.array([0.0, 100.0], np.float32)
    final, via = entities.propagate(index, own, strength=1.0)
    assert final[0] == pytest.approx(K.link_doc_cap)
    assert via["exp-a"] == ["tg-g"]


def test_unavailable_expert_ranks_below_an_active_one_with_comparable_evidence():
    busy = _rec("exp-busy", "expert", 0, available=False)
    free = _rec("exp-free", "expert", 1, available=True)
    stopped = _rec("tg-stopped", "themegroup", 2, status="gestopt")
    running = _rec("tg-running", "themegroup", 3, status="actief")
    index = _index([busy, free, stopped, running], [], {})
    # comparable: the unavailable expert has 40% more evidence, the stopped group a third more
    scores = np.array([1.4, 1.0, 1.3, 0.98], np.float32)
    before = scores.copy()
    out = entities.availability(index, scores)
    assert out[1] > out[0] > 0          # still findable, but below
    assert out[3] > out[2] > 0
    assert np.array_equal(scores, before)   # the input is not changed


def test_document_prior_lowers_only_records_that_span_many_topics():
    index = _hub_world()
    prior = entities.document_prior(index)
    assert prior[9] == 1.0 and prior[0] == 1.0
    assert prior[8] < 0.5


def test_the_reason_of_an_unavailable_expert_says_it_was_ranked_lower():
    from matcher.reasons import why

    busy = _rec("exp-busy", "expert", 0, available=False)
    reason = why(busy, ["peerfeedback"], [], [], [("Themagroep X", "member_of")], busy.status)
    assert reason.startswith(busy.status[0].upper() + busy.status[1:] + ": score daarom verlaagd. ")
    assert reason.endswith("‘Themagroep X’")     # the status is not read as the linked group's
    free = _rec("exp-free", "expert", 1)
    assert "lager" not in why(free, ["peerfeedback"], [], [], [], free.status)


def _loop_propagate(index, own, strength=1.0):
    """Model 2 propagation as a plain loop over the links (the definition ``propagate`` vectorises)."""
    final = own.copy()
    via = {}
    prior = entities.document_prior(index)
    for row, edges in entities.weighted_links(index):
        contrib = [(min(K.link_doc_cap, w * float(prior[o]) * float(own[o])), other) for o, w, other in edges
                   if own[o] > 0]
        if not contrib:
            continue
        contrib.sort(reverse=True)
        add = sum(c * (K.link_decay ** i) for i, (c, _) in enumerate(contrib[:K.link_max]))
        final[row] += strength * add
        via[index.record_list[row].id] = [other for c, other in contrib[:3] if c > 0.05]
    return final, via


def test_vectorised_propagation_equals_the_loop_on_a_random_network():
    rng = np.random.default_rng(21)
    kinds = ["expert"] * 30 + ["themegroup"] * 8 + ["product"] * 12 + ["literature"] * 25 + ["kennisrotonde"] * 15
    records = [_rec(f"{k[:3]}-{i:03d}", k, i) for i, k in enumerate(kinds)]
    by_kind = {}
    for r in records:
        by_kind.setdefault(r.kind, []).append(r.id)
    pick = lambda kind: by_kind[kind][rng.integers(len(by_kind[kind]))]  # noqa: E731
    links = set()
    for n, e in enumerate(by_kind["expert"]):
        for _ in range(rng.integers(0, 4)):
            links.add((e, "member_of", pick("themegroup"), "has_member"))
        for _ in range(rng.integers(0, 6) if n % 10 else 40):   # a few prolific authors: rows of 20+ links
            links.add((e, "mentioned_in", pick("literature"), "mentions"))
    for g in by_kind["themegroup"]:
        for _ in range(rng.integers(0, 4)):
            links.add((g, "made", pick("product"), "made_by"))
    for a in by_kind["kennisrotonde"]:
        for _ in range(rng.integers(0, 4)):
            links.add((a, "cites", pick("literature"), "cited_by"))
    index = _index(records, sorted(links), {r.id: int(rng.integers(1, 40)) for r in records})
    assert max(len(entries[0]) for _, entries in entities.link_table(index).tables) >= 16
    for trial in range(20):
        own = rng.choice([0.0, 0.3, 0.5, 0.8, 1.2], len(records)).astype(np.float32) if trial % 2 else \
            np.clip(rng.normal(0.3, 0.4, len(records)), 0, None).astype(np.float32)
        # the most contributions per record counted (knob ``link_max``): below, at and above a table's width
        with knobs.overridden({"link_max": [4, 1, 3, 6, 0][trial % 5]}):
            final, via = entities.propagate(index, own, strength=0.7)
            want_final, want_via = _loop_propagate(index, own, strength=0.7)
        assert final.tobytes() == want_final.tobytes()
        assert dict(via) == want_via
        assert all(via.get(r.id, []) == want_via.get(r.id, []) for r in records)


def _support_world():
    """Two top documents about concepts 0 (the question's) and 1..3 (other topics); expert 'broad' shares
    1..3 with them, expert 'focused' shares only 0; concept 4 is narrower than 0."""
    concepts = [SimpleNamespace(id=f"c{i}", broader=["c0"] if i == 4 else []) for i in range(5)]
    sets = {0: {0, 1, 2, 3}, 1: {0, 1, 2, 3}, 2: {1, 2, 3}, 3: {0}, 4: {4}}
    kinds = np.array(["report", "report", "expert", "expert", "expert"])

    def vector(row):
        v = np.zeros(5, np.float32)
        v[list(sets[row])] = 1.0
        return v / np.linalg.norm(v)
    return SimpleNamespace(concepts=concepts, kinds=kinds, record_concept_vector=vector,
                           record_concept_vectors=lambda rows: np.stack([vector(int(r)) for r in rows]))


def test_concept_support_counts_the_questions_concepts_for_people():
    index = _support_world()
    scores = np.array([1.0, 0.9, 0.0, 0.0, 0.0], np.float32)
    hit = [SimpleNamespace(index=0)]
    plain = entities.concept_support(index, scores, 4.0)
    with knobs.overridden({"support_focus_floor": 0.5}):
        focused = entities.concept_support(index, scores, 4.0, hit)
    assert plain[2] > plain[3]                 # without the question's concepts the broad profile wins
    assert focused[3] > focused[2]             # with them, the expert on the question's topic wins
    default = entities.concept_support(index, scores, 4.0, hit)
    assert default[2] < plain[2] and default[3] == pytest.approx(plain[3])  # only other topics count less
    narrower = [SimpleNamespace(index=4)]      # a question on a narrower concept keeps its broader one whole
    assert entities.concept_support(index, scores, 4.0, narrower)[3] == pytest.approx(plain[3])
    with knobs.overridden({"support_focus_floor": 1.0}):
        assert np.allclose(entities.concept_support(index, scores, 4.0, hit), plain)
