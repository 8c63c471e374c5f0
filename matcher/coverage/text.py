"""Dutch text of the coverage report: the one-line reason of a blind spot."""
from __future__ import annotations

from .results import ExpertStrength, GroupStrength


def plural(n: int, one: str, many: str) -> str:
    """'1 vraag' / '3 vragen': N with the singular or plural noun."""
    return f"{n} {one if n == 1 else many}"


def why_line(demand: int, n_sources: int, away: list[ExpertStrength], faint: list[ExpertStrength],
             groups: list[GroupStrength]) -> str:
    """One Dutch line: how much demand and knowledge, and what expert coverage there is.

    AWAY are unavailable experts that would cover the topic, FAINT available experts with weak coverage
    from their own profile, GROUPS theme groups naming the topic (strongest first).
    Example: "3 vragen, 2 bronnen, geen expert; alleen themagroep Inclusie noemt het".
    """
    head = []
    if demand:
        head.append(plural(demand, "vraag", "vragen"))
    head.append(plural(n_sources, "bron", "bronnen"))
    if away:
        names = ", ".join(e.name for e in away[:2])
        tail = (f"alleen een niet-beschikbare expert ({names})" if len(away) == 1
                else f"alleen niet-beschikbare experts ({names})")
    elif faint:
        tail = f"geen expert, alleen zwakke dekking ({', '.join(e.name for e in faint[:2])})"
    else:
        tail = "geen expert"
    if groups:
        g = groups[0]
        name = g.name if g.name.lower().startswith("themagroep") else f"themagroep {g.name}"
        state = "" if g.active else " (gestopt)"
        tail += f"; alleen {name}{state} noemt het" if len(groups) == 1 else \
            f"; alleen themagroepen noemen het ({', '.join(t.name for t in groups[:2])})"
    return ", ".join(head) + ", " + tail
