"""Feedback returns to the same results at the same match (anchor), with one thank-you; the follow-up
confirmation gives a reference, what happens next and a way back."""
from __future__ import annotations

import re


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _ask(web_client, **extra):
    html = web_client.get("/").get_data(as_text=True)
    return web_client.post("/vraag", data={"csrf_token": _token(html), "question": "Hoe zet ik video in?",
                                           "consent": "ja", "step": "answered", "answer-doelgroep-text": "eerstejaars",
                                           "answer-opleiding/context-text": "zorg", **extra})


def test_feedback_returns_to_the_same_match_with_one_thank_you(web_client, web_app):
    store = web_app.extensions["schakel"].store
    res = _ask(web_client)
    page = res.get_data(as_text=True)
    assert res.status_code == 200 and "Hulp bij je vraag" in page
    assert len(store.intakes()) == 1
    action, form = re.search(r'<form method="post" action="(/feedback#fb-m-[^"]+)" class="feedback">(.*?)</form>',
                             page, re.S).groups()
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    assert fields["answer-doelgroep-text"] == "eerstejaars" and fields["answer-opleiding/context-text"] == "zorg"
    assert fields["consent"] == "ja" and fields["level"] == "1"
    assert "intake_id" not in fields and len(fields["intake_token"]) >= 32  # the participant's token, not an id
    target = action.split("#", 1)[1]          # the question's line, which the thank-you then takes the place of
    assert f'id="{target}"' in page
    anchor = target.removeprefix("fb-")

    again = web_client.post("/feedback", data={**fields, "useful": "ja"}).get_data(as_text=True)
    assert "Hulp bij je vraag" in again and again.count("Dank je") == 1
    card = re.search(rf'<article [^>]*id="{anchor}".*?</article>', again, re.S).group(0)
    assert f'class="success" role="status" id="{target}"' in card and "Dank je" in card
    assert f'name="intake_token" value="{fields["intake_token"]}"' in again and 'value="zorg"' in again
    assert len(store.intakes()) == 1  # the stored question is not stored twice
    assert [r["useful"] for r in store.db.query("SELECT useful FROM feedback")] == [1]


def test_follow_up_confirmation_gives_reference_next_step_and_way_back(web_client, web_app):
    html = web_client.get("/").get_data(as_text=True)
    res = web_client.post("/opvolging", data={"csrf_token": _token(html), "question": "Hoe zet ik video in?",
                                              "email": "a@example.org", "consent-followup": "ja"})
    text = res.get_data(as_text=True)
    assert res.status_code == 200
    ref = re.search(r"referentie is <strong>(OPV-\d+)</strong>", text).group(1)
    assert ref == "OPV-1" and "werkdagen" in text and "a@example.org" in text
    back = re.search(r'<form method="post" action="/vraag" class="actions">(.*?)</form>', text, re.S).group(1)
    back_fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', back))
    assert back_fields["question"] == "Hoe zet ik video in?" and len(back_fields["intake_token"]) >= 32
    again = web_client.post("/vraag", data={**back_fields, "step": "answered"}).get_data(as_text=True)
    assert "Hulp bij je vraag" in again
    assert len(web_app.extensions["schakel"].store.intakes()) == 1


def test_invalid_email_keeps_the_message_and_the_results(web_client, web_app):
    res = _ask(web_client)
    page = res.get_data(as_text=True)
    form = re.search(r'<form method="post" action="/opvolging#opvolging" novalidate>(.*?)</form>', page, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    res = web_client.post("/opvolging", data={**fields, "email": "geen-adres", "message": "Mijn getypte bericht",
                                              "consent-followup": "ja"})
    text = res.get_data(as_text=True)
    assert res.status_code == 400
    assert "Vul een geldig e-mailadres in" in text and "Mijn getypte bericht" in text
    assert "Hulp bij je vraag" in text and 'value="geen-adres"' in text
    assert not list(web_app.extensions["schakel"].store.db.query("SELECT * FROM followups"))
