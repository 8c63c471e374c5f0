"""Every ranking constant of the matcher, named once, with its default and the reason for it.

The ranking modules read the current value at call time (``K.rrf_k``), so an
evaluation can run with a value changed (``schakel eval --set rrf_k=60``) and
a sweep can try several (``--sweep rrf_k=20,30,60``) without editing code.
Values are process-wide: ``overridden`` is for evaluation runs in one thread;
the web service never changes them. Caches that a ranking module attaches to a
loaded index (e.g. the weighted links) are built from the values current at
the first query, so an evaluation loads a fresh ``Engine`` per setting.

The environment variable ``SCHAKEL_KNOBS`` ("NAME=VALUE NAME=VALUE ...",
spaces or commas between) sets knobs for a whole process, e.g. a ``schakel
serve`` measured through ``/api/match`` as BM25-only:
``SCHAKEL_KNOBS="fusion=bm25 entity_strength=0 use_general=false concept_support=0"``.
A bad name or value there stops the process at start-up with a message naming it.

A knob's ``used_in`` names the module that reads it; its reason says what it
does and, where it was measured, on what.
"""
from __future__ import annotations

import difflib
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from indexer.errors import InvalidInput


@dataclass(frozen=True)
class Knob:
    name: str
    default: float | int | str | bool
    reason: str
    used_in: str
    choices: tuple[str, ...] = ()


