"""The tussenring dashboard, heatmap, CSV export and /api/coverage, against the matcher.coverage API."""
from __future__ import annotations

import csv
import io
import re

import pytest

QUESTIONS = ["Hoe gebruik ik generatieve AI bij het schrijven van verslagen?",
             "Mogen studenten ChatGPT gebruiken bij hun stageopdracht? <script>alert(1)</script>",
             "Hoe zet ik video in bij eerstejaars?"]


@pytest.fixture
def ring(web_client, web_app, login):
    store = web_app.extensions["schakel"].store
    for q in QUESTIONS:
        store.add_intake(q)
    login(web_client, "tussenring")
    return web_client


def test_dashboard_ranks_blind_spots_with_why_and_questions(ring, coverage_stub):
    resp = ring.get("/tussenring/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert html.index("Generatieve AI in de les") < html.index("Inclusief toetsen")  # the report's ranking
    assert "Er komen vragen over binnen, maar geen expert of themagroep dekt het." in html
    assert "Hoe gebruik ik generatieve AI bij het schrijven van verslagen?" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "3 bewaarde vragen" in html
    # demand came from the stored (consented) questions, oldest first
    assert [q["question"] for q in coverage_stub.calls[0]] == QUESTIONS
    assert all(set(q) >= {"question", "date"} for q in coverage_stub.calls[0])


def test_heatmap_is_a_table_with_names_legend_and_all_concepts(ring, coverage_stub, web_app):
    html = ring.get("/tussenring/").get_data(as_text=True)
    heat = html.split('<table class="heatmap-table">', 1)[1].split("</table>", 1)[0]
    expert = web_app.extensions["schakel"].engine.index().record_list
    name = next(r.fields["name"] for r in expert if r.kind == "expert")
    assert f'title="{name}: 0,80"' in heat  # full name on hover, decimal comma
    assert heat.index("generatieve AI") < heat.index("blended leren")  # blind spots first
    assert "HYPERLINK" in heat  # every concept is reachable, also one without questions or sources
    assert 'role="region"' in html and 'tabindex="0"' in html  # scrollable by keyboard on a phone
    legend = html.split('<dl class="legend">', 1)[1].split("</dl>", 1)[0]
    for term in ("Vr. (vragen)", "Br. (bronnen)", "Getal in een cel", "Blinde vlek"):
        assert term in legend, term
    table = html.split('<table class="coverage-table">', 1)[1].split("</table>", 1)[0]
    assert table.index("generatieve AI") < table.index("blended leren")
    assert '<td class="num">6</td>' in table  # sources of "blended leren"
    assert "/api/coverage" not in html.split("Ontwikkelaars", 1)[0]  # the raw JSON is in the API docs only
    resp = ring.get("/tussenring/heatmap.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert resp.data.startswith(b"<svg")
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    assert "script-src" not in resp.headers["Content-Security-Policy"]  # default-src 'none' covers script


def test_table_heatmap_and_csv_agree(ring, coverage_stub):
    html = ring.get("/tussenring/").get_data(as_text=True)
    table = html.split('<table class="coverage-table">', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<th scope="row">(.*?)</th>\s*<td class="num">(\d+)</td>\s*<td class="num">(\d+)</td>\s*'
                       r'<td class="num">(\d+)</td>\s*<td class="num">(\d+)</td>\s*<td>(?:<strong>)?(ja|nee)', table)
    raw = ring.get("/tussenring/coverage.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(raw), delimiter=";"))
    by_label = {r["Onderwerp"].lstrip("'"): r for r in rows}
    assert len(cells) == len(rows) == 3
    for label, experts, groups, sources, demand, blind in cells:
        r = by_label[label.replace("&#34;", '"').replace("&quot;", '"')]
        assert (r["Experts die dekken"], r["Themagroepen die dekken"], r["Bronnen"], r["Vragen"], r["Blinde vlek"]) \
            == (experts, groups, sources, demand, blind)


def test_clarification_answers_count_toward_demand(ring, coverage_stub, web_app):
    web_app.extensions["schakel"].store.add_intake("Hoe zet ik video in?", answers={"doelgroep": "eerstejaars"})
    ring.get("/tussenring/")
    asked = [q["question"] for q in coverage_stub.calls[-1]]
    assert "Hoe zet ik video in? eerstejaars." in asked


def test_demand_over_time(ring, coverage_stub):
    import datetime as dt

    from web.brief import MONTHS

    today = dt.date.today()
    html = ring.get("/tussenring/").get_data(as_text=True)
    table = html.split('<table class="demand-table">', 1)[1].split("</table>", 1)[0]
    this_month = f"{MONTHS[today.month - 1]} {today.year}"
    assert table.index("januari 2024") < table.index(this_month)
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th><td class=\"num\">(\d+)</td>.*?</tr>", table, re.S)
    counts = dict(rows)
    assert counts == {"januari 2024": "0", this_month: "3"}  # questions, not concept mentions
    assert "generatieve AI, blended leren" in table
    assert '<meter min="0" max="3" value="3" aria-hidden="true">' in table


def test_unmatched_questions_are_listed(ring, coverage_stub):
    html = ring.get("/tussenring/").get_data(as_text=True)
    assert "Vragen zonder herkend onderwerp" in html and "<li>Hoe zet ik video in bij eerstejaars?</li>" in html


def test_csv_export_opens_in_dutch_excel(ring, coverage_stub, web_app):
    resp = ring.get("/tussenring/coverage.csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="schakel-dekking-')
    assert resp.data.startswith("\ufeff".encode("utf-8"))  # UTF-8 with a BOM
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:5] == ["Onderwerp", "Groep", "Blinde vlek", "Vragen", "Bronnen"]
    assert all(len(r) == len(rows[0]) for r in rows)
    assert rows[1][:5] == ["generatieve AI", "", "ja", "3", "1"]
    blended = next(r for r in rows if r[0] == "blended leren")
    index = web_app.extensions["schakel"].engine.index()
    name = next(r.fields["name"] for r in index.record_list if r.kind == "expert")
    assert blended[7] == name and blended[8] == "0,80"  # names, not ids; decimal comma
    assert "exp-" not in resp.get_data(as_text=True)
    assert any(r[0] == "'=HYPERLINK(\"http://voorbeeld.invalid\",\"klik\")" for r in rows)
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize("cell,expected", [("=1+1", "'=1+1"), ("+31 6", "'+31 6"), ("-2", "'-2"), ("@x", "'@x"),
                                           ("\tx", "'\tx"), ("\rx", "'\rx"), ("gewoon", "gewoon"), ("", ""),
                                           (None, ""), (3, "3"), ("a=b", "a=b")])
def test_safe_cell(cell, expected):
    from matcher.coverage import safe_cell

    assert safe_cell(cell) == expected


def test_api_coverage(ring, coverage_stub):
    resp = ring.get("/api/coverage")
    assert resp.status_code == 200 and resp.is_json
    body = resp.get_json()
    assert body["blind_spots"][0]["label"] == "Generatieve AI in de les"
    assert {c["id"] for c in body["concepts"]} == {"generatieve-ai", "blended-leren", "formule"}


def test_report_is_computed_once_until_questions_change(ring, web_app, coverage_stub):
    ring.get("/tussenring/")
    ring.get("/tussenring/heatmap.svg")
    ring.get("/tussenring/coverage.csv")
    ring.get("/api/coverage")
    assert len(coverage_stub.calls) == 1
    web_app.extensions["schakel"].store.add_intake("Een nieuwe vraag over toetsen")
    ring.get("/api/coverage")
    assert len(coverage_stub.calls) == 2 and len(coverage_stub.calls[1]) == 4


def test_with_the_real_coverage_analysis(ring):
    """The real matcher.coverage over the demo index: dashboard, JSON, CSV and heatmap all answer."""
    resp = ring.get("/tussenring/")
    assert resp.status_code == 200
    assert "Blinde vlekken" in resp.get_data(as_text=True)
    assert ring.get("/api/coverage").status_code == 200
    assert ring.get("/tussenring/coverage.csv").status_code == 200
    svg = ring.get("/tussenring/heatmap.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_demand_by_month_shapes():
    from web.ring import demand_by_month

    qs = [{"question": "a", "date": "2024-03-02"}, {"question": "b", "date": "2024-03-20"},
          {"question": "c", "date": "2023-12-01"}, {"question": "d"}]
    assert [(m["label"], m["count"]) for m in demand_by_month(None, qs)] == [("december 2023", 1), ("maart 2024", 2)]
    rep = {"months": {"2024-03": {"x": 5, "y": 2, "z": 9, "w": 1}, "2024-04": 7, "weird": "?"}}
    out = demand_by_month(rep, qs)
    assert [(m["month"], m["count"]) for m in out] == [("2023-12", 1), ("2024-03", 2), ("2024-04", 0), ("weird", 0)]
    assert out[1]["top"] == ["z", "x", "y"] and out[2]["top"] == []


def test_covering_counts():
    from web.ring import covering

    experts = [{"id": "a", "score": 0.9, "available": True}, {"id": "b", "score": 0.9, "available": False},
               {"id": "c", "score": 0.1, "available": True}, "tg-x"]
    assert covering(experts, 0.35, "available") == 2
    assert covering(experts, None, "available") == 3
    assert covering(None, 0.35, "available") == 0
