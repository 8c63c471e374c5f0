"""Fuzzing the parsers and the JSON API with hypothesis.

Parsers: whatever bytes a corpus file holds, reading gives records or a
``Problem`` with a message, never an exception; and the readers themselves
raise only ``ReadError`` (``read_corpus`` has a last-resort
catch-all for reader bugs, which must never be what answers).

API: whatever JSON (or non-JSON) is posted to /api/match and /api/feedback,
the answer is never a 500, and every 4xx is the JSON error shape
``{"error": {"status", "code", "message", "field"}}``.

``max_examples`` is kept modest so the module runs well under a minute.
"""
from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from indexer import readers
from indexer.corpus import read_corpus
from indexer.passages import make_passages
from indexer.readers import ReadError, split_front_matter

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
API = settings(max_examples=80, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

CATCH_ALL = "could not be read:"   # read_corpus' message for an exception a reader should not have raised


def _read_one(rel: str, data: bytes):
    """read_corpus on a corpus holding one file; checks the 'records or a problem' contract."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        result = read_corpus(root)
    for p in result.problems:
        assert p.message and isinstance(p.message, str)
        assert not p.message.startswith(CATCH_ALL), f"reader bug surfaced as: {p}"
    has_records = any(r.source.split("#")[0] == rel for r in result.records)
    has_problem = any(p.path == rel and p.level == "error" for p in result.problems)
    assert has_records or has_problem or result.skipped, (rel, result)
    for rec in result.records:
        assert rec.id and rec.title is not None
        make_passages(rec)
    return result


def _reader_contract(fn, data: bytes, suffix: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f{suffix}"
        path.write_bytes(data)
        try:
            out = fn(path, [])
        except ReadError as exc:
            assert exc.message
            return None
    return out


# --- front matter and markdown ------------------------------------------------

FIELDS = ["id", "name", "title", "kind", "year", "available", "open", "tags", "status", "url", "updated", "date",
          "members", "expertise", "authors", "themegroups", "products", "made_by", "contact", "question", "email"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["2024-02-30", "2024-01-01", "ja", "nee", "yes", "~", "null", "[a, b", "{x: 1}", "'quoted'",
                     '"unterminated', "&anchor x", "*anchor", "!!python/object:os.system", "- item", "a: b: c",
                     "\t", ":", "#", "%YAML 1.1", "actief", "gestopt", "expert", "onbekend"]))
yaml_value = st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c,
                                                                                        max_size=3), max_leaves=6)


def _yaml_line(key: str, value) -> str:
    if isinstance(value, str) and value and not value.startswith(("-", "{", "[", "&", "*", "!", "%")):
        return f"{key}: {value}"
    return f"{key}: {json.dumps(value, default=str)}" if not isinstance(value, str) else f"{key}: {value}"


front_matter = st.builds(
    lambda pairs, body, close, crlf: (
        ("---\n" + "\n".join(_yaml_line(k, v) for k, v in pairs) + ("\n---\n" if close else "\n") + body)
        .replace("\n", "\r\n" if crlf else "\n")),
    st.lists(st.tuples(st.sampled_from(FIELDS) | st.text(max_size=6), yaml_value), max_size=6),
    st.text(max_size=200), st.booleans(), st.booleans())


@FAST
@given(st.one_of(front_matter, st.text(max_size=300)))
@example("---\n")
@example("---\n---\n")
@example("---\na: [\n---\nbody")
@example("---\n- a\n- b\n---\n")
@example("---\n!!python/object/apply:os.system ['true']\n---\n")
def test_split_front_matter(text):
    try:
        meta, body, line = split_front_matter(text)
    except ReadError as exc:
        assert exc.message
        return
    assert isinstance(meta, dict) and isinstance(body, str) and line >= 1


@FAST
@given(front_matter, st.sampled_from(["experten", "themagroepen", "literatuur", "producten", "kennisrotonde",
                                      "rapporten", "elders"]))
def test_markdown_files_give_records_or_problems(text, folder):
    _read_one(f"{folder}/f.md", text.encode("utf-8", "surrogatepass"))


@FAST
@given(st.binary(max_size=600))
@example(b"\xef\xbb\xbf---\nid: x\n---\n")
@example(b"---\nid: \xff\xfe\n---\nbody")
@example(b"\x00" * 50)
def test_markdown_raw_bytes(data):
    _read_one("experten/f.md", data)


def test_yaml_alias_bomb_is_refused_quickly():
    """Nested YAML aliases (a 'billion laughs') must not expand into the record or hang the indexer."""
    import time

    lines = ["---", "id: bom", "name: Bom", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines += ["tags: *a8", "---", "tekst"]
    t = time.perf_counter()
    result = _read_one("experten/bom.md", "\n".join(lines).encode())
    assert time.perf_counter() - t < 10
    assert result.problems or all(len(json.dumps(r.fields, default=str)) < 1_000_000 for r in result.records)


# --- PDF --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    for page in range(2):
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.multi_cell(0, 8, f"Pagina {page + 1}. Docenten delen kennis over feedback en toetsing. " * 6)
    pdf.set_title("Een echte PDF")
    return bytes(pdf.output())


@SLOW
@given(st.binary(max_size=1500))
@example(b"")
@example(b"trailer<</Root 1 0 R>>")
@example(b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[2 0 R]/Count 1>>endobj")
def test_pdf_garbage(data):
    out = _reader_contract(readers.read_pdf, b"%PDF-1.4\n" + data, ".pdf")
    if out is not None:
        meta, blocks = out
        assert isinstance(meta, dict) and all(b.text for b in blocks)


@SLOW
@given(data=st.data())
def test_pdf_truncated_or_damaged(real_pdf, data):
    cut = data.draw(st.integers(0, len(real_pdf)))
    raw = bytearray(real_pdf[:cut])
    for pos in data.draw(st.lists(st.integers(0, max(0, len(raw) - 1)), max_size=4)):
        if raw:
            raw[pos] = data.draw(st.integers(0, 255))
    _reader_contract(readers.read_pdf, bytes(raw), ".pdf")
    _read_one("rapporten/r.pdf", bytes(raw))


# --- HTML -------------------------------------------------------------------------

TAGS = ["p", "h1", "h2", "li", "ul", "td", "tr", "table", "script", "style", "div", "span", "title", "head",
        "body", "nav", "footer", "pre", "blockquote", "svg", "template", "b", "a", "img", "br"]
html_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
html = st.recursive(
    html_text | st.sampled_from(["&amp;", "&#0;", "&#x110000;", "&bogus;", "<!-- c -->", "<![CDATA[x]]>", "<", ">",
                                 "</p>", "<p", "<!DOCTYPE html>", "\x00", "\ufeff"]),
    lambda inner: st.builds(lambda tag, attrs, kids, close: f"<{tag}{attrs}>{''.join(kids)}" + (f"</{tag}>" if close
                                                                                                 else ""),
                            st.sampled_from(TAGS), st.sampled_from(["", ' class="x"', " onload=alert(1)", " a='<'"]),
                            st.lists(inner, max_size=4), st.booleans()),
    max_leaves=25)


@FAST
@given(html)
def test_html_markup(markup):
    out = _reader_contract(readers.read_html, markup.encode("utf-8", "surrogatepass"), ".html")
    if out is not None:
        meta, blocks = out
        assert all(isinstance(b.text, str) and b.text for b in blocks)
    _read_one("rapporten/r.html", markup.encode("utf-8", "surrogatepass"))


# --- DOCX -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("Verslag", level=1)
    d.add_paragraph("Docenten bespraken peerfeedback en toetsing met AI.")
    d.add_paragraph("Een tweede alinea.", style="List Bullet")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text = "a"
    t.cell(1, 1).text = "b"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


@SLOW
@given(st.binary(max_size=800))
def test_docx_zip_garbage(data):
    _reader_contract(readers.read_docx, b"PK\x03\x04" + data, ".docx")


@SLOW
@given(data=st.data())
def test_docx_truncated_or_damaged(real_docx, data):
    cut = data.draw(st.integers(0, len(real_docx)))
    _reader_contract(readers.read_docx, real_docx[:cut], ".docx")


@SLOW
@given(st.text(max_size=300), st.sampled_from(["word/document.xml", "[Content_Types].xml", "word/styles.xml"]))
def test_docx_zip_with_broken_members(xml, member):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if member != "[Content_Types].xml":
            z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org'
                                              '/package/2006/content-types"/>')
        z.writestr(member, xml)
    _reader_contract(readers.read_docx, buf.getvalue(), ".docx")
    _read_one("rapporten/r.docx", buf.getvalue())


# --- CSV --------------------------------------------------------------------------

cell = st.one_of(st.text(max_size=15), st.sampled_from(['"', '""', ",", ";", "\t", "\n", "a;b", 'x"y', "", " ",
                                                        "true", "nee", "2024-13-01", "actief"]))
header = st.lists(st.sampled_from(["id", "name", "title", "body", "expertise", "available", "year", "kind", "",
                                   "status", "url", "Naam", "ÏD"]) | st.text(max_size=6), min_size=0, max_size=6)


@FAST
@given(header, st.lists(st.lists(cell, max_size=7), max_size=6), st.sampled_from([",", ";", "\t", "|"]),
       st.booleans())
@example([], [], ",", True)
@example(["id", "name"], [["a", "A"], ["a", "B"]], ",", True)
def test_csv_rows(head, rows, delimiter, well_quoted):
    if well_quoted:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delimiter if len(delimiter) == 1 else ",")
        w.writerow(head)
        w.writerows(rows)
        text = buf.getvalue()
    else:
        text = "\n".join(delimiter.join(r) for r in [head] + rows)
    data = text.encode("utf-8", "surrogatepass")
    _reader_contract(readers.read_csv, data, ".csv")
    _read_one("experten/lijst.csv", data)


# --- the JSON API -------------------------------------------------------------------

@pytest.fixture(scope="module")
def fuzz_app(demo_home, tmp_path_factory):
    """The app over the demo index; its app.db in a tmp home (consented intakes are written there)."""
    from matcher import Engine
    from web import create_app

    home = tmp_path_factory.mktemp("fuzz-home")
    return create_app({"HOME": str(home), "TESTING": True, "ENGINE": Engine(demo_home, embedder="hash:256"),
                       "SECRET_KEY": "fuzz", "INTAKE_RATE": "1000000/60", "LOGIN_RATE": "1000000/60"})


@pytest.fixture(scope="module")
def fuzz_client(fuzz_app):
    return fuzz_app.test_client()


json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=10)
question = st.one_of(st.text(max_size=200), st.sampled_from(["Hoe start ik een leergemeenschap?", "", " ", "?!",
                                                             "a" * 2001, "\x00feedback", "<script>x</script>"]),
                     json_value)
FACETS = ["doelgroep", "opleiding/context", "doel", "ict-middel", "niveau", "tijdpad", "onbekend"]
match_body = st.fixed_dictionaries({}, optional={
    "question": question, "top": st.one_of(st.integers(-5, 60), json_value), "level": st.one_of(st.integers(-2, 5),
                                                                                               json_value),
    "answers": st.one_of(json_value, st.dictionaries(st.sampled_from(FACETS), st.one_of(st.text(max_size=300),
                                                                                         json_value), max_size=3)),
    "consent": st.one_of(st.booleans(), json_value), "extra": json_value})


def _check(resp):
    assert resp.status_code != 500, resp.get_data(as_text=True)[:500]
    assert resp.status_code < 500 or resp.status_code == 503
    if resp.status_code >= 400:
        body = resp.get_json()
        assert body is not None, resp.get_data(as_text=True)[:300]
        assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message", "field"}
        assert body["error"]["status"] == resp.status_code
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return resp


@API
@given(st.one_of(match_body, json_value))
@example({"question": "Hoe start ik een leergemeenschap?", "top": 50, "level": 3, "answers": {"doel": "x"}})
@example({"question": "feedback", "top": True})
@example({"question": "feedback", "answers": {"doelgroep": None}})
@example({"question": "feedback", "consent": True})
def test_api_match_json(fuzz_client, body):
    resp = _check(fuzz_client.post("/api/match", json=body))
    if resp.status_code == 200:
        assert "matches" in resp.get_json()


@API
@given(st.binary(max_size=300), st.sampled_from(["application/json", "application/json; charset=latin-1",
                                                 "text/plain", "application/x-www-form-urlencoded", ""]))
@example(b"\xff\xfe{}", "application/json")
@example(b'{"question": NaN}', "application/json")
@example(b'{"question": "x", "top": 1e400}', "application/json")
@example(b'{"question": "feedback geven", "question": 1}', "application/json")
def test_api_match_raw_bodies(fuzz_client, data, ctype):
    _check(fuzz_client.post("/api/match", data=data, content_type=ctype or None))


@API
@given(st.one_of(st.fixed_dictionaries({}, optional={
    "question": question, "record_id": st.one_of(st.sampled_from(["exp-ecbo", "tg-blended-leren", "", "x" * 300]),
                                                 json_value),
    "useful": st.one_of(st.booleans(), json_value)}), json_value))
@example({"question": "feedback", "record_id": "exp-ecbo", "useful": True})
def test_api_feedback_json(fuzz_client, body):
    _check(fuzz_client.post("/api/feedback", json=body))


def test_api_deeply_nested_json_is_a_400(fuzz_client):
    body = "[" * 100_000 + "]" * 100_000      # 200 kB, under the 1 MB limit
    assert _check(fuzz_client.post("/api/match", data=body, content_type="application/json")).status_code == 400
    assert _check(fuzz_client.post("/api/feedback", data='{"a":' * 50_000 + "1" + "}" * 50_000,
                                   content_type="application/json")).status_code == 400


# --- schemathesis against the WSGI app, from /api/openapi.json ------------------------

try:
    import schemathesis
except ImportError:  # optional: not a project dependency
    schemathesis = None


def test_openapi_schemathesis(api_schema_or_skip):
    """Every documented JSON route, cases generated from /api/openapi.json: no 500, and every answer
    conforms to the description (status code, content type, body schema).

    Uses schemathesis' Python API with hypothesis directly (its pytest plugin does not run on pytest 9).
    """
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                                   status_code_conformance)

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(api_schema_or_skip.as_strategy())
    def run(case):
        case.call_and_validate(checks=checks)

    run()


@pytest.fixture(scope="module")
def api_schema_or_skip(fuzz_app, fuzz_client):
    if schemathesis is None:
        pytest.skip("schemathesis is not installed (optional, not a project dependency: pip install schemathesis)")
    if fuzz_client.get("/api/openapi.json").status_code != 200:
        pytest.skip("the app serves no /api/openapi.json")
    return schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
