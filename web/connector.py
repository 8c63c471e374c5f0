"""The connector's (schakelaar's) pages: an inbox of consented questions and follow-up requests, and per
question an intake brief (HTML, Markdown, PDF) with notes and a status.
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from indexer.errors import InvalidInput

from . import seclog
from .services import services
from .brief import STATUSES, build_brief, datum, to_markdown, to_pdf
from .security import current_user, require_role

bp = Blueprint("connector", __name__, url_prefix="/schakelaar")


@bp.app_template_filter("datum")
def _datum(value, with_time: bool = True) -> str:
    return datum(value, with_time)


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
    return render_template("connector/inbox.html", rows=shown, total=len(rows), counts=counts, statuses=STATUSES,
                           status=status, only_followups=request.args.get("opvolging") == "ja",
                           mail_problems=services().store.mail_problems())


def _brief(intake_id: int):
    intake = services().store.intake(intake_id)  # NotFound -> 404
    return build_brief(services().engine, intake)


@bp.get("/intake/<int:intake_id>")
@require_role("connector")
def intake(intake_id: int):
    return render_template("connector/brief.html", brief=_brief(intake_id), statuses=STATUSES)


@bp.post("/intake/<int:intake_id>/notitie")
@require_role("connector")
def add_note(intake_id: int):
    try:
        services().store.add_note(intake_id, current_user()["username"], request.form.get("text", ""))
    except InvalidInput:
        return render_template("connector/brief.html", brief=_brief(intake_id), statuses=STATUSES,
                               note_error="Schrijf eerst een notitie; een lege notitie wordt niet bewaard.",
                               note_text=request.form.get("text", "")), 400
    return redirect(url_for("connector.intake", intake_id=intake_id, _anchor="notities"), code=303)


@bp.post("/intake/<int:intake_id>/status")
@require_role("connector")
def set_status(intake_id: int):
    status = request.form.get("status", "")
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of: {', '.join(STATUSES)}", field="status")
    services().store.set_intake_status(intake_id, status)
    return redirect(url_for("connector.intake", intake_id=intake_id, _anchor="status"), code=303)


@bp.get("/intake/<int:intake_id>/brief.md")
@require_role("connector")
def brief_md(intake_id: int):
    text = to_markdown(_brief(intake_id))
    return Response(text, mimetype="text/markdown", headers={
        "Content-Disposition": f'attachment; filename="intakebrief-{intake_id}.md"'})


@bp.get("/intake/<int:intake_id>/brief.pdf")
@require_role("connector")
def brief_pdf(intake_id: int):
    data = to_pdf(_brief(intake_id))
    return Response(data, mimetype="application/pdf", headers={
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
