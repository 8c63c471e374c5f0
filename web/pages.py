"""The participant pages: ask a question, answer clarifying questions, see matches, give feedback,
ask a connector to follow up. Server-rendered; works without JavaScript.

Questions travel in POST bodies, never in URLs, so they do not end up in
access logs or browser history. A participant who consented gets a token for
their own stored intake (form field ``intake_token``); a follow-up request or
a return to the results accepts only that token, never an intake id.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from indexer.errors import InvalidInput, NotFound
from indexer.querytext import normalise_question
from indexer.records import KIND_LABELS, KINDS
from matcher.clarify import FACETS

from .notify import reference
from .services import services
from .api import question_concepts, store_intake

bp = Blueprint("pages", __name__)


def _answers_from_form() -> dict[str, str]:
    answers = {}
    for facet in FACETS:
        value = (request.form.get(f"answer-{facet}-text") or request.form.get(f"answer-{facet}") or "").strip()
        value = normalise_question(value, field="answers")
        if value:
            answers[facet] = value
    return answers


@bp.get("/")
def index():
    return render_template("index.html", question="", retention=current_app.config["RETENTION_DAYS"])


@bp.post("/vraag")
def ask():
    try:
        question = normalise_question(request.form.get("question", ""))
        answers = _answers_from_form()
    except InvalidInput as exc:
        return render_template("index.html", question="", error=exc.message,
                               retention=current_app.config["RETENTION_DAYS"]), 400
    level_raw = request.form.get("level")
    level = int(level_raw) if level_raw and level_raw.isdigit() else None
    step = request.form.get("step", "ask")
    consent = request.form.get("consent") == "ja"
    engine = services().engine
    try:
        result = engine.match(question, answers=answers, level=level)
    except InvalidInput as exc:
        return render_template("index.html", question=question, error=exc.message,
                               retention=current_app.config["RETENTION_DAYS"]), 400
    if result.clarify and step == "ask":
        return render_template("clarify.html", result=result, question=result.question, consent=consent)
    token = _own_intake_token()
    if consent and not token:
        _, clean = engine.validate(result.question, answers)
        store = services().store
        token = store.new_intake_token(store_intake(result, clean))
    return render_template("results.html", result=result, answers=answers, order=KINDS, labels=KIND_LABELS,
                           consent=consent, intake_token=token, retention=current_app.config["RETENTION_DAYS"])


def _own_intake_token() -> str | None:
    """The participant's intake token sent back by a results form, when it is one the server issued."""
    token = request.form.get("intake_token") or None
    if token:
        try:
            services().store.intake_id_for_token(token)
        except NotFound:
            return None
    return token


@bp.post("/feedback")
def feedback():
    record_id = request.form.get("record_id", "")
    question = normalise_question(request.form.get("question", ""))
    useful = request.form.get("useful") == "ja"
    consent = request.form.get("consent") == "ja"
    if record_id in services().engine.index().records and question.strip():
        try:
            question, _ = services().engine.validate(question)
        except InvalidInput:
            question = ""
        if question:
            services().store.add_feedback(question, record_id, useful, concepts=question_concepts(question),
                                          consent=consent)
            flash("Dank je! Je oordeel helpt Schakel beter te worden.")
    return render_template("thanks.html", message="Dank je! Je oordeel is opgeslagen (zonder je naam).")


@bp.post("/opvolging")
def followup():
    """A follow-up request: for the participant's own stored intake (its token), or a new intake from the
    question on the form. An intake id is never accepted here."""
    if request.form.get("consent-followup") != "ja":
        return render_template("thanks.html", error="Zonder toestemming kunnen we je e-mailadres niet bewaren. "
                                                    "Vink het vakje aan en probeer het opnieuw."), 400
    store = services().store
    token = request.form.get("intake_token")
    try:
        question = normalise_question(request.form.get("question", ""))
        if token:
            intake_id = store.intake_id_for_token(token)
        else:
            if not question.strip():
                raise InvalidInput("de vraag ontbreekt", field="question")
            question, _ = services().engine.validate(question)
            intake_id = store.add_intake(question)
        followup_id = store.add_followup(intake_id, request.form.get("email", ""), request.form.get("name", ""),
                                         request.form.get("message", ""))
    except NotFound:
        return render_template("thanks.html", error="Dat lukte niet: deze vraag is niet (meer) bewaard. "
                                                    "Stel je vraag opnieuw en vraag dan om opvolging."), 404
    except InvalidInput as exc:
        return render_template("thanks.html", error=f"Dat lukte niet: {exc.message}"), 400
    # stored first; the e-mails go out after (web.notify), so a mail server that is down loses nothing
    services().notifier.followup_created(followup_id, url_for("connector.intake", intake_id=intake_id,
                                                              _external=True))
    return render_template("thanks.html", message="Je verzoek is doorgestuurd. Een schakelaar neemt contact met je op "
                                                  "via het e-mailadres dat je gaf. Je referentie is "
                                                  f"{reference(followup_id)}.")


@bp.get("/privacy")
def privacy():
    return render_template("privacy.html", retention=current_app.config["RETENTION_DAYS"])
