"""Hostile input: XSS payloads in questions and in corpus files render inert; oversized input is refused clearly.

The corpus here carries payloads in a title, a body, an organisation, an
expertise list and the ``url`` field (javascript:, vbscript:, data:, mixed
case, leading blanks). Every page that can show them is parsed with the
standard library's HTML parser and checked for: inline ``<script>``, any
``on*=`` attribute, payload ``<img>``/``<svg>`` elements, and links whose
``href`` is not http(s), a mailto or a local path.
"""
from __future__ import annotations

import json
import re
import socket
import threading
from html.parser import HTMLParser

import pytest

EMB = "hash:256"
WORD = "zwaluwstaartverbindingen"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOADS = [SCRIPT, IMG, "javascript:alert(1)", "<svg onload=alert(1)>", "'--><script>alert(3)</script>"]
BAD_URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(2)", " javascript:alert(3)", "vbscript:msgbox(1)",
            "data:text/html,<script>alert(4)</script>", "\tjavascript:alert(5)"]


def _md(fields: dict, body: str) -> str:
    import yaml

    return "---\n" + yaml.safe_dump(fields, allow_unicode=True, sort_keys=False) + "---\n\n" + body + "\n"


DISTINCT = ["pen-en-gatverbindingen met de beitel", "zwaluwstaarten zagen voor laden",
            "lijmen en klemmen van massief eiken", "vingerlassen frezen op de tafel", "deuvels boren met een mal",
            "halfhoutse verbindingen in vakwerk"]


@pytest.fixture(scope="module")
def xss_home(tmp_path_factory):
    from indexer import build_index

    root = tmp_path_factory.mktemp("xss") / "corpus"
    for sub in ("experten", "literatuur", "themagroepen", "producten", "rapporten"):
        (root / sub).mkdir(parents=True)
    (root / "experten" / "xss.md").write_text(_md({
        "id": "exp-xss", "name": f"{SCRIPT} Zwaluw Expert", "organisation": IMG, "role": "<svg onload=alert(1)>",
        "expertise": [f"<b onmouseover=alert(1)>{WORD}</b>", "houtverbindingen"], "url": BAD_URLS[0],
        "email": '"><script>alert(2)</script>@voorbeeld.nl', "region": "<iframe src=javascript:alert(1)>",
    }, f"Zij kent alle {WORD} en houtverbindingen. {SCRIPT} {IMG}"), "utf-8")
    for i, url in enumerate(BAD_URLS[1:], start=1):
        (root / "literatuur" / f"xss-{i}.md").write_text(_md({
            "id": f"lit-xss-{i}", "title": f"{IMG} {WORD} deel {i}", "authors": [SCRIPT], "year": 2020, "url": url,
            "publisher": "<script>alert(6)</script>"},
            # distinct bodies: near-identical documents would be collapsed into one record (indexer.dedupe)
            f"Over {WORD} en houtverbindingen, deel {i}: {DISTINCT[i % len(DISTINCT)]}"), "utf-8")
    (root / "themagroepen" / "xss.md").write_text(_md({
        "id": "tg-xss", "name": f"<img src=x onerror=alert(7)> {WORD}", "focus": SCRIPT, "url": "vbscript:x",
        "contact": "<script>alert(8)</script>", "status": "actief"}, f"Een groep over {WORD}."), "utf-8")
    (root / "producten" / "ok.md").write_text(_md({
        "id": "prod-ok", "title": f"Gewone link over {WORD}", "url": "https://voorbeeld.nl/pad?a=1&b=2"},
        f"Een product over {WORD}."), "utf-8")
    # plain text keeps its markup as text (markdown bodies lose tags at index time)
    (root / "rapporten" / "xss.txt").write_text(
        f"Verslag over {WORD}.\n\n{SCRIPT} {IMG} <a href=\"javascript:alert(9)\">klik</a>\n", "utf-8")
    home = root.parent / "home"
    report = build_index([root], home, embedder=EMB, progress=False)
    assert not report.errors, report.errors
    return home


