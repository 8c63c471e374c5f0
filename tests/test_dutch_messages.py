"""Dutch everywhere: pages, error pages (400 CSRF, 403, 404, 405, 429, 500), form errors, the JSON API's
messages (its codes stay English) and the CLI's errors contain no English sentence."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from conftest import TEST_EMBEDDER, make_web_app

#: Words that mark an English sentence; none of them is a Dutch word.
ENGLISH = {"the", "must", "please", "error", "invalid", "found", "request", "requests", "your", "you", "try",
           "again", "should", "cannot", "missing", "unknown", "failed", "field", "value", "not", "and", "with",
           "this", "that", "are", "too", "many", "forbidden", "unauthorized", "internal", "server", "method",
           "allowed", "first", "usage", "option", "such", "given", "give", "expected", "exists"}


def english_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower())} & ENGLISH


def visible(html: str) -> str:
    """The page's own text: no tags, no scripts, no corpus content (match cards and quotes may be English)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<article\b.*?</article>", " ", html, flags=re.S)
    html = re.sub(r"<blockquote\b.*?</blockquote>", " ", html, flags=re.S)
    html = re.sub(r'<(input|textarea|option)\b[^>]*>', " ", html)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"&\w+;|&#\d+;", " ", html)


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def assert_dutch(text: str, where: str) -> None:
    found = english_words(text)
    assert not found, f"{where}: English words {sorted(found)} in: {' '.join(text.split())[:400]}"


def test_pages_and_error_pages_are_dutch(web_app, login):
    client = web_app.test_client()
    index = client.get("/").get_data(as_text=True)
    token = _token(index)
    pages = {"/": index, "/privacy": client.get("/privacy").get_data(as_text=True),
             "/login": client.get("/login").get_data(as_text=True),
             "404": client.get("/bestaat-niet").get_data(as_text=True),
             "405": client.get("/feedback").get_data(as_text=True),
             "vraag opnieuw": client.get("/vraag").get_data(as_text=True),
             "400 csrf": client.post("/vraag", data={"question": "x"}).get_data(as_text=True),
             "lege vraag": client.post("/vraag", data={"csrf_token": token, "question": " "}).get_data(as_text=True),
             "lange vraag": client.post("/vraag", data={"csrf_token": token, "question": "woord " * 500}
                                        ).get_data(as_text=True),
             "verheldering": client.post("/vraag", data={"csrf_token": token, "question": "Hoe zet ik video in?"}
                                         ).get_data(as_text=True),
             "resultaten": client.post("/vraag", data={"csrf_token": token, "question": "Hoe zet ik video in?",
                                                       "step": "answered"}).get_data(as_text=True),
             "e-mailfout": client.post("/opvolging", data={"csrf_token": token, "question": "Hoe zet ik video in?",
                                                           "email": "geen", "consent-followup": "ja"}
                                       ).get_data(as_text=True),
             "opvolging": client.post("/opvolging", data={"csrf_token": token, "question": "Hoe zet ik video in?",
                                                          "email": "a@example.org", "consent-followup": "ja"}
                                      ).get_data(as_text=True)}
    login(client, "tussenring")
    pages["403"] = client.get("/schakelaar/").get_data(as_text=True)
    for where, html in pages.items():
        assert_dutch(visible(html), where)


def test_500_and_429_pages_are_dutch(demo_engine, tmp_path):
    app = make_web_app(demo_engine, tmp_path / "h", INTAKE_RATE="1/60", PROPAGATE_EXCEPTIONS=False)

    @app.get("/kapot")
    def _broken():
        raise RuntimeError("boom: something English broke")

    client = app.test_client()
    res = client.get("/kapot")
    assert res.status_code == 500
    assert_dutch(visible(res.get_data(as_text=True)), "500")
    token = _token(client.get("/").get_data(as_text=True))
    statuses = []
    for _ in range(3):
        res = client.post("/vraag", data={"csrf_token": token, "question": "Hoe zet ik video in?"})
        statuses.append(res.status_code)
    assert 429 in statuses
    assert_dutch(visible(res.get_data(as_text=True)), "429")


@pytest.mark.parametrize("body,field", [({"question": ""}, "question"), ({"question": "x" * 5000}, "question"),
                                        ({"question": "vraag", "top": 0}, "top"),
                                        ({"question": "vraag", "level": 9}, "level"),
                                        ({"question": "vraag", "answers": {"budget": "x"}}, "answers"),
                                        ({"question": "vraag", "consent": "ja"}, "consent")])
def test_api_messages_are_dutch_and_codes_stable(web_app, body, field):
    res = web_app.test_client().post("/api/match", json=body)
    err = res.get_json()["error"]
    assert res.status_code == 400 and err["code"] == "invalid_input" and err["field"] == field
    assert_dutch(err["message"], f"API {body}")


