"""The JSON contract of the API: /api/match, /api/feedback, /healthz, and the one error shape.

Error shape (pinned here, see web/errors.py)::

    {"error": {"status": 400, "code": "invalid_input", "message": "...", "field": "question"}}
"""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer import build_index
from indexer.corpus import read_corpus
from indexer.records import KINDS
from matcher.clarify import FACETS

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpus"
EMB = "hash:256"
THESAURUS = """concepts:
- id: test-video
  label: video in het onderwijs
  group: ict
  synonyms: [onderwijsvideo]
- id: test-kennisclips
  label: kennisclips
  group: ict
  definition: Korte instructievideo's over één begrip.
  synonyms: [instructievideo, uitlegvideo]
  broader: [test-video]
"""
QUESTION = "Hoe maak ik kennisclips zodat mbo-studenten de theorie in hun eigen tempo doorwerken?"
VAGUE = "Hoe gebruik ik ict?"


@pytest.fixture(scope="module")
def api_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("api-home")
    extra = home.parent / "api-thesaurus.yaml"
    extra.write_text(THESAURUS, "utf-8")
    build_index([DEMO], home, embedder=EMB, progress=False, thesaurus=extra)
    return home


def make_app(home, **config):
    from matcher import Engine
    from web import create_app

    base = {"HOME": str(home), "TESTING": True, "SECRET_KEY": "test-secret", "INTAKE_RATE": "1000/60",
            "LOGIN_RATE": "1000/60", "ENGINE": Engine(home, embedder=config.pop("EMBEDDER", EMB))}
    base.update(config)
    return create_app(base)


@pytest.fixture
def api(api_home):
    return make_app(api_home).test_client()


@pytest.fixture(scope="module")
def corpus_ids() -> set[str]:
    return {r.id for r in read_corpus(DEMO).records}


def assert_error(resp, status: int, code: str | None = None, field: str | None = "any"):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json
    body = resp.get_json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"status", "code", "message", "field"}
    assert err["status"] == status
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    if code is not None:
        assert err["code"] == code
    if field != "any":
        assert err["field"] == field
    return err


# --- /api/match: the success contract ------------------------------------------

def test_match_contract(api, corpus_ids):
    resp = api.post("/api/match", json={"question": QUESTION})
    assert resp.status_code == 200 and resp.is_json
    body = resp.get_json()
    assert {"question", "matches", "general", "clarify"} <= set(body)
    assert body["question"] == QUESTION
    assert set(body["matches"]) == set(KINDS)                     # all six kinds, even when empty
    assert sum(len(v) for v in body["matches"].values()) > 0
    for kind, items in body["matches"].items():
        assert isinstance(items, list) and len(items) <= 5        # default top
        scores = [m["score"] for m in items]
        assert scores == sorted(scores, reverse=True)
        for m in items:
            assert {"id", "kind", "title", "score", "why", "url", "passages"} <= set(m)
            assert m["kind"] == kind
            assert isinstance(m["title"], str) and m["title"]
            assert isinstance(m["score"], float) and m["score"] > 0
            assert isinstance(m["why"], str)
            assert m["url"] is None or isinstance(m["url"], str)
            assert m["id"] in corpus_ids or m["id"].startswith("kr-bron-")
            assert isinstance(m["passages"], list)
            for p in m["passages"]:
                assert {"text", "source", "page"} <= set(p)
                assert isinstance(p["text"], str) and p["text"]
                assert p["page"] is None or isinstance(p["page"], int)
                assert (DEMO / p["source"].split("#")[0]).is_file()


def test_match_ids_are_corpus_ids(api):
    body = api.post("/api/match", json={"question": QUESTION}).get_json()
    ids = {m["id"] for ms in body["matches"].values() for m in ms}
    # explicit ids from front matter and default ids (path without extension) alike
    assert "kr-kennisclips-eigen-tempo" in ids
    flyer = api.post("/api/match", json={"question": "flyer CoP leren en ict"}).get_json()
    assert "rapporten/flyer-cop-leren-en-ict" in {m["id"] for m in flyer["matches"]["report"]}


