"""One error handler: the JSON error shape for /api, an error page for HTML.

JSON shape (pinned by tests/test_api.py)::

    {"error": {"status": 400, "code": "invalid_input", "message": "...", "field": "question"}}
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from indexer.errors import SchakelError

from .messages import _looks_dutch, dutch_message

log = logging.getLogger(__name__)

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}
DUTCH = {400: "Het verzoek klopt niet.", 401: "Log eerst in.", 403: "Je hebt geen toegang tot deze pagina.",
         404: "Deze pagina bestaat niet.", 405: "Dit adres kan dit soort verzoek niet verwerken.", 413: "Dit is te groot om te verwerken.",
         429: "Te veel verzoeken achter elkaar. Wacht even en probeer het opnieuw.",
         500: "Er ging iets mis aan onze kant. Probeer het later opnieuw.", 503: "Schakel heeft nog geen index. Vraag de beheerder om "
                                                    "`schakel index` uit te voeren."}


GENERIC_HTTP = "Dit verzoek kon niet worden verwerkt."


def error_body(status: int, code: str, message: str, field: str | None = None) -> dict:
    return {"error": {"status": status, "code": code, "message": message, "field": field}}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or \
        (request.accept_mimetypes.best == "application/json")


def render_error(status: int, code: str, message: str, field: str | None = None):
    """The JSON error shape (stable English ``code``, Dutch ``message``) or the Dutch error page.
    ``message`` must already be Dutch (see ``web.messages``)."""
    if wants_json():
        resp = jsonify(error_body(status, code, message, field))
        resp.status_code = status
        return resp
    return render_template("error.html", status=status, message=DUTCH.get(status, message), detail=message), status


def schakel_error(exc: SchakelError):
    """The response to a ``SchakelError`` (logged when the server is at fault): ``render_error`` with its Dutch
    message. The app's handler; a blueprint's own handler falls back on it."""
    if exc.status >= 500:
        log.error("%s: %s", exc.code, exc.message)
    return render_error(exc.status, exc.code, dutch_message(exc), exc.field)


def install(app: Flask) -> None:
    app.register_error_handler(SchakelError, schakel_error)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        own = exc.description if exc.description and _looks_dutch(exc.description) else None  # ours, or werkzeug's
        return render_error(status, HTTP_CODES.get(status, "http_error"), own or DUTCH.get(status, GENERIC_HTTP))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s", request.path)
        return render_error(500, "internal_error", DUTCH[500])