KNOBS: tuple[Knob, ...] = (
    # --- fusion and query (engine, retrieval) ---
    Knob("fusion", "weighted", "how lexical and dense record scores combine: weighted sum of normalised scores, "
         "or reciprocal rank fusion", "engine", ("weighted", "rrf", "bm25", "dense")),
    Knob("dense_weight", 0.5, "share of the dense (e5) score in the weighted fusion; the rest is BM25", "engine"),
    Knob("dense_coverage_ramp", 0.5, "below this vocabulary coverage of the question (idf share of its stems the "
         "corpus knows) the dense weight rises linearly to 1 at coverage 0; 0 = off. Swept 0/0.35/0.5 on both dev "
         "worlds: 0.5 lifts English and typo questions (dev-eval-2 English nDCG@5 0.745 -> 0.849)", "engine"),
    Knob("use_general", True, "search with the question's concepts too (terms and vectors), not only its words",
         "engine"),
    Knob("expansion_weight", 0.35, "BM25 weight of concept terms added from the general question, against 1.0 for "
         "the asker's own words", "engine"),
    Knob("expansion_terms", 6, "label and synonyms per concept added to the BM25 query", "engine"),
    Knob("concept_vector_weight", 0.6, "weight of the concepts' mean vector added to the question vector", "engine"),
    Knob("entity_strength", 1.25, "how much linked work (Model 2 propagation) adds to experts, groups and sources",
         "engine"),
    Knob("concept_support", 4.0, "experts, groups, literature and products gain from top documents sharing their "
         "concepts, without an explicit link", "engine"),
    Knob("evidence_gate", True, "a question whose topic the corpus does not hold (no record matches its or its "
         "concepts' words, and its best passage is as close as nonsense queries get) gets no recommended match: "
         "dense z-scores otherwise turn random closeness into a confident match (bug case 09)", "engine"),
    Knob("evidence_sd", 3.0, "... where the null range ends: its mean plus this many standard deviations", "topic"),
    Knob("min_relative", 0.12, "drop matches below this share of the best score of their kind", "engine"),
    Knob("min_absolute", 0.05, "drop matches below this fused score", "engine"),
    Knob("core_min_lexical", 0.8, "a concept found by its words at least this strongly is a core concept "
         "(blind-spot check: no expert covers it)", "engine"),
    Knob("feedback_depth", 8, "best records of the first pass whose concepts feed concept detection "
         "(pseudo-relevance feedback)", "engine"),
    Knob("dense_k", 400, "passages asked from the vector index per query; the rest get a floor score", "retrieval"),
    Knob("dense_missing_gap", 0.05, "passages outside the dense top k score this much below the lowest found",
         "retrieval"),
    Knob("rrf_k", 30, "k of reciprocal rank fusion, 1 / (k + rank) (Cormack et al. 2009 use 60)", "retrieval"),
    Knob("passage_dense_weight", 2.0, "weight of the cosine against normalised BM25 when choosing a record's best "
         "passage to show", "retrieval"),
    Knob("dense_z_scale", 3.0, "dense scores become (cosine z-score) / this before fusion ...", "retrieval"),
    Knob("dense_z_cap", 1.5, "... clipped to 0..this, so one very close passage cannot dominate", "retrieval"),
    # --- entities: Model 2 association weights p(d|e) (Balog, Azzopardi & De Rijke 2006) ---
    Knob("link_expert_member_of", 0.30, "an expert gains from the theme groups they belong to", "entities"),
    Knob("link_expert_contact_of", 0.40, "an expert gains from the group they are the contact of", "entities"),
    Knob("link_expert_author_of", 0.40, "an expert gains from what they wrote or made", "entities"),
    Knob("link_expert_mentioned_in", 0.20, "an expert gains from documents that name them", "entities"),
    Knob("link_themegroup_made", 0.35, "a theme group gains from its products", "entities"),
    Knob("link_themegroup_contact", 0.30, "a theme group gains from its contact expert", "entities"),
    Knob("link_themegroup_has_member", 0.25, "a theme group gains from its members", "entities"),
    Knob("link_product_made_by", 0.30, "a product gains from the group that made it", "entities"),
    Knob("link_literature_cited_by", 0.35, "literature gains from Kennisrotonde answers that cite it", "entities"),
    Knob("link_literature_same_as_of", 1.0, "a corpus record takes its derived twin's evidence in full", "entities"),
    Knob("link_kennisrotonde_cites", 0.0, "an answer gains from the literature it cites; off: measured 0.15 vs 0 on both "
         "dev worlds, dev-eval unchanged (KR nDCG@5 0.947), dev-eval-2 KR 0.851 -> 0.861 (each half equal or better): "
         "a cited study is broader than the question an answer was written for", "entities"),
    Knob("link_decay", 0.5, "the strongest link counts fully, the next ones with weight decay^i", "entities"),
    Knob("link_max", 4, "links per record that add to its score", "entities"),
    Knob("inactive_factor", 0.65, "score factor for unavailable experts and stopped groups, applied after all "
         "evidence: an active record with up to 35% less evidence ranks above them. Swept 0.5/0.65/0.8 on both dev "
         "worlds: 0.65 equal to 0.8 on every half (dev-eval-2 even 0.856 -> 0.857), 0.5 loses (0.877 / 0.779); in the "
         "demo 0.8 let an unavailable expert with 1.46x the evidence of the best active one rank first", "entities"),
    Knob("link_spread_power", 0.5, "a document associated with n candidates of a kind lends each 1/n**power "
         "(Model 2's document-centric p(e|d)): a hub report naming fourteen people lends each a quarter", "entities"),
    Knob("doc_prior_span", 2.0, "document prior: a record may span this times the median number of concepts "
         "before what it lends to linked people and groups drops (sqrt of the ratio)", "entities"),
    Knob("link_doc_cap", 0.5, "most one linked record adds to a candidate before decay (fused scores run "
         "0..~1.5), so one document cannot carry a candidate alone", "entities"),
    Knob("support_focus_floor", 0.85, "concept support for experts and theme groups counts the top documents' "
         "concepts outside the question's own (and their broader and narrower ones) at this weight: a broad "
         "profile shares many concepts with the top documents, few of them what the question is about; "
         "1 = off. Measured 0.5/0.7/0.85/1 on both worlds with the revised thesaurus (0.5 was best before it)", "entities"),
    Knob("support_doc_depth", 8, "top documents whose concepts give concept support", "entities"),
    Knob("support_doc_share", 0.5, "only documents scoring at least this share of the best give support",
         "entities"),
    Knob("support_candidates", 400, "records considered for concept support on large corpora", "entities"),
    # --- concepts in the question (concepts, generalise) ---
    Knob("concept_min_score", 0.30, "a concept below this detection score is not a concept of the question",
         "concepts"),
    Knob("concept_min_unnamed", 0.4, "a concept the question does not name by its words (embedding and feedback "
         "only) needs at least this detection score, else the engine abstains (calibrated on both dev worlds: "
         "below ~0.45 two of three such top concepts were wrong, as were the off-topic questions' 0.32-0.52). "
         "Swept 0.3/0.4/0.45/0.5: concept hit@3 dev-eval .825/.850/.800/.775, dev-eval-2 .610/.623/.610/.571, "
         "nDCG@5 and expert R@5 equal or better from 0.4", "concepts"),
    Knob("concept_top", 8, "concepts kept per question", "concepts"),
    Knob("concept_dense_factor", 0.22, "score per z-unit of embedding similarity above concept_dense_z", "concepts"),
    Knob("concept_dense_z", 1.5, "embedding similarity counts from this z-score up", "concepts"),
    Knob("concept_prf", 0.8, "weight of pseudo-relevance feedback (the concept occurs in the best records)",
         "concepts"),
    Knob("concept_prf_z", 1.0, "feedback counts fully when the concept's embedding z-score exceeds this or its "
         "words occur ...", "concepts"),
    Knob("concept_prf_unconfirmed", 0.5, "... and with this factor otherwise", "concepts"),
    Knob("unconfirmed_dense", 0.7, "factor for a concept found by embedding alone, unconfirmed by words or records; "
         "measured on both dev halves: equal or better, fewer stray concepts", "concepts"),
    Knob("concept_passage_share", 0.5, "share of passage-level feedback (concepts named in the question's best "
         "passages) against record-level feedback (concepts of the best records) in concept detection. Swept "
         "0/0.5/1 on both dev worlds: 0.5 raises concept hit@3 on both, 1 costs theme-group top 3", "concepts"),
    Knob("concept_tag_confirm", 0.45, "feedback for a concept the question does not name counts fully (as if "
         "confirmed by embedding) when at least this score-weighted share of the best first-pass records name it "
         "in their tags, their authors' own keywords. Measured 0.3/0.4/0.5/0.6 on both worlds", "concepts"),
    Knob("concept_passage_depth", 5, "best first-pass passages whose concepts feed concept detection; 0 = records only",
         "concepts"),
    Knob("concept_passage_temp", 0.02, "softmax temperature (cosine units) weighting those passages", "concepts"),
    Knob("concept_passage_lexical", 0.03, "normalised BM25 added to the cosine when choosing those passages (a "
         "cosine spread of ~0.05 separates the best passages); 0 vs 0.03 on dev-eval-2: concept hit@3 0.545 -> 0.584",
         "concepts"),
    Knob("concept_lexical_z", 1.0, "a concept named by its words counts fully when its embedding z-score is at least "
         "this ...", "concepts"),
    Knob("concept_lexical_unconfirmed", 0.5, "... and with this factor otherwise: a word of a long question that "
         "happens to name a concept ('begeleiding') no longer outranks the concept the question is about. "
         "1/0.7/0.5 on dev-eval-2: concept hit@3 0.545/0.558/0.571, dev-eval equal", "concepts"),
    Knob("narrower_preference", 0.8, "score factor for a concept whose narrower concept matches the same words",
         "concepts"),
    Knob("max_concepts", 3, "concepts in the general question", "generalise"),
    Knob("concept_keep_ratio", 0.3, "a further concept joins the general question only above this share of the "
         "first one's score. With calibrated abstention (concept_min_unnamed) weak stray concepts are already "
         "out; swept 0.45/0.35/0.3/0.25: concept hit@3 dev-eval .850/.850/.875/.875, dev-eval-2 .623/.623/.636/.623, "
         "nDCG@5 and expert R@5 within noise", "generalise"),
    Knob("unnamed_expansion", 0.5, "expansion weight factor for a chosen concept the question does not name by its "
         "words (found by embedding and feedback): its terms and vector add half, so a rare word of the asker still "
         "leads. 1 vs 0.5 on dev-eval-2: nDCG@5 .787/.786, expert R@5 .663/.671; dev-eval equal", "generalise"),
    Knob("broader_weight", 0.5, "expansion weight of broader concepts (ladder level 2)", "generalise"),
    Knob("theme_weight", 0.4, "expansion weight of the top concept of the tree (ladder level 3)", "generalise"),
    Knob("similar_min_score", 0.85, "cosine from which a Kennisrotonde question is shown as a similar question",
         "generalise"),
    # --- clarification ---
    Knob("vague_threshold", 2.0, "vagueness score (short, broad concepts, vague words, few facets) from which "
         "clarifying questions are asked", "clarify"),
)

