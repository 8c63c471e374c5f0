"""Shared fixtures: a deterministic test embedder, temporary homes, a built demo index."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from servers import fresh_postgres, postgres_url, redis_url  # noqa: F401 (fixtures: real database servers)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpus"
DEV_EVAL = ROOT.parent / "shared" / "dev-eval"
TEST_EMBEDDER = "hash:256"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test touches the user's real data folder or inherits SCHAKEL_* settings."""
    for key in list(os.environ):
        if key.startswith("SCHAKEL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SCHAKEL_HOME", str(tmp_path_factory.mktemp("default-home")))


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory) -> Path:
    """The demo corpus indexed once with the test embedder (read-only for tests)."""
    from indexer import build_index

    h = tmp_path_factory.mktemp("demo-home")
    build_index([DEMO], h, embedder=TEST_EMBEDDER, progress=False)
    return h


@pytest.fixture(scope="session")
def dev_home(tmp_path_factory) -> Path:
    if not DEV_EVAL.is_dir():
        pytest.skip("../shared/dev-eval is not beside this checkout")
    from indexer import build_index

    h = tmp_path_factory.mktemp("dev-home")
    build_index([DEV_EVAL / "corpus"], h, embedder=TEST_EMBEDDER, progress=False)
    return h


@pytest.fixture
def copy_corpus(tmp_path):
    """Copy a corpus folder to tmp so a test may change it."""
    def _copy(src: Path = DEMO) -> Path:
        dst = tmp_path / "corpus"
        shutil.copytree(src, dst)
        return dst
    return _copy


@pytest.fixture
def app(demo_home):
    from matcher import Engine
    from web import create_app

    return create_app({"HOME": str(demo_home), "TESTING": True, "ENGINE": Engine(demo_home, embedder=TEST_EMBEDDER),
                       "SECRET_KEY": "test-secret", "INTAKE_RATE": "1000/60", "LOGIN_RATE": "1000/60"})


@pytest.fixture
def client(app):
    return app.test_client()


# --- web: connector, tussenring and directory pages (added with web/auth.py ... web/openapi.py) --------------

CSRF = "test-csrf-token"


@pytest.fixture(scope="session")
def demo_engine(demo_home):
    """One Engine over the demo index, shared by the web tests (read-only)."""
    from matcher import Engine

    return Engine(demo_home, embedder=TEST_EMBEDDER)


def make_web_app(engine, home: Path, **config):
    from web import create_app

    return create_app({"HOME": str(home), "TESTING": True, "ENGINE": engine, "SECRET_KEY": "test-secret",
                       "INTAKE_RATE": "1000/60", "LOGIN_RATE": "1000/60", **config})


@pytest.fixture
def web_app(demo_engine, tmp_path):
    """The app over the demo index with its own empty app database (accounts, intakes, notes)."""
    return make_web_app(demo_engine, tmp_path / "web-home")


@pytest.fixture
def web_client(web_app):
    return web_app.test_client()


@pytest.fixture
def login():
    """``login(client, role)``: an account with that role, logged in on ``client``; CSRF token is ``CSRF``."""
    def _login(client, role: str = "connector", username: str | None = None) -> dict:
        store = client.application.extensions["schakel"].store
        name = username or f"test-{role}"
        user = store.user_by_name(name) or store.add_user(name, "correct horse battery", role)
        with client.session_transaction() as s:  # a server-side session, as web.sessions.sign_in makes
            s.clear()
            s["sid"], s["uid"], s["_csrf"] = store.start_session(user["id"]), user["id"], CSRF
        return user
    return _login


@pytest.fixture
def anonymous_csrf():
    """``anonymous_csrf(client)``: give an anonymous session a known CSRF token (``CSRF``)."""
    def _set(client) -> str:
        with client.session_transaction() as s:
            s["_csrf"] = CSRF
        return CSRF
    return _set


class CoverageStub:
    """A stand-in for matcher.coverage with its documented API; records what it was called with."""

    def __init__(self):
        import types

        self.calls: list[list[dict]] = []
        self.module = types.ModuleType("matcher.coverage")
        self.module.compute = self.compute
        self.module.to_csv = self.to_csv
        self.module.heatmap_svg = self.heatmap_svg
        from matcher.coverage import safe_cell

        self.module.safe_cell = safe_cell

    def compute(self, engine, questions):
        self.calls.append(list(questions))
        experts = [r.id for r in engine.index().record_list if r.kind == "expert"]
        qs = [q["question"] for q in questions]
        return {
            "concepts": [
                {"id": "generatieve-ai", "label": "generatieve AI", "experts": [], "themegroups": [], "sources": 1,
                 "demand": len(qs), "blind_spot": True},
                {"id": "blended-leren", "label": "blended leren", "experts": [{"id": experts[0], "score": 0.8}],
                 "themegroups": ["tg-blended-leren"], "sources": 6, "demand": 1, "blind_spot": False},
                {"id": "formule", "label": "=HYPERLINK(\"http://voorbeeld.invalid\",\"klik\")", "experts": [],
                 "themegroups": [], "sources": 0, "demand": 0, "blind_spot": False},
            ],
            "blind_spots": [
                {"label": "Generatieve AI in de les", "concepts": ["generatieve AI"], "demand": len(qs),
                 "questions": qs[:5], "why": "Er komen vragen over binnen, maar geen expert of themagroep dekt het."},
                {"label": "Inclusief toetsen", "concepts": ["toetsing", "inclusie"], "demand": 0, "questions": [],
                 "why": "Weinig bronnen en geen expert."},
            ],
            "months": {"2024-01": {"blended leren": 2},
                       questions[-1]["date"][:7] if questions else "2024-02": {"generatieve AI": 3, "blended leren": 1}},
            "unmatched": {"count": 1, "questions": qs[-1:]},
        }

    @staticmethod
    def to_csv(report):
        import csv
        import io

        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["id", "label", "experts", "demand", "blind_spot"])
        for c in report["concepts"]:
            w.writerow([c["id"], c["label"], len(c["experts"]), c["demand"], c["blind_spot"]])
        w.writerow(["x", "@SUM(A1:A2)", "-1", "+1", "\tverborgen"])
        return out.getvalue()

    @staticmethod
    def heatmap_svg(report, index):
        rows = "".join(f'<rect x="0" y="{i * 20}" width="{20 + 10 * c["demand"]}" height="18" fill="#154273"/>'
                       for i, c in enumerate(report["concepts"]))
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="{20 * len(report["concepts"])}" '
                f'role="img"><title>Dekking</title>{rows}</svg>')


@pytest.fixture
def coverage_stub(monkeypatch):
    """Let the tussenring pages use a stand-in for ``matcher.coverage``."""
    import web.ring

    stub = CoverageStub()
    monkeypatch.setattr(web.ring, "coverage", stub.module)
    return stub


@pytest.fixture
def csrf() -> str:
    """The CSRF token that ``login`` and ``anonymous_csrf`` put in the session."""
    return CSRF
