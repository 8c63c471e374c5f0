"""Field lengths limited at the edge: before a view runs, every form field and every text in a JSON body
is checked against its limit, so no oversized text reaches matching, scrubbing or the database.

The whole body is already capped (``MAX_CONTENT_LENGTH``, 1 MiB); that alone
let one 900 KB field keep a worker busy. A field over its limit is refused
with 400 and the field's name (``InvalidInput``), never cut silently.

Limits are on the raw text as sent. The question's limit is twice the
``max_question_chars`` setting, because the matcher counts after collapsing
whitespace (a pasted question may carry line breaks and indentation) and then
enforces the setting itself.
"""
from __future__ import annotations

from flask import current_app, request

from indexer.errors import InvalidInput

#: Longest raw value per form field or JSON key, in characters. Keys not listed get ``DEFAULT_LIMIT``.
LIMITS = {
    "csrf_token": 100, "intake_token": 100, "record_id": 200, "step": 20, "level": 4, "useful": 10,
    "consent": 10, "consent-followup": 10, "email": 254, "name": 100, "message": 2000,
    "username": 200, "password": 1024, "current_password": 1024, "new_password": 1024, "new_password2": 1024,
    "next": 2000, "status": 40, "text": 20_000, "intake_id": 20,
}
#: Each clarification answer (form fields ``answer-<facet>`` / ``answer-<facet>-text``, JSON ``answers``).
ANSWER_LIMIT = 400
DEFAULT_LIMIT = 1000
#: At most this many entries in a JSON ``answers`` object (there are six facets).
MAX_ANSWERS = 20


def _question_chars() -> int:
    """The setting ``max_question_chars``: the limit the asker knows, which the matcher enforces."""
    return int(current_app.config.get("MAX_QUESTION_CHARS") or 2000)


def limit_for(name: str) -> int:
    """The limit of one field name, in characters."""
    if name == "question":
        return 2 * _question_chars()
    if name.startswith("answer-"):
        return ANSWER_LIMIT
    return LIMITS.get(name, DEFAULT_LIMIT)


def _refuse(name: str, length: int, limit: int):
    if name == "question":   # said as the matcher says it, with the setting's limit (not twice it, as checked here)
        raise InvalidInput(f"the question has {length} characters; at most {_question_chars()} are accepted",
                           field=name)
    raise InvalidInput(f"'{name}' has {length} characters; at most {limit} are accepted", field=name)


def check_form() -> None:
    """Every value of an urlencoded or multipart form is within its limit. Raises InvalidInput."""
    for name, value in request.form.items(multi=True):
        limit = limit_for(name)
        if len(value) > limit:
            _refuse(name, len(value), limit)


def check_json() -> None:
    """Top-level texts of a JSON object, and the texts of its ``answers`` object, are within their limits."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # the view answers this one with a clear error
        return
    if not isinstance(data, dict):
        return
    for name, value in data.items():
        if isinstance(value, str) and len(value) > limit_for(str(name)):
            _refuse(str(name), len(value), limit_for(str(name)))
    answers = data.get("answers")
    if isinstance(answers, dict):
        if len(answers) > MAX_ANSWERS:
            raise InvalidInput(f"'answers' has {len(answers)} entries; at most {MAX_ANSWERS} are accepted",
                               field="answers")
        for facet, value in answers.items():
            if len(str(facet)) > 100 or (isinstance(value, str) and len(value) > ANSWER_LIMIT):
                _refuse("answers", len(value) if isinstance(value, str) else len(str(facet)), ANSWER_LIMIT)


def check_lengths() -> None:
    """``before_request`` hook: the limits above for every POST, PUT and PATCH."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if request.is_json:
        check_json()
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        check_form()