BY_NAME: dict[str, Knob] = {k.name: k for k in KNOBS}
#: (record kind, relation as seen from the record) -> knob of its Model 2 weight
RELATIONS: dict[tuple[str, str], str] = {
    ("expert", "member_of"): "link_expert_member_of", ("expert", "contact_of"): "link_expert_contact_of",
    ("expert", "author_of"): "link_expert_author_of", ("expert", "mentioned_in"): "link_expert_mentioned_in",
    ("themegroup", "made"): "link_themegroup_made", ("themegroup", "contact"): "link_themegroup_contact",
    ("themegroup", "has_member"): "link_themegroup_has_member", ("product", "made_by"): "link_product_made_by",
    ("literature", "cited_by"): "link_literature_cited_by",
    ("literature", "same_as_of"): "link_literature_same_as_of",
    ("kennisrotonde", "cites"): "link_kennisrotonde_cites",
}
_current: dict[str, Any] = {k.name: k.default for k in KNOBS}


class _Values:
    """The current knob values as attributes: ``K.rrf_k``. An unknown name raises AttributeError."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return _current[name]
        except KeyError:
            raise AttributeError(f"no ranking knob named {name!r}") from None


K = _Values()


def relation_weights() -> dict[tuple[str, str], float]:
    """p(d|e) per (record kind, relation), from the current knob values."""
    return {pair: _current[name] for pair, name in RELATIONS.items()}


def current() -> dict[str, Any]:
    """A copy of all current values."""
    return dict(_current)


def changed() -> dict[str, Any]:
    """The knobs whose current value differs from the default."""
    return {n: v for n, v in _current.items() if v != BY_NAME[n].default}


def convert(name: str, text: str | Any) -> Any:
    """``text`` as a value of knob ``name``, typed like its default.

    Raises ``InvalidInput`` naming the knob for an unknown name (with close names) or a bad value."""
    knob = BY_NAME.get(name)
    if knob is None:
        close = difflib.get_close_matches(name, BY_NAME, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `schakel eval --knobs` lists them"
        raise InvalidInput(f"unknown ranking knob {name!r}{hint}", field="--set")
    if not isinstance(text, str):
        text = str(text)
    t = text.strip()
    try:
        if isinstance(knob.default, bool):
            if t.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return t.lower() in ("true", "1", "yes")
        if isinstance(knob.default, int):
            return int(t)
        if isinstance(knob.default, float):
            return float(t)
    except ValueError:
        kind = type(knob.default).__name__
        raise InvalidInput(f"knob {name}: {text!r} is not a {kind} (default {knob.default!r})", field="--set") from None
    if knob.choices and t not in knob.choices:
        raise InvalidInput(f"knob {name}: {text!r} is not one of {', '.join(knob.choices)}", field="--set")
    return t


def parse_assignment(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` -> (name, typed value); raises ``InvalidInput`` for anything else."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise InvalidInput(f"{text!r} is not NAME=VALUE", field="--set")
    return name.strip(), convert(name.strip(), value)


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """``NAME=v1,v2,...`` -> (name, typed values); raises ``InvalidInput`` for anything else."""
    name, sep, values = text.partition("=")
    parts = [v for v in values.split(",") if v.strip()]
    if not sep or not name.strip() or not parts:
        raise InvalidInput(f"{text!r} is not NAME=v1,v2,...", field="--sweep")
    return name.strip(), [convert(name.strip(), v) for v in parts]


ENV = "SCHAKEL_KNOBS"
#: the knob values of the full system's two baselines (as ``matcher.engine.BASELINES`` builds them)
BASELINE_VALUES = {"bm25": {"fusion": "bm25", "entity_strength": 0.0, "use_general": False, "concept_support": 0.0},
                   "dense": {"fusion": "dense", "entity_strength": 0.0, "use_general": False, "concept_support": 0.0}}


def from_env(text: str | None = None) -> dict[str, Any]:
    """Knob values from ``SCHAKEL_KNOBS`` (or ``text``); ``InvalidInput`` naming the variable otherwise."""
    text = os.environ.get(ENV, "") if text is None else text
    try:
        return dict(parse_assignment(a) for a in text.replace(",", " ").split())
    except InvalidInput as exc:
        raise InvalidInput(f"{ENV}: {exc.message}", field=ENV) from None


@contextmanager
def overridden(values: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Run a block with some knobs set (values converted as by ``convert``); restored afterwards."""
    typed = {n: convert(n, v) if isinstance(v, str) else v for n, v in values.items()}
    for n in typed:
        convert(n, typed[n])   # checks the name and the type of non-text values
    saved = dict(_current)
    _current.update(typed)
    try:
        yield typed
    finally:
        _current.clear()
        _current.update(saved)


def knob_field(name: str):
    """A dataclass field whose default is knob ``name``'s value when the object is made."""
    from dataclasses import field

    if name not in BY_NAME:
        raise KeyError(name)
    return field(default_factory=lambda: _current[name])


_current.update(from_env())
