"""JSON API under /api (and /healthz). Views parse input, call one library function, return JSON."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from indexer.errors import InvalidInput
from indexer.querytext import normalise_question

from .embedgate import building_response
from .intakes import question_concepts, store_intake
from .services import services

bp = Blueprint("api", __name__)


def json_body() -> dict:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # json.loads on thousands of nested brackets
        raise InvalidInput("the JSON body is nested too deeply", field="body") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    return data


def _int(data: dict, name: str, default=None):
    value = data.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"'{name}' must be a whole number", field=name)
    return value


@bp.get("/healthz")
def healthz():
    index = services().engine.index()
    m = index.manifest
    return jsonify({"status": "ok", "index": index.build.name, "built_at": m.get("built_at"),
                    "embedder": m["embedder"]["name"], "counts": m.get("counts", {})})


@bp.post("/api/match")
def match():
    data = json_body()
    consent = data.get("consent", False)
    if not isinstance(consent, bool):
        raise InvalidInput("'consent' must be true or false", field="consent")
    result = services().engine.match(normalise_question(data.get("question")), top=_int(data, "top"),
                                     answers=normalised_answers(data.get("answers")), level=_int(data, "level"))
    # the database write happens outside the response slot: it may wait on I/O
    intake_id = store_intake(result, answers=services().engine.validate(
        result.question, normalised_answers(data.get("answers")))[1]) if consent else None
    with building_response():
        body = result.to_json()
        if intake_id is not None:
            body["intake_id"] = intake_id
        return jsonify(body)


def normalised_answers(answers):
    """Answer texts normalised like the question (``normalise_question``); other shapes unchanged,
    for the matcher to report."""
    if not isinstance(answers, dict):
        return answers
    return {facet: normalise_question(value, field="answers") for facet, value in answers.items()}



@bp.post("/api/feedback")
def feedback():
    data = json_body()
    question, record_id, useful = normalise_question(data.get("question")), data.get("record_id"), data.get("useful")
    consent = data.get("consent", False)
    if not isinstance(question, str) or not question.strip():
        raise InvalidInput("'question' must be a non-empty text", field="question")
    if not isinstance(record_id, str) or record_id not in services().engine.index().records:
        raise InvalidInput("'record_id' must be the id of a record in the index", field="record_id")
    if not isinstance(useful, bool):
        raise InvalidInput("'useful' must be true or false", field="useful")
    if not isinstance(consent, bool):
        raise InvalidInput("'consent' must be true or false", field="consent")
    question, _ = services().engine.validate(question)
    fid = services().store.add_feedback(question, record_id, useful, concepts=question_concepts(question),
                                        consent=consent)
    return jsonify({"id": fid, "stored": True, "question_stored": consent}), 201
