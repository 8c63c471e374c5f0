"""Storing a consented intake question: the one place the page view, the follow-up form and the API use.

A question is stored only with the participant's consent (the callers check it);
``AppStore.add_intake`` scrubs e-mail addresses and phone numbers before writing.
"""
from __future__ import annotations

from matcher.results import MatchResult

from indexer.errors import InvalidInput

from .services import services


def embed_for_store(text: str):
    """``(vector, embedder name)`` of the scrubbed question, kept with it so coverage need not embed it again."""
    engine = services().engine
    return engine.embed_query(text), engine.embedder.name


def store_intake(result: MatchResult | None, answers: dict[str, str] | None = None, question: str = "") -> int:
    """Store a consented question with its general question, clarification answers and level-1 concepts.

    ``result`` is the match shown to the participant; without one (a follow-up request sent
    before any match was stored) only ``question`` is stored. Returns the intake id.
    Raises ``InvalidInput`` (from the store) on bad input.
    """
    store = services().store
    if result is None:
        return store.add_intake(question, answers=answers, embed=embed_for_store)
    g = result.general
    return store.add_intake(result.question, g.question if g else "", answers, result_concepts(result),
                            embed=embed_for_store)


def result_concepts(result: MatchResult) -> list[str]:
    """The level-1 concept labels of a MatchResult (what intakes and feedback keep)."""
    g = result.general
    return [c.label for c in g.concepts if c.level == 1] if g else []


def question_concepts(question: str) -> list[str]:
    """The level-1 concept labels of a question, for feedback stored without the question; [] when the
    question cannot be matched (empty, too long, no words)."""
    try:
        return result_concepts(services().engine.match(question, top=1, clarify=False))
    except InvalidInput:
        return []
