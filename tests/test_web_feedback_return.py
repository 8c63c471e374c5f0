"""After 'nuttig / niet nuttig' the participant gets back to the same results (same answers, same stored intake)."""
from __future__ import annotations

import re


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_feedback_leads_back_to_the_same_results(web_client, web_app):
    store = web_app.extensions["schakel"].store
    html = web_client.get("/").get_data(as_text=True)
    res = web_client.post("/vraag", data={"csrf_token": _token(html), "question": "Hoe zet ik video in?",
                                          "consent": "ja", "step": "answered", "answer-doelgroep-text": "eerstejaars",
                                          "answer-opleiding/context-text": "zorg"})
    page = res.get_data(as_text=True)
    assert res.status_code == 200 and "Hulp bij je vraag" in page
    assert len(store.intakes()) == 1
    form = re.search(r'<form method="post" action="/feedback" class="feedback">(.*?)</form>', page, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    assert fields["answer-doelgroep-text"] == "eerstejaars" and fields["answer-opleiding/context-text"] == "zorg"
    assert fields["consent"] == "ja" and fields["level"] == "1"
    assert "intake_id" not in fields and len(fields["intake_token"]) >= 32  # the participant's token, not an id

    thanks = web_client.post("/feedback", data={**fields, "useful": "ja"}).get_data(as_text=True)
    assert "Dank je" in thanks and "Terug naar je resultaten" in thanks
    back = re.search(r'<form method="post" action="/vraag" class="actions">(.*?)</form>', thanks, re.S).group(1)
    back_fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', back))
    assert back_fields["question"] == "Hoe zet ik video in?" and back_fields["step"] == "answered"
    again = web_client.post("/vraag", data=back_fields).get_data(as_text=True)
    assert "Hulp bij je vraag" in again and f'name="intake_token" value="{fields["intake_token"]}"' in again
    assert len(store.intakes()) == 1  # the stored question is not stored twice
    assert 'value="zorg"' in again


def test_thanks_page_after_a_follow_up_has_no_way_back_form(web_client, web_app):
    html = web_client.get("/").get_data(as_text=True)
    res = web_client.post("/opvolging", data={"csrf_token": _token(html), "question": "Hoe zet ik video in?",
                                              "email": "a@example.org", "consent-followup": "ja"})
    assert res.status_code == 200 and "Terug naar je resultaten" not in res.get_data(as_text=True)
