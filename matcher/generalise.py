"""Lift a practice question to a general one: the abstraction ladder.

From the question: leave out the specifics, map it to thesaurus concepts (by
words and by embedding), climb to broader concepts, and write a grammatical
Dutch general question at each level. Level 0 is the question as asked,
level 1 its concepts, level 2 their broader concepts, level 3 the theme.
"""
from __future__ import annotations

import re

import numpy as np

from indexer.analysis import fold
from indexer.thesaurus import Concept

from . import specifics
from .concepts import ConceptHit
from .knobs import K
from .loaded import LoadedIndex
from .results import ConceptRef, General
from .topk import top_k

LEVEL_NAMES = {0: "je vraag", 1: "het onderwerp", 2: "breder", 3: "het thema"}

#: The general question when no thesaurus concept is confident enough (``concepts.confident``): the engine
#: says so and keeps the asker's words (without specifics) instead of naming the nearest wrong concept.
NO_CONCEPT = ("De thesaurus heeft geen begrip dat zeker genoeg bij deze vraag past. "
              "Schakel zoekt daarom met je eigen woorden: ‘{words}’")

# The general question of a question without a topic (``matcher.topic.has_topic``): nothing was searched with
# its words, so it does not claim to.
NO_TOPIC_GENERAL = "Schakel vond in deze vraag geen onderwerp om algemener te stellen."


def intent(question: str) -> str:
    """What the asker wants, from the wording: 'group' (a theme group or network to join), 'who'
    (a person), 'what' (what is known, evidence), 'rules' (what is allowed) or 'how' (default)."""
    q = fold(question)
    if re.search(r"\b(themagroep\w*|groep|groepen|netwerk|community|group|network)\b(?! ?(work|werk|opdracht)\b)", q) and \
            re.search(r"\b(welke|is er|zijn er|waar kan|bij welke|aansluiten|aan te sluiten|join|is there|any)\b", q):
        return "group"
    if re.search(r"\b(wie|iemand|anyone|who|ervaring mee|ervaring heeft|kan ons helpen|can help|advise)\b", q):
        return "who"
    if re.search(r"\b(wat weten|wat is bekend|wat zegt|onderzoek naar|what is known|evidence|levert .* op|"
                 r"werkt het|effect)\b", q):
        return "what"
    if re.search(r"\b(mag|mogen|toegestaan|regels?|wet|oer|allowed)\b", q):
        return "rules"
    return "how"


def _join(labels: list[str]) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " en " + labels[-1]


def general_question(labels: list[str], kind: str, context: str | None = None) -> str:
    """A grammatical Dutch general question about the concept ``labels`` for an ``intent`` kind, in
    the sector ``context`` ('mbo', 'hbo') when given; '' without labels."""
    if not labels:
        return ""
    main = _join(labels)
    where = f" in het {context}" if context else " in het onderwijs"
    if any(w in main for w in ("onderwijs", "opleiding", "school", " mbo", " hbo")):
        where = ""
    if kind == "group":
        return f"Welke themagroep of welk netwerk werkt aan {main}?"
    if kind == "who":
        return f"Wie heeft kennis van en ervaring met {main}{where}?"
    if kind == "what":
        return f"Wat is bekend over {main}{where}, en wat werkt?"
    if kind == "rules":
        return f"Welke afspraken en regels gelden bij {main}{where}, en hoe bewaak je de kwaliteit?"
    # "op het gebied van" takes a bare label in good Dutch, whatever its article would be
    if len(labels) == 1:
        return f"Wat werkt op het gebied van {main}{where}, en hoe pak je dat aan?"
    return f"Wat werkt op het gebied van {labels[0]}{where}, met aandacht voor {_join(labels[1:])}?"


def sector(question: str) -> str | None:
    """'mbo' or 'hbo' when the question names the sector, else None."""
    q = fold(question)
    for name in ("mbo", "hbo"):
        if re.search(rf"\b{name}\b", q):
            return name
    return None


def choose_concepts(hits: list[ConceptHit]) -> list[ConceptHit]:
    """Top concepts (at most the knob ``max_concepts``), without a concept whose narrower concept is
    already chosen; a further concept needs ``concept_keep_ratio`` of the first one's score."""
    chosen: list[ConceptHit] = []
    for h in hits:
        if len(chosen) >= K.max_concepts:
            break
        if any(h.concept.id in c.concept.broader for c in chosen):
            continue
        if chosen and h.score < K.concept_keep_ratio * chosen[0].score:
            break
        chosen.append(h)
    return chosen


def broader_of(index: LoadedIndex, concepts: list[Concept]) -> list[Concept]:
    """The first broader concept of each concept, without repeats or the concepts themselves."""
    out: list[Concept] = []
    for c in concepts:
        for b in c.broader[:1]:
            bc = index.concept_by_id.get(b)
            if bc and bc not in out and bc not in concepts:
                out.append(bc)
    return out


