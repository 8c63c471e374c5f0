"""The connector's (schakelaar's) pages: an inbox of consented questions and follow-up requests, and per
question an intake brief (HTML, Markdown, PDF) with a status, notes and a checklist.

Every change is a POST that redirects back (303) to the brief with a confirmation (flash) and the anchor of
the part that changed.
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from indexer.errors import InvalidInput

from . import seclog
from .brief import CHECKLIST, STATUSES, build_brief, datum
from .brief_render import header_facts, sections, to_markdown, to_pdf
from .messages import dutch_message
from .services import services
from .security import current_user, require_role

bp = Blueprint("connector", __name__, url_prefix="/schakelaar")


@bp.app_template_filter("datum")
def _datum(value, with_time: bool = True) -> str:
    return datum(value, with_time)


def inbox_order(rows: list[dict]) -> list[dict]:
    """Open follow-up requests first (oldest first: they wait longest), then the rest newest first."""
    waiting = [r for r in rows if r["followups"] and r["status"] not in ("afgerond", "doorverwezen")]
    waiting.sort(key=lambda r: r["id"])
    return waiting + [r for r in rows if r not in waiting]


@bp.get("/")
@require_role("connector")
def inbox():
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    rows = services().store.intakes(limit=500)
    counts = {s: 0 for s in STATUSES}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    shown = [r for r in rows if not status or r["status"] == status]
    if request.args.get("opvolging") == "ja":
        shown = [r for r in shown if r["followups"]]
    return render_template("connector/inbox.html", rows=inbox_order(shown), total=len(rows), counts=counts,
                           statuses=STATUSES, status=status, only_followups=request.args.get("opvolging") == "ja",
                           mail_problems=services().store.mail_problems())


def _brief(intake_id: int):
    store = services().store
    brief = build_brief(services().engine, store.intake(intake_id))  # NotFound -> 404
    labels = [label for level, label in brief.concepts if level == "Onderwerp"]
    brief.earlier = [e for e in store.similar_intakes(brief.question, labels) if e.get("id") != intake_id]
    return brief


def _page(intake_id: int, status: int = 200, **extra):
    brief = _brief(intake_id)
    return render_template("connector/brief.html", brief=brief, secs=sections(brief), statuses=STATUSES,
                           **extra), status


def _back(intake_id: int, anchor: str, message: str, section: str | None = None):
    """Redirect to the brief at ``anchor``; the confirmation shows in ``section`` (default: the anchor), where
    the eye is after the jump (flash category "at:SECTION")."""
    flash(message, f"at:{section or anchor}")
    return redirect(url_for("connector.intake", intake_id=intake_id, _anchor=anchor), code=303)


@bp.get("/intake/<int:intake_id>")
@require_role("connector")
def intake(intake_id: int):
    return _page(intake_id)


@bp.post("/intake/<int:intake_id>/notitie")
@require_role("connector")
def add_note(intake_id: int):
    try:
        services().store.add_note(intake_id, current_user()["username"], request.form.get("text", ""))
    except InvalidInput as exc:
        return _page(intake_id, 400, note_error=dutch_message(exc), note_text=request.form.get("text", ""))
    return _back(intake_id, "notities", "Je notitie is opgeslagen.")


@bp.post("/intake/<int:intake_id>/notitie/<int:note_id>")
@require_role("connector")
def edit_note(intake_id: int, note_id: int):
    store = services().store
    if request.form.get("delete") == "ja":
        store.delete_note(intake_id, note_id)
        return _back(intake_id, "notities", "De notitie is verwijderd.")
    try:
        store.update_note(intake_id, note_id, request.form.get("text", ""))
    except InvalidInput as exc:
        if exc.field != "text":
            raise
        return _page(intake_id, 400, note_error="Een notitie kan niet leeg zijn. Wil je hem weghalen, kies dan "
                                                "'Notitie verwijderen'.")
    return _back(intake_id, f"notitie-{note_id}", "De notitie is gewijzigd.", section="notities")


@bp.post("/intake/<int:intake_id>/status")
@require_role("connector")
def set_status(intake_id: int):
    status = request.form.get("status", "")
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of: {', '.join(STATUSES)}", field="status")
    services().store.set_intake_status(intake_id, status)
    return _back(intake_id, "status", f"De status is opgeslagen: {status}.")


@bp.post("/intake/<int:intake_id>/checklist")
@require_role("connector")
def set_checklist(intake_id: int):
    known = {key for key, _, _ in CHECKLIST}
    ticked = [k for k in request.form.getlist("item") if k in known]
    services().store.set_checklist(intake_id, ticked)
    return _back(intake_id, "checklist", f"De checklist is opgeslagen ({len(ticked)} van {len(known)} afgevinkt).")


@bp.get("/intake/<int:intake_id>/brief.md")
@require_role("connector")
def brief_md(intake_id: int):
    text = to_markdown(_brief(intake_id))
    return Response(text, mimetype="text/markdown", headers={
        "Content-Disposition": f'attachment; filename="intakebrief-{intake_id}.md"'})


@bp.get("/intake/<int:intake_id>/brief.pdf")
@require_role("connector")
def brief_pdf(intake_id: int):
    brief = _brief(intake_id)
    html = render_template("connector/brief_pdf.html", brief=brief, secs=sections(brief), facts=header_facts(brief))
    return Response(to_pdf(html, f"Intakebrief vraag {intake_id}"), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="intakebrief-{intake_id}.pdf"'})


@bp.post("/intake/<int:intake_id>/verwijderen")
@require_role("connector")
def forget_intake(intake_id: int):
    """Delete one intake with its follow-ups and notes (a participant's request, AVG art. 17)."""
    if request.form.get("bevestig") != "ja":
        raise InvalidInput("tick the box to confirm the deletion", field="bevestig")
    services().store.forget_intake(intake_id)  # NotFound -> 404
    seclog.event("privacy.forget_intake", user_id=current_user()["id"])
    flash(f"Vraag {intake_id} is verwijderd, met de opvolgverzoeken en notities erbij.")
    return redirect(url_for("connector.inbox"), code=303)


@bp.post("/verwijderen")
@require_role("connector")
def forget_email():
    """Delete every follow-up request with one e-mail address and the questions they were about."""
    if request.form.get("bevestig") != "ja":
        raise InvalidInput("tick the box to confirm the deletion", field="bevestig")
    counts = services().store.forget_email(request.form.get("email", ""))
    seclog.event("privacy.forget_email", user_id=current_user()["id"], followups=counts["followups"])
    flash(f"Verwijderd: {counts['followups']} opvolgverzoeken en {counts['intakes']} vragen bij dit e-mailadres.")
    return redirect(url_for("connector.inbox"), code=303)