@pytest.fixture(scope="module")
def xss_app(xss_home, tmp_path_factory):
    from matcher import Engine
    from web import create_app

    return create_app({"HOME": str(tmp_path_factory.mktemp("xss-app")), "TESTING": True,
                       "ENGINE": Engine(xss_home, embedder=EMB), "SECRET_KEY": "xss",
                       "INTAKE_RATE": "100000/60", "LOGIN_RATE": "100000/60"})


@pytest.fixture
def xss_client(xss_app):
    return xss_app.test_client()


class Audit(HTMLParser):
    SAFE_HREF = re.compile(r"^(https?://|mailto:|/|#|\?)", re.I)

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler attribute")
        if tag == "script":
            src = attrs.get("src") or ""
            if not src.startswith("/static/"):
                self.problems.append(f"<script> that is not a /static/ file: {attrs}")
        if tag in ("img", "svg", "iframe", "object", "embed") and (attrs.get("src") in ("x", None) or tag != "img"):
            self.problems.append(f"<{tag}> element from content: {attrs}")
        for name in ("href", "src", "action", "formaction"):
            value = attrs.get(name)
            if value is not None and not self.SAFE_HREF.match(value.strip()):
                self.problems.append(f"<{tag} {name}={value!r}>: not an http(s), mailto or local address")

    handle_startendtag = handle_starttag


def audit(html: str) -> list[str]:
    a = Audit()
    a.feed(html)
    a.close()
    raw = [p for p in PAYLOADS if p.startswith("<") and p in html]
    return a.problems + [f"payload present unescaped: {p}" for p in raw]