@pytest.mark.parametrize("args", [["ask"], ["ask", "--top", "veel", "vraag"], ["index", "/bestaat/niet"],
                                  ["bestaatniet"], ["ask", "--onzin", "vraag"], ["ask", "", "--no-input"],
                                  ["-o", "top=nul", "ask", "vraag"], ["forget"], ["ask", "--level", "5", "vraag"]])
def test_cli_errors_are_dutch(args, tmp_path):
    from schakel.cli import main

    result = CliRunner().invoke(main, [*args, "--home", str(tmp_path)] if args[0] not in ("bestaatniet", "-o")
                                else args)
    assert result.exit_code != 0
    out = result.output
    assert "Fout:" in out, out
    assert_dutch(out.split("Fout:", 1)[1], f"schakel {' '.join(args)}")


def test_a_missing_index_names_the_folder_without_a_stray_colon(tmp_path):
    from schakel.cli import main

    out = CliRunner().invoke(main, ["ask", "vraag", "--home", str(tmp_path / "leeg")]).output
    assert f"Er is nog geen index in {tmp_path / 'leeg'}. Voer eerst `schakel index MAP --home {tmp_path / 'leeg'}` uit" \
        in out, out


def test_a_question_over_the_edge_limit_names_the_setting_and_keeps_the_text(web_app):
    """A question longer than twice ``max_question_chars`` is refused before the view (``web.fields``), and says
    the limit the asker knows (the setting), as the matcher does for a shorter one; the question page keeps it."""
    client = web_app.test_client()
    token = _token(client.get("/").get_data(as_text=True))
    limit = int(web_app.config.get("MAX_QUESTION_CHARS") or 2000)
    long = "woord " * (3 * limit // 6)
    for text in ("woord " * (limit // 5), long):      # refused by the matcher, then at the edge
        res = client.post("/vraag", data={"csrf_token": token, "question": text})
        html = res.get_data(as_text=True)
        assert res.status_code == 400 and f"er passen er hoogstens {limit}. Maak hem korter." in html, html[-800:]
        assert "woord woord woord" in html       # the text as typed, to shorten
    api = client.post("/api/match", json={"question": long}).get_json()["error"]
    assert api["field"] == "question" and api["message"].endswith(f"hoogstens {limit}. Maak hem korter.")


@pytest.mark.parametrize("env, reason", [({"SCHAKEL_TOP": "-3"}, "een heel getal van 1 tot en met 50"),
                                         ({"SCHAKEL_PORT": "acht"}, "geen heel getal"),
                                         ({"SCHAKEL_SECURE_COOKIES": "misschien"}, "gebruik true of false")])
def test_a_bad_setting_names_its_variable_and_why_in_dutch(env, reason, tmp_path):
    from schakel.cli import main

    out = CliRunner().invoke(main, ["ask", "vraag", "--home", str(tmp_path)], env=env).output
    name = next(iter(env))
    assert f"Fout: {name}: de instelling" in out and reason in out, out
    assert_dutch(out.split("Fout:", 1)[1], name)


def test_an_option_out_of_its_range_says_the_range_in_words(tmp_path):
    from schakel.cli import main

    out = CliRunner().invoke(main, ["ask", "--top", "99", "vraag", "--home", str(tmp_path)]).output
    assert "Fout: Ongeldige waarde voor '--top': 99; kies een getal van 1 tot en met 50." in out, out


@pytest.mark.parametrize("content, said", [
    (None, "Het vragenbestand {f} bestaat niet."),
    (b'{"question": "a"}\nniet json\n', "{f}:2: regel 2 is geen geldige JSON"),
    (b'{"question": "a"}\n\n{"vraag": "b"}\n', "{f}:3: verwacht op regel 3 een JSON-object met de vraag als tekst"),
    (b'\xff\xfe{"question": "a"}\n', "{f} is geen UTF-8-tekst."),
])
def test_a_bad_question_file_says_what_is_wrong_with_it(content, said, demo_home, tmp_path):
    from schakel.cli import main

    f = tmp_path / "vragen.jsonl"
    if content is not None:
        f.write_bytes(content)
    for args in (["eval", str(f), "--home", str(demo_home)], ["coverage", "--questions", str(f), "--home", str(demo_home)]):
        if content is None and args[0] == "coverage":
            continue        # Click's own check of an existing path answers first (and in Dutch)
        result = CliRunner().invoke(main, args, env={"SCHAKEL_EMBEDDER": TEST_EMBEDDER})
        assert result.exit_code != 0 and said.format(f=f) in result.output, result.output
