"""indexer.analysis: Dutch stems that keep distinct words apart and related forms together."""
from __future__ import annotations

import pytest

from indexer.analysis import stem


@pytest.mark.parametrize("a, b", [
    ("begeleiding", "beleid"),             # guidance is not policy
    ("studieloopbaanbegeleiding", "studieloopbaanbeleid"),
    ("gegevens", "geven"),                 # data is not giving
    ("hogeschool", "hoschool"),
    ("leergemeenschap", "leermeenschap"),
    ("vergelijken", "verlijken"),
])
def test_an_inner_ge_is_not_removed(a, b):
    assert stem(a) != stem(b)


@pytest.mark.parametrize("forms", [
    ("begeleiding", "begeleiden", "begeleid"),
    ("hogeschool", "hogescholen"),
    ("opgesteld", "opstellen"),           # a separable verb's participle keeps Snowball's ge-removal
    ("ingezet", "inzetten"),
    ("toets", "toetsen"),                 # the singular keeps its -s
    ("leergemeenschap", "leergemeenschappen"),
])
def test_related_forms_share_a_stem(forms):
    assert len({stem(w) for w in forms}) == 1, {w: stem(w) for w in forms}
