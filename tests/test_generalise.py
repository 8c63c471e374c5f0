"""matcher.generalise: intent of a question and the wording of the general question."""
from __future__ import annotations

import pytest

from matcher.generalise import general_question, intent


@pytest.mark.parametrize("question, expected", [
    ("Welke themagroep werkt aan formatief evalueren?", "group"),
    ("Is er een netwerk waar ik kan aansluiten over hybride lesgeven?", "group"),
    ("Wie heeft ervaring met peerfeedback in grote groepen?", "who"),
    ("Is there anyone who can help with AI in assessment?", "who"),
    ("Wat is bekend over het effect van kennisclips?", "what"),
    ("Mag een student ChatGPT gebruiken bij de beroepsopdracht?", "rules"),
    ("Hoe richt ik de begeleiding van eerstejaars in?", "how"),
    ("Welke opdracht geef ik voor groepswerk, en hoe beoordeel ik dat?", "how"),
])
def test_intent(question, expected):
    assert intent(question) == expected


def test_general_question_per_intent_names_every_concept():
    for kind in ("group", "who", "what", "rules", "how"):
        q = general_question(["formatief evalueren", "peerfeedback"], kind)
        assert "formatief evalueren" in q and "peerfeedback" in q and q.endswith("?")
    assert general_question([], "how") == ""
