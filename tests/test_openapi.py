"""/api/openapi.json documents every /api route and the one error shape."""
from __future__ import annotations

import re


def _paths(app) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            out.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return out


def test_every_api_route_is_documented(web_client, web_app):
    resp = web_client.get("/api/openapi.json")
    assert resp.status_code == 200 and resp.is_json
    spec = resp.get_json()
    assert spec["openapi"].startswith("3.1")
    routes = _paths(web_app)
    assert {"/api/match", "/api/feedback", "/api/coverage", "/api/openapi.json"} <= set(routes)
    for path, methods in routes.items():
        assert path in spec["paths"], f"{path} is not in /api/openapi.json"
        assert methods <= set(spec["paths"][path]), f"{path}: {methods - set(spec['paths'][path])} undocumented"
        for method in methods:
            op = spec["paths"][path][method]
            assert op.get("summary") and op.get("responses"), (path, method)


def test_documented_paths_exist(web_app):
    from web.openapi import spec

    routes = _paths(web_app)
    for path in spec()["paths"]:
        if path.startswith("/api"):
            assert path in routes, f"{path} is documented but not routed"


def test_error_shape_matches_the_handler(web_client):
    from web.errors import error_body

    spec = web_client.get("/api/openapi.json").get_json()
    schema = spec["components"]["schemas"]["Error"]
    inner = schema["properties"]["error"]
    assert set(inner["required"]) == set(error_body(400, "x", "y", "z")["error"]) == {"status", "code", "message",
                                                                                       "field"}
    # a real error from the API has exactly that shape
    body = web_client.post("/api/match", json={"question": ""}).get_json()
    assert set(body) == {"error"} and set(body["error"]) == set(inner["properties"])
    # every documented error response points at the Error schema
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    name = response["$ref"].rsplit("/", 1)[1]
                    content = spec["components"]["responses"][name]["content"]["application/json"]["schema"]
                    assert content == {"$ref": "#/components/schemas/Error"}, (path, method, status)


def test_refs_resolve(web_client):
    spec = web_client.get("/api/openapi.json").get_json()
    text = str(spec)
    for ref in set(re.findall(r"#/components/(\w+)/(\w+)", text)):
        assert ref[1] in spec["components"][ref[0]], ref


def test_protected_route_is_marked(web_client):
    spec = web_client.get("/api/openapi.json").get_json()
    op = spec["paths"]["/api/coverage"]["get"]
    assert op["security"] == [{"session": []}]
    assert {"401", "403"} <= set(op["responses"])
