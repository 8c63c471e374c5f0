"""A question on its way through the matcher: the checked input, the ranking options, and what
each step of ``Engine.match`` adds (prepare, understand, retrieve, rank, explain, clarify)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from indexer.errors import InvalidInput
from indexer.thesaurus import Concept

from . import clarify as clarify_mod
from .knobs import BASELINE_VALUES, knob_field
from .concepts import ConceptHit
from .results import General
from .retrieval import RecordScores

MAX_ANSWER_CHARS = 200


@dataclass
class Options:
    """Ranking options; defaults are the current values of the knobs (``matcher.knobs``) of the same
    name (``method`` is the knob ``fusion``). ``schakel eval`` runs the full system and its baselines
    through these."""

    method: str = knob_field("fusion")   # weighted | rrf | bm25 | dense
    dense_weight: float = knob_field("dense_weight")
    entity_strength: float = knob_field("entity_strength")
    expansion_weight: float = knob_field("expansion_weight")
    concept_vector_weight: float = knob_field("concept_vector_weight")
    use_general: bool = knob_field("use_general")
    concept_support: float = knob_field("concept_support")
    min_relative: float = knob_field("min_relative")
    min_absolute: float = knob_field("min_absolute")


class _Systems(Mapping):
    """The full system and its baselines, built from the knob values current when looked up."""

    CHANGES = {"full": {}, **{name: {("method" if k == "fusion" else k): v for k, v in values.items()}
                              for name, values in BASELINE_VALUES.items()}}

    def __getitem__(self, name: str) -> Options:
        return Options(**self.CHANGES[name])

    def __iter__(self):
        return iter(self.CHANGES)

    def __len__(self) -> int:
        return len(self.CHANGES)


BASELINES = _Systems()


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
    grounded: bool = True            # False: the topic is known, but nothing in the corpus is on it (``topic``)
    asked: RecordScores | None = None  # evidence for the question as asked (no concepts), when generalising
    scores: RecordScores | None = None
    own: np.ndarray | None = None
    final: np.ndarray | None = None
    via: dict[str, list[str]] = field(default_factory=dict)

    @property
    def chosen_level(self) -> int:
        """The ladder level used for retrieval: 1 (the question's concepts) unless asked otherwise."""
        return 1 if self.level is None else self.level


def checked_input(question, answers=None, top=None, level=None, max_chars: int = 2000,
                  default_top: int = 5) -> tuple[str, dict[str, str], int, int | None]:
    """The match input checked and normalised: (question, answers, top, level).

    Whitespace is collapsed; answers are limited to ``MAX_ANSWER_CHARS`` characters and empty
    ones dropped. Raises ``InvalidInput`` naming the field for a question that is not a text,
    empty, longer than ``max_chars`` characters (the setting ``max_question_chars``) or without
    letters; for unknown facets
    or non-text answers; for ``top`` outside 1..50 and ``level`` outside 0..3.
    """
    if not isinstance(question, str):
        raise InvalidInput("'question' must be a text", field="question")
    question = " ".join(question.split())
    if not question:
        raise InvalidInput("the question is empty: type a practice question", field="question")
    limit = max_chars
    if len(question) > limit:
        raise InvalidInput(f"the question has {len(question)} characters; at most {limit} are accepted",
                           field="question")
    if not any(c.isalpha() for c in question):
        raise InvalidInput("the question has no words", field="question")
    answers = _checked_answers(answers)
    top = default_top if top is None else top
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
