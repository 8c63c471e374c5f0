"""matcher.results: the JSON form of a result is what ``dataclasses.asdict`` makes of it, made faster."""
from __future__ import annotations

from collections import namedtuple
from dataclasses import asdict, dataclass, field

from matcher.results import plain

Pair = namedtuple("Pair", "a b")


@dataclass
class Inner:
    spans: list[tuple[int, int]]
    pair: Pair


@dataclass
class Outer:
    name: str
    score: float
    inner: list[Inner]
    details: dict = field(default_factory=dict)
    nothing: None = None


def test_plain_equals_asdict_and_copies_containers():
    details = {"themegroups": ["a", "b"], "nested": {"x": [1, 2.5, None, True]}, "t": (1, "x")}
    obj = Outer("n", 0.5, [Inner([(1, 2), (3, 4)], Pair(1, [2]))], details)
    got = plain(obj)
    assert got == asdict(obj)
    assert type(got["inner"][0]["pair"]) is Pair and type(got["details"]["t"]) is tuple
    got["details"]["themegroups"].append("c")
    got["inner"][0]["pair"].b.append(3)
    assert details["themegroups"] == ["a", "b"] and obj.inner[0].pair.b == [2]   # nothing shared


def test_result_json_is_the_asdict_form(demo_engine):
    from matcher.results import _match_json

    checked = 0
    for question in ("Hoe geef ik feedback op stageverslagen met een rubric?", "toetsing", "asdfgh qwerty"):
        result = demo_engine.match(question)
        body = result.to_json()
        assert body["general"] == (asdict(result.general) if result.general else None)
        assert body["clarify"] == [asdict(c) for c in result.clarify]
        for kind, matches in result.matches.items():
            for m, got in zip(matches, body["matches"][kind]):
                want = asdict(m)
                want["score"] = round(float(m.score), 4)
                for p in want["passages"]:
                    p["highlights"] = [list(h) for h in p["highlights"]]
                assert got == want == _match_json(m)
                assert list(got) == list(want) and [list(p) for p in got["passages"]] == [list(p) for p in want["passages"]]   # the JSON's key order
                checked += 1
    assert checked >= 5
