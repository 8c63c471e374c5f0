"""GET /api/openapi.json: an OpenAPI 3.1 description of every JSON route (a test checks none is missing)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from indexer.records import KINDS as _KINDS
from matcher.clarify import FACETS as _FACETS

bp = Blueprint("openapi", __name__)

FACETS = list(_FACETS)
KINDS = list(_KINDS)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_TEXT = {400: "Invalid input (the field is named in error.field).", 401: "Not logged in.",
              403: "Logged in without the needed role.", 413: "Body too large (over 1 MiB).",
              415: "The body is not sent as application/json.", 429: "Too many requests from this client; the Retry-After header says how many seconds to wait.",
              500: "Unexpected server error.",
              503: "Not available: no index yet."}

SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["status", "code", "message", "field"], "additionalProperties": False,
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status, repeated."},
                "code": {"type": "string", "description": "Short machine code, e.g. invalid_input, rate_limited.",
                         "examples": ["invalid_input"]},
                "message": {"type": "string", "description": "What is wrong, for a developer."},
                "field": {"type": ["string", "null"], "description": "The input field at fault, if one is."},
            }}},
    },
    "MatchRequest": {
        "type": "object", "required": ["question"],
        "properties": {
            "question": {"type": "string", "minLength": 1, "maxLength": 2000, "description": "The practice question."},
            "top": {"type": "integer", "minimum": 1, "maximum": 50, "description": "Matches per kind (default 5)."},
            "level": {"type": "integer", "minimum": 0, "maximum": 3,
                      "description": "Ladder level: 0 as asked, 1 its concepts (default), 2 broader, 3 theme."},
            "answers": {"type": "object", "description": "Answers to clarifying questions, by facet.",
                        "propertyNames": {"enum": FACETS},
                        "additionalProperties": {"type": "string", "maxLength": 200}},
            "consent": {"type": "boolean", "default": False,
                        "description": "Store the question (scrubbed of e-mail addresses and phone numbers) "
                                       "as an intake."},
        },
    },
    "Passage": {"type": "object", "properties": {
        "text": {"type": "string"}, "source": {"type": "string"}, "page": {"type": ["integer", "null"]},
        "heading": {"type": ["string", "null"]},
        "highlights": {"type": "array", "items": {"type": "array", "items": {"type": "integer"},
                                                  "minItems": 2, "maxItems": 2}}}},
    "Match": {"type": "object", "required": ["id", "kind", "title", "score", "why"], "properties": {
        "id": {"type": "string"}, "kind": {"enum": KINDS}, "title": {"type": "string"}, "score": {"type": "number"},
        "why": {"type": "string", "description": "Why this matches, in Dutch."}, "url": {"type": ["string", "null"]},
        "passages": {"type": "array", "items": _ref("Passage")},
        "concepts": {"type": "array", "items": {"type": "string"}},
        "terms": {"type": "array", "items": {"type": "string"}},
        "status": {"type": ["string", "null"], "description": "e.g. 'niet beschikbaar', 'gestopt'."},
        "details": {"type": "object", "description": "Kind-specific display fields."},
        "via": {"type": "array", "items": {"type": "string"}}}},
    "General": {"type": "object", "properties": {
        "question": {"type": "string"},
        "concepts": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "label": {"type": "string"}, "level": {"type": "integer"},
            "score": {"type": "number"}}}},
        "ladder": {"type": "array", "items": {"type": "object", "properties": {
            "level": {"type": "integer"}, "name": {"type": "string"}, "question": {"type": "string"},
            "concepts": {"type": "array", "items": {"type": "string"}}}}},
        "dropped": {"type": "array", "items": {"type": "string"}},
        "organisation": {"type": "array", "items": {"type": "object"}},
        "similar": {"type": "array", "items": {"type": "object"}}}},
    "MatchResponse": {"type": "object", "required": ["question", "matches", "clarify", "notices", "level"],
                      "properties": {
        "question": {"type": "string"},
        "matches": {"type": "object", "properties": {k: {"type": "array", "items": _ref("Match")} for k in KINDS}},
        "general": {"oneOf": [_ref("General"), {"type": "null"}]},
        "clarify": {"type": "array", "items": {"type": "object", "properties": {
            "facet": {"enum": FACETS}, "question": {"type": "string"},
            "options": {"type": "array", "items": {"type": "string"}}}}},
        "notices": {"type": "array", "items": {"type": "string"}},
        "level": {"type": "integer"},
        "intake_id": {"type": "integer", "description": "Only with consent: the id of the stored intake."}}},
    "FeedbackRequest": {"type": "object", "required": ["question", "record_id", "useful"], "properties": {
        "question": {"type": "string", "minLength": 1, "maxLength": 2000}, "record_id": {"type": "string"},
        "useful": {"type": "boolean"},
        "consent": {"type": "boolean", "default": False,
                    "description": "Store the question (scrubbed) with the judgement; without consent only the "
                                   "record id and the question's concepts are kept."}}},
    "FeedbackResponse": {"type": "object", "properties": {"id": {"type": "integer"}, "stored": {"const": True},
                                                          "question_stored": {"type": "boolean"}}},
    "CoverageReport": {"type": "object", "required": ["concepts", "blind_spots"], "properties": {
        "concepts": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "label": {"type": "string"},
            "experts": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "score": {"type": "number"}}}},
            "themegroups": {"type": "array", "items": {}},
            "sources": {"type": "integer"}, "demand": {"type": "integer"}, "blind_spot": {"type": "boolean"}}}},
        "blind_spots": {"type": "array", "items": {"type": "object", "properties": {
            "label": {"type": "string"}, "concepts": {"type": "array", "items": {}},
            "demand": {"type": "integer"}, "questions": {"type": "array", "items": {"type": "string"}},
            "why": {"type": "string"}}}},
        "months": {"type": "object", "description": "Optional: demand per month (YYYY-MM)."}}},
}


def _errs(*statuses: int) -> dict:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}


def spec() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Schakel API", "version": "1",
                 "description": "Match practice questions of teachers in Dutch vocational education to experts, "
                                "theme groups and sources. Every error has the shape of the Error schema. POST "
                                "bodies must be sent as application/json."},
        "paths": {
            "/api/match": {"post": {
                "operationId": "match", "summary": "Match a practice question",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("MatchRequest")}}},
                "responses": {"200": _json(_ref("MatchResponse"), "Grouped matches with reasons."),
                              **_errs(400, 413, 415, 429, 500, 503)}}},
            "/api/feedback": {"post": {
                "operationId": "feedback", "summary": "Say whether a match was useful (stored without a name)",
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("FeedbackRequest")}}},
                "responses": {"201": _json(_ref("FeedbackResponse"), "Stored."), **_errs(400, 413, 415, 429, 500)}}},
            "/api/coverage": {"get": {
                "operationId": "coverage", "summary": "Coverage per concept and blind spots (tussenring only)",
                "security": [{"session": []}],
                "responses": {"200": _json(_ref("CoverageReport"), "The coverage report."),
                              **_errs(401, 403, 500, 503)}}},
            "/api/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This description",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document.")}}},
            "/healthz": {"get": {
                "operationId": "healthz", "summary": "Liveness and the loaded index",
                "responses": {"200": _json({"type": "object", "properties": {
                    "status": {"const": "ok"}, "index": {"type": "string"}, "built_at": {"type": ["string", "null"]},
                    "embedder": {"type": "string"}, "counts": {"type": "object"}}}, "The server answers."),
                    **_errs(500, 503)}}},
        },
        "components": {
            "schemas": SCHEMAS,
            "responses": {f"E{s}": _json(_ref("Error"), text) for s, text in ERROR_TEXT.items()},
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session",
                                            "description": "The session cookie set by logging in at /login."}},
        },
    }


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(spec())
