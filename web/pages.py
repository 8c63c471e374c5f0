"""The participant pages: ask a question, answer clarifying questions, see matches, give feedback,
ask a connector to follow up. Server-rendered; works without JavaScript.

Questions travel in POST bodies, never in URLs, so they do not end up in
access logs or browser history. Every form on the results page carries the
question, the answers, the level and, for a participant who consented, the
token of their own stored intake (``intake_token``; never an intake id), so
each POST can show the same results again (feedback, a follow-up with a typing
error) without storing the question twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from indexer.errors import InvalidInput, NotFound
from indexer.querytext import normalise_question
from indexer.records import KIND_LABELS
from matcher.clarify import FACETS, OPTIONS, QUESTIONS
from matcher.results import Clarification

from . import results_view
from .embedgate import building_response
from .errors import schakel_error
from .intakes import result_concepts, store_intake
from .messages import dutch_message
from .notify import reference
from .services import services

bp = Blueprint("pages", __name__)

#: The value of the "geen voorkeur" option: the facet stays unanswered.
NO_PREFERENCE = "geen voorkeur"
FACET_LABELS = {"doelgroep": "Doelgroep", "opleiding/context": "Opleiding of context", "doel": "Doel",
                "ict-middel": "Ict-middel", "niveau": "Niveau", "tijdpad": "Tijdpad"}


@dataclass
class FormState:
    """What every results form sends back: the question, the clarification answers, the level, consent and the
    token of the participant's own stored intake (if any)."""
    question: str
    answers: dict[str, str] = field(default_factory=dict)
    level: int | None = None
    consent: bool = False
    intake_token: str | None = None


def form_state() -> FormState:
    """The results state from the posted form, question and answers normalised at the edge
    (``normalise_question``). Raises InvalidInput for text that cannot be stored (a lone surrogate)."""
    answers = {}
    for facet in FACETS:
        typed = normalise_question(request.form.get(f"answer-{facet}-text") or "", field="answers")
        chosen = normalise_question(request.form.get(f"answer-{facet}") or "", field="answers")
        value = typed or (chosen if chosen != NO_PREFERENCE else "")
        if value:
            answers[facet] = value
    raw = request.form.get("level", "")
    return FormState(question=normalise_question(request.form.get("question", "")), answers=answers,
                     level=int(raw) if raw.isdigit() else None, consent=request.form.get("consent") == "ja",
                     intake_token=_own_intake_token())


def _own_intake_token() -> str | None:
    """The participant's intake token sent back by a results form, when it is one the server issued."""
    token = request.form.get("intake_token") or None
    if token:
        try:
            services().store.intake_id_for_token(token)
        except NotFound:
            return None
    return token


def _bad_input(exc: InvalidInput, question: str = ""):
    """The question page again with the Dutch message (400)."""
    return render_template("index.html", question=question, error=dutch_message(exc), retention=_retention()), 400


@bp.errorhandler(InvalidInput)
def _refused_field(exc: InvalidInput):
    """A form field refused before the view ran (``web.fields``' length limits): a question that is too long
    comes back on the question page with the Dutch message and the text as typed, as a view's refusal does;
    anything else gets the app's error page."""
    if request.endpoint == "pages.ask" and exc.field == "question":
        return _bad_input(exc, request.form.get("question", ""))
    return schakel_error(exc)


def _retention() -> int:
    return current_app.config["RETENTION_DAYS"]


def render_results(result, state: FormState, status: int = 200, **extra):
    """The results page for ``result``: best match first, then at most three per kind."""
    index = services().engine.index()
    state.level = result.level
    best = results_view.best_match(result)
    with building_response():   # one results page rendered at a time: it is Python that holds the GIL in turns
        return render_template(
            "results.html", result=result, state=state, answers=state.answers,
            consent=state.consent, best=results_view.card(index, result, best, full=True) if best else None,
            blocks=results_view.blocks(index, result, KIND_LABELS, best), labels=KIND_LABELS,
            ladder=results_view.ladder_steps(result), general_question=results_view.current_general(result),
            facet_labels=FACET_LABELS, retention=_retention(),
            record_name=lambda ref: results_view.record_name(index, ref), **extra), status


@bp.app_template_global("reason_text")
def _reason_text(why: str, status: str | None) -> str:
    return results_view.reason_text(why, status)


bp.add_app_template_global(results_view.marked, "marked")


@bp.app_template_global("org_question")
def _org_question(item) -> str:
    return results_view.organisation_question(item)