def _csrf(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _ask(client, question: str, step: str = "answered", **extra):
    data = {"csrf_token": _csrf(client), "question": question, "step": step, **extra}
    return client.post("/vraag", data=data)


# --- XSS ---------------------------------------------------------------------------

def test_payloads_in_corpus_render_inert_on_results(xss_client):
    # every word of this question is in the tiny corpus's vocabulary: with the hash test embedder, a question
    # the vocabulary does not know would be left to dense noise (retrieval.vocabulary_coverage)
    resp = _ask(xss_client, f"Een groep over {WORD} en houtverbindingen")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Zwaluw Expert" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, "the records must be shown"
    assert "deel 1" in html and "deel 5" in html and 'id="m-tg-xss"' in html
    assert audit(html) == []
    assert 'href="https://voorbeeld.nl/pad?a=1&amp;b=2"' in html, "a plain https URL stays a link"
    # the plain-text report shows its markup as text in the passage
    resp = _ask(xss_client, f"verslag over {WORD} klik alert")
    html = resp.get_data(as_text=True)
    assert 'id="m-rapporten-xss"' in html and "&lt;a href=&#34;javascript:alert(9)&#34;&gt;" in html
    assert audit(html) == []


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("step", ["ask", "answered"])
def test_payloads_in_question_render_inert(xss_client, payload, step):
    resp = _ask(xss_client, f"{payload} hoe gebruik ik {WORD}? {payload}", step=step,
                **{"answer-doel-text": payload, "answer-doelgroep": payload})
    assert resp.status_code == 200
    assert audit(resp.get_data(as_text=True)) == []


def test_payloads_in_directory_render_inert(xss_client):
    resp = xss_client.get("/wie-weet-wat")
    if resp.status_code == 404:
        pytest.skip("no directory page")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Zwaluw Expert" in html
    assert audit(html) == []
    resp = xss_client.get("/wie-weet-wat", query_string={"q": SCRIPT, "organisatie": IMG, "regio": SCRIPT,
                                                          "concept": IMG, "soort": SCRIPT})
    assert resp.status_code in (200, 400)
    assert audit(resp.get_data(as_text=True)) == []


def test_payloads_in_error_pages_render_inert(xss_client):
    for path in ["/%3Cscript%3Ealert(1)%3C/script%3E", '/"><img src=x onerror=alert(1)>']:
        resp = xss_client.get(path)
        assert resp.status_code == 404
        assert audit(resp.get_data(as_text=True)) == []


def test_api_returns_payloads_as_json_not_html(xss_client):
    resp = xss_client.post("/api/match", json={"question": f"{SCRIPT} {WORD}"})
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


def test_pages_send_a_csp_without_inline_script(xss_client):
    csp = xss_client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


# --- oversized input ----------------------------------------------------------------

def test_overlong_question_refused_by_api(xss_client):
    resp = xss_client.post("/api/match", json={"question": "feedback " * 300})  # 2700 characters
    assert resp.status_code == 400
    err = resp.get_json()["error"]
    assert err["field"] == "question" and "2000" in err["message"]


def test_overlong_question_refused_by_page(xss_client):
    resp = _ask(xss_client, "feedback " * 300)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "2000" in html
    assert audit(html) == []


def test_question_of_exactly_the_limit_is_accepted(xss_client):
    q = (f"{WORD} " * 200)[:2000]
    assert len(" ".join(q.split())) <= 2000
    assert xss_client.post("/api/match", json={"question": q}).status_code == 200


@pytest.mark.parametrize("path", ["/api/match", "/api/feedback"])
def test_body_over_1mb_refused_by_api(xss_client, path):
    resp = xss_client.post(path, json={"question": "x" * 1_100_000})
    assert resp.status_code == 413
    err = resp.get_json()["error"]
    assert err["code"] == "too_large" and err["message"]


def test_body_over_1mb_refused_by_page(xss_client):
    token = _csrf(xss_client)
    resp = xss_client.post("/vraag", data={"csrf_token": token, "question": "x" * 1_100_000})
    assert resp.status_code == 413
    assert "te groot" in resp.get_data(as_text=True)


def _raw_post(port: int, length: int, body: bytes) -> bytes:
    """POST /api/match announcing LENGTH bytes and sending BODY; the raw answer (a server that refuses from the
    headers closes the connection, so a client still sending may see a reset before it reads)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /api/match HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Connection: close\r\nContent-Length: %d\r\n\r\n" % length)
        text = b""
        try:
            sock.sendall(body)
            while chunk := sock.recv(65536):
                text += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    assert text, "the server dropped the connection without answering"
    return text


def test_a_body_over_1mb_gets_the_json_error_and_one_over_the_servers_limit_a_plain_413(xss_app):
    """What `schakel serve` runs: waitress reading at most ``SERVER_BODY_BYTES``, the app taking 1 MiB."""
    import http.client

    from waitress import create_server

    from web import MAX_BODY_BYTES, SERVER_BODY_BYTES

    server = create_server(xss_app, host="127.0.0.1", port=0, max_request_body_size=SERVER_BODY_BYTES, threads=2)
    port = server.effective_port
    stop = threading.Event()

    def serve():  # server.run() in small steps, so the test can stop it cleanly
        while not stop.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        # 2 MB: over the app's limit, within the server's: the API's own error shape
        body = b'{"question": "' + b"x" * (2_000_000 - 16) + b'"}'
        text = _raw_post(port, len(body), body)
        head, _, payload = text.partition(b"\r\n\r\n")
        assert int(head.split(b" ", 2)[1]) == 413 and len(body) > MAX_BODY_BYTES
        assert json.loads(payload)["error"]["code"] == "too_large"
        # over the server's limit: waitress answers 413 from the headers, without reading the body
        text = _raw_post(port, SERVER_BODY_BYTES + 1, b'{"question": "' + b"x" * 10_000)
        assert int(text.split(b" ", 2)[1]) == 413, text[:200]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/api/match", body=b'{"question": "' + WORD.encode() + b'"}',
                     headers={"Content-Type": "application/json"})
        assert conn.getresponse().status == 200, "a normal request still works afterwards"
        conn.close()
    finally:
        stop.set()
        thread.join(5)
        server.close()
        server.task_dispatcher.shutdown()


def test_overlong_question_refused_by_cli(xss_home):
    from click.testing import CliRunner

    from schakel.cli import main

    res = CliRunner().invoke(main, ["ask", "feedback " * 300, "--home", str(xss_home), "--embedder", EMB,
                                    "--no-input"])
    assert res.exit_code == 1 and "2000" in res.output and "Traceback" not in res.output
