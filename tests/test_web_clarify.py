"""Clarification on the participant pages: options fit their facet, "geen voorkeur" undoes a choice, an
own-words answer is used, and the answers are shown on the results page and can be changed."""
from __future__ import annotations

import re

from markupsafe import escape

from matcher.clarify import OPTIONS, QUESTIONS


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_goal_options_are_goals_not_topics(demo_engine):
    result = demo_engine.match("Hoe zet ik video in?")
    doel = [c for c in result.clarify if c.facet == "doel"]
    assert doel and doel[0].options == OPTIONS["doel"]
    labels = {c.label.lower() for c in demo_engine.index().concepts}
    assert not labels & {o.lower() for o in doel[0].options}


def test_answers_shown_changeable_and_undone(web_client):
    token = _token(web_client.get("/").get_data(as_text=True))
    base = {"csrf_token": token, "question": "Hoe zet ik video in?", "step": "answered"}
    page = web_client.post("/vraag", data={**base, "answer-doelgroep": "eerstejaars",
                                           "answer-doel-text": "minder uitval bij bbl"}).get_data(as_text=True)
    given = re.search(r'<form method="post" action="/vraag" class="given-answers">(.*?)</form>', page, re.S).group(1)
    assert "eerstejaars" in given and "minder uitval bij bbl" in given  # own words are used
    change = web_client.post("/vraag", data={**base, "step": "change", "answer-doelgroep-text": "eerstejaars"})
    html = change.get_data(as_text=True)
    assert "Wijzig je antwoorden" in html and str(escape(QUESTIONS["doelgroep"])) in html
    assert re.search(r'value="eerstejaars" checked', html) and 'value="geen voorkeur"' in html
    undone = web_client.post("/vraag", data={**base, "answer-doelgroep": "geen voorkeur"}).get_data(as_text=True)
    assert 'class="given-answers"' not in undone