def test_match_general_contract(api):
    g = api.post("/api/match", json={"question": QUESTION}).get_json()["general"]
    assert set(g) >= {"question", "concepts", "ladder", "dropped", "organisation", "similar"}
    assert isinstance(g["question"], str) and g["question"]
    assert isinstance(g["concepts"], list) and g["concepts"]
    for c in g["concepts"]:
        assert {"id", "label", "level"} <= set(c)
        assert isinstance(c["level"], int) and 0 <= c["level"] <= 3
    assert any(c["id"] == "test-kennisclips" and c["level"] == 1 for c in g["concepts"])
    assert isinstance(g["ladder"], list) and g["ladder"]
    assert g["ladder"][0]["level"] == 0 and g["ladder"][0]["question"] == QUESTION
    for step in g["ladder"]:
        assert {"level", "question"} <= set(step)
    assert isinstance(g["dropped"], list) and isinstance(g["organisation"], list) and isinstance(g["similar"], list)


def test_match_clarify_contract(api):
    body = api.post("/api/match", json={"question": VAGUE}).get_json()
    assert isinstance(body["clarify"], list) and body["clarify"]
    for c in body["clarify"]:
        assert set(c) == {"facet", "question", "options"}
        assert c["facet"] in FACETS
        assert isinstance(c["question"], str) and c["question"].endswith("?")
        assert isinstance(c["options"], list) and all(isinstance(o, str) for o in c["options"])
    # answering a facet is accepted and the facet is not asked again
    facet = body["clarify"][0]["facet"]
    again = api.post("/api/match", json={"question": VAGUE, "answers": {facet: "eerstejaars in de zorg"}})
    assert again.status_code == 200
    assert facet not in {c["facet"] for c in again.get_json()["clarify"]}


def test_match_top_and_level(api):
    one = api.post("/api/match", json={"question": QUESTION, "top": 1}).get_json()
    assert all(len(v) <= 1 for v in one["matches"].values())
    for level in (0, 3):
        resp = api.post("/api/match", json={"question": QUESTION, "level": level})
        assert resp.status_code == 200 and resp.get_json()["level"] == level


def test_match_is_json_and_utf8(api):
    resp = api.post("/api/match", json={"question": "Hoe richt ik één coöperatieve werkvorm in?"})
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert resp.get_json()["question"] == "Hoe richt ik één coöperatieve werkvorm in?"


def test_consent_stores_an_intake(api_home):
    app = make_app(api_home)
    resp = app.test_client().post("/api/match", json={"question": QUESTION + " Mail me op a@b.nl", "consent": True})
    assert resp.status_code == 200
    intake_id = resp.get_json()["intake_id"]
    rows = list(app.extensions["schakel"].store.db.query("SELECT * FROM intakes WHERE id = ?", [intake_id]))
    assert len(rows) == 1 and "a@b.nl" not in rows[0]["question"]
    assert "intake_id" not in app.test_client().post("/api/match", json={"question": QUESTION}).get_json()


# --- /api/match: the error shape ------------------------------------------------

@pytest.mark.parametrize("payload,field", [
    ({"question": ""}, "question"),
    ({"question": "   \n\t "}, "question"),
    ({}, "question"),
    ({"question": None}, "question"),
    ({"question": 42}, "question"),
    ({"question": ["een", "lijst"]}, "question"),
    ({"question": "?!? 123"}, "question"),
])
def test_bad_question(api, payload, field):
    err = assert_error(api.post("/api/match", json=payload), 400, "invalid_input", field)
    assert "vraag" in err["message"]  # Dutch message, stable English code and field


def test_over_long_question(api):
    err = assert_error(api.post("/api/match", json={"question": "kennisclips " * 200}), 400, "invalid_input",
                       "question")
    assert "2000" in err["message"]
    ok = api.post("/api/match", json={"question": ("woord " * 400)[:2000]})
    assert ok.status_code == 200


def test_non_json_body(api):
    form = api.post("/api/match", data={"question": QUESTION})
    assert form.status_code in (400, 415)
    assert_error(form, form.status_code)
    text = api.post("/api/match", data="question=kennisclips", content_type="text/plain")
    assert_error(text, 415, field="Content-Type")
    broken = api.post("/api/match", data='{"question": "kennis', content_type="application/json")
    assert_error(broken, 400, "invalid_input", "body")
    array = api.post("/api/match", json=["kennisclips"])
    assert_error(array, 400, "invalid_input", "body")


