""""Wie weet wat": experts, theme groups and products, filterable by concept, organisation, region and kind."""
from __future__ import annotations

import re

import pytest

from conftest import DEMO, TEST_EMBEDDER, make_web_app

THESAURUS = """concepts:
- id: test-blended
  label: blended leren
  group: didactiek
  synonyms: [blended learning, blended onderwijs]
- id: test-gpl
  label: gepersonaliseerd leren
  group: didactiek
  synonyms: [gepersonaliseerd onderwijs]
- id: test-werkbezoek
  label: werkbezoeken
  group: professionalisering
  synonyms: [werkbezoek]
- id: test-nergens
  label: ruimtevaarttechniek
  group: werkveld
"""


@pytest.fixture(scope="module")
def thesaurus_engine(tmp_path_factory):
    """The demo corpus indexed with a small known thesaurus, so concepts are predictable."""
    from indexer import build_index
    from matcher import Engine

    root = tmp_path_factory.mktemp("dir")
    (root / "thesaurus.yaml").write_text(THESAURUS, "utf-8")
    build_index([DEMO], root / "home", embedder=TEST_EMBEDDER, thesaurus=root / "thesaurus.yaml", progress=False)
    return Engine(root / "home", embedder=TEST_EMBEDDER)


@pytest.fixture
def client(thesaurus_engine, tmp_path):
    return make_web_app(thesaurus_engine, tmp_path / "web").test_client()


def _titles(html: str) -> list[str]:
    items = re.findall(r'<li class="match match-\w+[^"]*">\s*<h3>(.*?)</h3>', html, re.S)
    return [re.sub(r"<[^>]+>", "", t).split("\n")[0].strip() for t in items]


def test_lists_experts_theme_groups_and_products(client, thesaurus_engine):
    resp = client.get("/wie-weet-wat")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    index = thesaurus_engine.index()
    expected = {r.title for r in index.record_list if r.kind in ("expert", "themegroup", "product")}
    titles = _titles(html)
    assert len(titles) == len(expected)
    assert {t.replace("&amp;", "&").replace("&#39;", "'") for t in titles} == expected
    for heading in ("Experts", "Themagroepen", "Producten"):
        assert f'">{heading} <span class="count">' in html
    assert "Literatuur" not in html.split("<main", 1)[1]
    # filter form: labelled selects, GET, server-rendered
    for name, label in (("concept", "Onderwerp"), ("organisatie", "Organisatie"), ("regio", "Regio"),
                        ("soort", "Soort")):
        assert f'<label for="f-{name}">{label}</label>' in html and f'name="{name}"' in html
    assert '<form method="get" action="/wie-weet-wat"' in html


def test_concepts_are_found_in_record_text(client, thesaurus_engine):
    html = client.get("/wie-weet-wat").get_data(as_text=True)
    assert '<option value="test-blended">blended leren (' in html
    assert "test-nergens" not in html  # a concept no record mentions is not offered
    resp = client.get("/wie-weet-wat?concept=test-blended")
    html = resp.get_data(as_text=True)
    titles = _titles(html)
    assert "Themagroep Blended leren" in titles and "Didactische waaier blended leren" in titles
    assert "Formule werkbezoeken voor kennisdeling over gepersonaliseerd leren" not in titles
    assert '<option value="test-blended" selected>' in html
    assert "over <strong>blended leren</strong>" in html
    # every listed record really mentions the concept
    index = thesaurus_engine.index()
    by_title = {r.title: r for r in index.record_list}
    for t in titles:
        rec = by_title[t.replace("&amp;", "&").replace("&#39;", "'")]
        text = " ".join([rec.title, rec.body, str(rec.fields), " ".join(rec.tags)]).lower()
        assert "blended" in text, t
    # concept tags link to their filter
    assert '<a class="tag is-current" href="/wie-weet-wat?concept=test-blended" aria-current="true">' in html


def test_filter_by_organisation_region_and_kind(client):
    html = client.get("/wie-weet-wat?organisatie=ROC+Rijn+IJssel").get_data(as_text=True)
    assert _titles(html) == ["ROC Rijn IJssel – onderwijsconcept gepersonaliseerd leren"]
    html = client.get("/wie-weet-wat?regio=Gelderland&soort=expert").get_data(as_text=True)
    titles = _titles(html)
    assert len(titles) == 2 and all(t for t in titles)
    assert "regio Gelderland" in html and "regio Noord-Brabant" not in html
    html = client.get("/wie-weet-wat?soort=product").get_data(as_text=True)
    assert len(_titles(html)) == 8 and '">Experts <span' not in html
    # a theme group takes organisation and region from its contact expert
    html = client.get("/wie-weet-wat?regio=Noord-Brabant&soort=themegroup").get_data(as_text=True)
    assert "Themagroep GPL in bestaande opleidingen" in _titles(html)


def test_unknown_filter_values_show_everything_and_say_so(client):
    page = client.get("/wie-weet-wat").get_data(as_text=True)
    everything = _titles(page)
    assert "bestaat niet (meer)" not in page
    for q, said in (("concept=bestaat-niet", "Het onderwerp ‘bestaat-niet’"), ("organisatie=%3Cscript%3E", "organisatie"),
                    ("regio=Mars", "De regio ‘Mars’ bestaat niet (meer)"), ("soort=literature", "De soort ‘literature’")):
        resp = client.get(f"/wie-weet-wat?{q}")
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        assert _titles(html) == everything, q
        assert said in html and "dit filter toont daarom alles" in html and "Wis de filters" in html, q
    assert "<script>" not in client.get("/wie-weet-wat?organisatie=%3Cscript%3E").get_data(as_text=True)


def test_status_is_shown(client):
    html = client.get("/wie-weet-wat?soort=themegroup").get_data(as_text=True)
    assert '<span class="badge">gestopt</span>' in html
    assert '<span class="badge">neemt geen nieuwe leden aan</span>' in html


def test_concepts_are_computed_once_per_index(thesaurus_engine, monkeypatch):
    from web import directory

    index = thesaurus_engine.index()
    first = directory.directory(index)
    calls = []
    monkeypatch.setattr(index.concept_matcher, "lexical", lambda *a, **k: calls.append(a) or {})
    assert directory.directory(index) is first and calls == []


def test_works_without_any_thesaurus_concepts(web_client):
    resp = web_client.get("/wie-weet-wat")
    assert resp.status_code == 200 and "Wie weet wat" in resp.get_data(as_text=True)
