"""Schakel matcher: a practice question in; experts, groups and sources with reasons out."""
from .engine import BASELINES, Engine, Options
from .results import Match, MatchResult

__all__ = ["Engine", "Options", "BASELINES", "Match", "MatchResult"]
