"""A question on its way through the matcher: the checked input, the ranking options, and what
each step of ``Engine.match`` adds (prepare, understand, retrieve, rank, explain, clarify)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from indexer import settings
from indexer.errors import InvalidInput
from indexer.thesaurus import Concept

from . import clarify as clarify_mod
from .concepts import ConceptHit
from .results import General
from .retrieval import RecordScores

MAX_ANSWER_CHARS = 200


@dataclass
class Options:
    """Ranking knobs; ``schakel eval`` runs the full system and its baselines through these."""

    method: str = "weighted"         # weighted | rrf | bm25 | dense
    dense_weight: float = 0.5
    entity_strength: float = 1.25
    expansion_weight: float = 0.35   # BM25 weight of concept terms from the general question
    concept_vector_weight: float = 0.6
    use_general: bool = True
    concept_support: float = 4.0     # experts/groups gain from top documents sharing their concepts
    min_relative: float = 0.12       # drop matches below this share of the best score of their kind
    min_absolute: float = 0.05


BASELINES = {
    "full": Options(),
    "bm25": Options(method="bm25", entity_strength=0.0, use_general=False, concept_support=0.0),
    "dense": Options(method="dense", entity_strength=0.0, use_general=False, concept_support=0.0),
}


@dataclass
class Query:
    """One practice question and everything the pipeline learns about it.

    Filled step by step: ``prepare`` sets the input fields, ``text``, ``vector`` (the e5 query
    embedding, shape (dim,), unit length; None for BM25-only) and ``tokens`` (analysed stems);
    ``understand`` sets ``hits``, ``topic``, ``general``, ``expansion`` and ``uncovered``; ``retrieve`` sets
    ``scores``; ``rank`` sets ``own`` and ``final`` (one score per record row, shape (n records,))
    and ``via``.
    """

    question: str
    answers: dict[str, str]
    top: int
    level: int | None
    options: Options
    text: str = ""
    vector: np.ndarray | None = None
    tokens: list[str] = field(default_factory=list)
    hits: list[ConceptHit] = field(default_factory=list)
    general: General | None = None
    expansion: list[tuple[Concept, float]] = field(default_factory=list)
    uncovered: list[Concept] = field(default_factory=list)
    topic: bool = True               # False: nothing in the question is found in this corpus (``topic``)
    scores: RecordScores | None = None
    own: np.ndarray | None = None
    final: np.ndarray | None = None
    via: dict[str, list[str]] = field(default_factory=dict)

    @property
    def chosen_level(self) -> int:
        """The ladder level used for retrieval: 1 (the question's concepts) unless asked otherwise."""
        return 1 if self.level is None else self.level


def checked_input(question, answers=None, top=None, level=None) -> tuple[str, dict[str, str], int, int | None]:
    """The match input checked and normalised: (question, answers, top, level).

    Whitespace is collapsed; answers are limited to ``MAX_ANSWER_CHARS`` characters and empty
    ones dropped. Raises ``InvalidInput`` naming the field for a question that is not a text,
    empty, longer than the ``max_question_chars`` setting or without letters; for unknown facets
    or non-text answers; for ``top`` outside 1..50 and ``level`` outside 0..3.
    """
    if not isinstance(question, str):
        raise InvalidInput("'question' must be a text", field="question")
    question = " ".join(question.split())
    if not question:
        raise InvalidInput("the question is empty: type a practice question", field="question")
    limit = settings.get("max_question_chars")
    if len(question) > limit:
        raise InvalidInput(f"the question has {len(question)} characters; at most {limit} are accepted",
                           field="question")
    if not any(c.isalpha() for c in question):
        raise InvalidInput("the question has no words", field="question")
    answers = _checked_answers(answers)
    top = settings.get("top") if top is None else top
    if not isinstance(top, int) or not 1 <= top <= 50:
        raise InvalidInput("'top' must be a whole number from 1 to 50", field="top")
    if level is not None and (not isinstance(level, int) or not 0 <= level <= 3):
        raise InvalidInput("'level' must be 0 (the question as asked) to 3 (most general)", field="level")
    return question, answers, top, level


def _checked_answers(answers) -> dict[str, str]:
    clean: dict[str, str] = {}
    if not answers:
        return clean
    if not isinstance(answers, dict):
        raise InvalidInput("'answers' must be an object of facet: answer", field="answers")
    for facet, value in answers.items():
        if facet not in clarify_mod.FACETS:
            raise InvalidInput(f"unknown facet {facet!r} in 'answers'; known: {', '.join(clarify_mod.FACETS)}",
                               field="answers")
        if not isinstance(value, str):
            raise InvalidInput(f"answer for {facet!r} must be a text", field="answers")
        value = " ".join(value.split())[:MAX_ANSWER_CHARS]
        if value:
            clean[facet] = value
    return clean