@pytest.mark.parametrize("extra,field", [
    ({"top": "5"}, "top"),
    ({"top": 2.5}, "top"),
    ({"top": True}, "top"),
    ({"top": 0}, "top"),
    ({"top": 51}, "top"),
    ({"level": "hoog"}, "level"),
    ({"level": 4}, "level"),
    ({"level": -1}, "level"),
    ({"answers": "eerstejaars"}, "answers"),
    ({"answers": ["doelgroep"]}, "answers"),
    ({"answers": {"doelgroep": 5}}, "answers"),
    ({"answers": {"doelgroep": ["a"]}}, "answers"),
    ({"consent": "ja"}, "consent"),
])
def test_wrong_types(api, extra, field):
    assert_error(api.post("/api/match", json={"question": QUESTION, **extra}), 400, "invalid_input", field)


def test_unknown_facet(api):
    err = assert_error(api.post("/api/match", json={"question": QUESTION, "answers": {"budget": "veel"}}),
                       400, "invalid_input", "answers")
    assert "'budget'" in err["message"]
    for facet in FACETS:
        assert facet in err["message"]


def test_http_errors_use_the_same_shape(api):
    assert_error(api.get("/api/match"), 405, "method_not_allowed", None)
    assert_error(api.post("/api/bestaat-niet", json={}), 404, "not_found", None)
    big = api.post("/api/match", data='{"question": "' + "a" * 1_100_000 + '"}', content_type="application/json")
    assert_error(big, 413)


def test_rate_limit_uses_the_error_shape(api_home):
    client = make_app(api_home, INTAKE_RATE="2/60").test_client()
    for _ in range(2):
        assert client.post("/api/match", json={"question": QUESTION}).status_code == 200
    assert_error(client.post("/api/match", json={"question": QUESTION}), 429, "rate_limited")


def test_embedder_mismatch_is_409(api_home):
    client = make_app(api_home, EMBEDDER="hash:128").test_client()
    err = assert_error(client.post("/api/match", json={"question": QUESTION}), 409, "embedder_mismatch", "embedder")
    assert "hash:256" in err["message"] and "hash:128" in err["message"]


# --- /healthz -----------------------------------------------------------------------

def test_healthz_with_an_index(api):
    resp = api.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok" and body["embedder"] == EMB
    assert body["counts"]["records"] > 0 and body["counts"]["passages"] > 0
    assert body["index"] and body["built_at"]


def test_healthz_and_match_without_an_index(tmp_path):
    client = make_app(tmp_path / "empty-home").test_client()
    err = assert_error(client.get("/healthz"), 503, "no_index")
    assert "schakel index" in err["message"]
    assert_error(client.post("/api/match", json={"question": QUESTION}), 503, "no_index")


# --- /api/feedback -------------------------------------------------------------------

def test_feedback_is_stored(api_home):
    app = make_app(api_home)
    client = app.test_client()
    resp = client.post("/api/feedback", json={"question": QUESTION + " Bel 06-12345678", "record_id": "exp-ecbo",
                                              "useful": True, "consent": True})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["stored"] is True and isinstance(body["id"], int)
    resp2 = client.post("/api/feedback", json={"question": QUESTION, "record_id": "exp-ecbo", "useful": False})
    assert resp2.status_code == 201
    rows = list(app.extensions["schakel"].store.db.query("SELECT * FROM feedback ORDER BY id"))
    assert [(r["record_id"], r["useful"]) for r in rows[-2:]] == [("exp-ecbo", 1), ("exp-ecbo", 0)]
    assert "06-12345678" not in rows[-2]["question"]              # phone numbers are scrubbed


@pytest.mark.parametrize("payload,field", [
    ({"record_id": "exp-ecbo", "useful": True}, "question"),
    ({"question": "  ", "record_id": "exp-ecbo", "useful": True}, "question"),
    ({"question": QUESTION, "record_id": "bestaat-niet", "useful": True}, "record_id"),
    ({"question": QUESTION, "record_id": 7, "useful": True}, "record_id"),
    ({"question": QUESTION, "record_id": "exp-ecbo"}, "useful"),
    ({"question": QUESTION, "record_id": "exp-ecbo", "useful": "ja"}, "useful"),
    ({"question": QUESTION, "record_id": "exp-ecbo", "useful": 1}, "useful"),
])
def test_feedback_is_validated(api_home, payload, field):
    app = make_app(api_home)
    before = app.extensions["schakel"].store.db["feedback"].count
    assert_error(app.test_client().post("/api/feedback", json=payload), 400, "invalid_input", field)
    assert app.extensions["schakel"].store.db["feedback"].count == before


def test_feedback_needs_json(api):
    assert_error(api.post("/api/feedback", data="record_id=exp-ecbo", content_type="text/plain"), 415)