def _clarifications(result, answers: dict[str, str]) -> list[Clarification]:
    """The questions to show when the participant changes answers: those answered so far, then those asked."""
    out = [Clarification(f, QUESTIONS[f], list(OPTIONS.get(f, []))) for f in FACETS if f in answers]
    return out + [c for c in result.clarify if c.facet not in answers]


@bp.get("/")
def index():
    return render_template("index.html", question="", retention=_retention())


@bp.get("/vraag")
def ask_again():
    """Opening the results address directly (a bookmark, or history after the page expired): the question is
    not stored, so there is nothing to show again; back to the question form (303 See Other)."""
    target = url_for("pages.index")
    resp = redirect(target, 303)
    resp.set_data(f'<!doctype html><html lang="nl"><title>Schakel</title><p>Stel je vraag opnieuw op '
                  f'<a href="{target}">de vraagpagina</a>.</p></html>')
    return resp


@bp.post("/vraag")
def ask():
    step = request.form.get("step", "ask")
    try:
        state = form_state()
    except InvalidInput as exc:
        return _bad_input(exc)
    try:
        result = services().engine.match(state.question, answers=state.answers, level=state.level)
    except InvalidInput as exc:
        return render_template("index.html", question=state.question, error=dutch_message(exc),
                               retention=_retention()), 400
    if step == "change" or (result.clarify and step == "ask"):
        return render_template("clarify.html", result=result, question=result.question, state=state,
                               clarify=_clarifications(result, state.answers), no_preference=NO_PREFERENCE)
    if state.consent and not state.intake_token:
        state.intake_token = services().store.new_intake_token(store_intake(result, state.answers))
    return render_results(result, state)


@bp.post("/feedback")
def feedback():
    """Store a judgement and show the same results again; the form's action ends in the card's anchor."""
    try:
        state = form_state()
    except InvalidInput as exc:
        return _bad_input(exc)
    record_id = request.form.get("record_id", "")
    try:
        result = _match(state)
    except InvalidInput as exc:
        return _bad_input(exc)
    if record_id in services().engine.index().records:
        # the question itself is kept only with consent; otherwise only its concepts
        services().store.add_feedback(result.question, record_id, request.form.get("useful") == "ja",
                                      concepts=result_concepts(result), consent=state.consent)
    return render_results(result, state, thanked=record_id)


@bp.post("/opvolging")
def followup():
    """A follow-up request for the participant's own stored intake (its token; never an intake id) or for the
    question on the form, stored now. A typing error shows the same results again with what was typed."""
    try:
        state = form_state()
    except InvalidInput as exc:
        return _bad_input(exc)
    if request.form.get("intake_token") and not state.intake_token:
        return render_template("error.html", status=404, message="Deze vraag is niet (meer) bewaard.",
                               detail="Stel je vraag opnieuw en vraag dan om opvolging."), 404
    form = {k: request.form.get(k, "") for k in ("name", "email", "message", "about")}
    errors: dict[str, str] = {}
    if request.form.get("consent-followup") != "ja":
        errors["consent-followup"] = "Vink het vakje aan: zonder toestemming kunnen we je e-mailadres niet bewaren."
    store, ref, intake_id = services().store, None, None
    if not errors:
        try:
            if state.intake_token:
                intake_id = store.intake_id_for_token(state.intake_token)
            else:
                intake_id = store_intake(_match(state), state.answers)
                state.intake_token = store.new_intake_token(intake_id)
            about = results_view.record_name(services().engine.index(), form["about"]) if form["about"] else ""
            message = (f"Over: {about}. " if about else "") + form["message"]
            ref = store.add_followup(intake_id, form["email"], form["name"], message)
        except InvalidInput as exc:
            errors[exc.field or "email"] = dutch_message(exc)
    if errors:
        try:
            return render_results(_match(state), state, status=400, followup_errors=errors, followup_form=form)
        except InvalidInput as exc:
            return render_template("index.html", question=state.question, error=dutch_message(exc),
                                   retention=_retention()), 400
    # stored first; the e-mails go out after (web.notify), so a mail server that is down loses nothing
    services().notifier.followup_created(ref, url_for("connector.intake", intake_id=intake_id, _external=True))
    return render_template("followup_done.html", reference=reference(ref), email=form["email"],
                           days=current_app.config.get("FOLLOWUP_DAYS", 5), state=state)


def _match(state: FormState):
    return services().engine.match(state.question, answers=state.answers, level=state.level)


@bp.get("/privacy")
def privacy():
    return render_template("privacy.html", retention=_retention(),
                           contact=current_app.config.get("PRIVACY_CONTACT") or "")


@bp.get("/favicon.ico")
def favicon():
    """Browsers and tools that ask the conventional address get the page icon (every page links it in its head)."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)