def top_of(index: LoadedIndex, c: Concept) -> Concept:
    """The top of the concept's first-broader chain (the theme); safe against cycles."""
    seen = set()
    while c.broader and c.id not in seen:
        seen.add(c.id)
        nxt = index.concept_by_id.get(c.broader[0])
        if nxt is None:
            break
        c = nxt
    return c


def generalise(index: LoadedIndex, question: str, hits: list[ConceptHit], topic: bool = True) -> General:
    """The abstraction ladder of a question: specifics left out, level 1 its chosen concepts,
    level 2 their broader concepts, level 3 the themes, each as a general question in the
    question's intent; plus the organisation questions of the concepts. Without concepts (the
    engine abstained) the general question says so and keeps the asker's words (``no_concept``),
    and the ladder has only level 0. A question without a topic (``topic`` False: nothing is searched with it)
    gets ``NO_TOPIC_GENERAL`` instead."""
    concept_words = {fold(w) for h in hits for t in h.concept.terms() for w in t.split()}
    found = specifics.find(question, concept_words)
    dropped = [text for text, _ in found]
    chosen = choose_concepts(hits)
    kind = intent(question)
    ctx = sector(question)
    level1 = [h.concept for h in chosen]
    level2 = broader_of(index, level1) or level1
    level3 = []
    for c in level1:
        t = top_of(index, c)
        if t not in level3:
            level3.append(t)
    refs = [ConceptRef(h.concept.id, h.concept.label, 1, round(h.score, 3)) for h in chosen]
    refs += [ConceptRef(c.id, c.label, 2) for c in level2 if c not in level1]
    refs += [ConceptRef(c.id, c.label, 3) for c in level3 if c not in level1 and c not in level2]
    ladder = [{"level": 0, "name": LEVEL_NAMES[0], "question": question, "concepts": []}]
    for lvl, cs in ((1, level1), (2, level2), (3, level3)):
        if not cs:
            continue
        labels = [c.label for c in cs][:K.max_concepts]
        q = general_question(labels, kind, ctx)
        if q and q != ladder[-1]["question"]:
            ladder.append({"level": lvl, "name": LEVEL_NAMES[lvl], "question": q, "concepts": labels})
    if len(ladder) > 1:
        general_q = ladder[1]["question"]
    else:
        general_q = no_concept(question, found) if topic else NO_TOPIC_GENERAL
    organisation = []
    seen_org = set()
    for c in level1 + [h.concept for h in hits[:5] if h.concept.group == "organisatie"]:
        ids = list(c.organisation) + ([c.id] if c.group == "organisatie" else [])
        for oid in ids:
            oc = index.concept_by_id.get(oid)
            if oc and oid not in seen_org:
                seen_org.add(oid)
                organisation.append({"id": oc.id, "label": oc.label,
                                     "question": f"Hoe is {oc.label} geregeld?" if not oc.definition else
                                     f"{oc.label[0].upper() + oc.label[1:]}: {oc.definition}"})
    return General(question=general_q, concepts=refs, ladder=ladder, dropped=dropped,
                   organisation=organisation[:5], similar=[])


def no_concept(question: str, found) -> str:
    """The general question without any concept (``NO_CONCEPT``): a Dutch statement that the thesaurus
    has no concept for it, with the question's own words, its specifics (``found``: (text, kind) pairs
    from ``specifics.find``) taken out."""
    text = question
    for item, _ in found:
        text = re.sub(r"\s*\b(bij|in|met|via|op|van)?\s*" + re.escape(item), "", text)
    words = " ".join(text.split()) or question.strip()
    return NO_CONCEPT.format(words=words)


def expansion_concepts(index: LoadedIndex, hits: list[ConceptHit], level: int) -> list[tuple[Concept, float]]:
    """Concepts whose terms and vectors join retrieval at the chosen level of the ladder."""
    if level <= 0 or not hits:
        return []
    chosen = choose_concepts(hits)
    out = [(h.concept, min(1.0, h.score) * (1.0 if h.lexical > 0 else K.unnamed_expansion)) for h in chosen]
    if level >= 2:
        out += [(c, K.broader_weight) for c in broader_of(index, [h.concept for h in chosen])]
    if level >= 3:
        for h in chosen:
            t = top_of(index, h.concept)
            if all(t.id != c.id for c, _ in out):
                out.append((t, K.theme_weight))
    return out


def similar_questions(index: LoadedIndex, qv: np.ndarray | None, question: str, limit: int = 3,
                      min_score: float | None = None) -> list[dict]:
    """Kennisrotonde questions close to this one by meaning (the answers' first passages);
    ``min_score`` defaults to the knob ``similar_min_score``."""
    min_score = K.similar_min_score if min_score is None else min_score
    rows, matrix = index.answer_vectors
    if qv is None or not rows:
        return []
    sims = matrix @ qv
    order = top_k(sims, limit)
    return [{"id": rows[i].id, "question": rows[i].fields.get("question", rows[i].title), "source": "kennisrotonde",
             "score": round(float(sims[i]), 3)} for i in order if sims[i] >= min_score]
