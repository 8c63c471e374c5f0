"""The participant pages: ask a question, answer clarifying questions, see matches, give feedback,
ask a connector to follow up. Server-rendered; works without JavaScript.

Questions travel in POST bodies, never in URLs, so they do not end up in
access logs or browser history.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request

from indexer.errors import InvalidInput
from indexer.records import KIND_LABELS, KINDS
from matcher.clarify import FACETS

from . import services
from .api import embed_for_store
from .security import limit

bp = Blueprint("pages", __name__)


def _answers_from_form() -> dict[str, str]:
    answers = {}
    for facet in FACETS:
        value = (request.form.get(f"answer-{facet}-text") or request.form.get(f"answer-{facet}") or "").strip()
        if value:
            answers[facet] = value
    return answers


@bp.get("/")
def index():
    return render_template("index.html", question="", retention=current_app.config["RETENTION_DAYS"])


@bp.post("/vraag")
@limit("intake", "intake_rate")
def ask():
    question = request.form.get("question", "")
    answers = _answers_from_form()
    level_raw = request.form.get("level")
    level = int(level_raw) if level_raw and level_raw.isdigit() else None
    step = request.form.get("step", "ask")
    consent = request.form.get("consent") == "ja"
    try:
        result = services().engine.match(question, answers=answers, level=level)
    except InvalidInput as exc:
        return render_template("index.html", question=question, error=exc.message,
                               retention=current_app.config["RETENTION_DAYS"]), 400
    if result.clarify and step == "ask":
        return render_template("clarify.html", result=result, question=result.question, consent=consent)
    intake_id = request.form.get("intake_id", type=int)
    if consent and not intake_id:
        g = result.general
        intake_id = services().store.add_intake(result.question, g.question if g else "", answers,
                                                [c.label for c in g.concepts if c.level == 1] if g else [],
                                                embed=embed_for_store)
    return render_template("results.html", result=result, answers=answers, order=KINDS, labels=KIND_LABELS,
                           consent=consent, intake_id=intake_id, retention=current_app.config["RETENTION_DAYS"])


@bp.post("/feedback")
@limit("intake", "intake_rate")
def feedback():
    record_id = request.form.get("record_id", "")
    question = request.form.get("question", "")
    useful = request.form.get("useful") == "ja"
    if record_id in services().engine.index().records and question.strip():
        services().store.add_feedback(question, record_id, useful)
        flash("Dank je! Je oordeel helpt Schakel beter te worden.")
    return render_template("thanks.html", message="Dank je! Je oordeel is opgeslagen (zonder je naam).")


@bp.post("/opvolging")
@limit("intake", "intake_rate")
def followup():
    if request.form.get("consent-followup") != "ja":
        return render_template("thanks.html", error="Zonder toestemming kunnen we je e-mailadres niet bewaren. "
                                                    "Vink het vakje aan en probeer het opnieuw."), 400
    store = services().store
    intake_id = request.form.get("intake_id", type=int)
    question = request.form.get("question", "")
    try:
        if not intake_id:
            if not question.strip():
                raise InvalidInput("de vraag ontbreekt", field="question")
            intake_id = store.add_intake(question)
        store.add_followup(intake_id, request.form.get("email", ""), request.form.get("name", ""),
                           request.form.get("message", ""))
    except InvalidInput as exc:
        return render_template("thanks.html", error=f"Dat lukte niet: {exc.message}"), 400
    return render_template("thanks.html", message="Je verzoek is doorgestuurd. Een schakelaar neemt contact met je op "
                                                  "via het e-mailadres dat je gaf.")


@bp.get("/privacy")
def privacy():
    return render_template("privacy.html", retention=current_app.config["RETENTION_DAYS"])
