"""Shared fixtures: a deterministic test embedder, temporary homes, a built demo index."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

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
    from web.security import limiter

    limiter.reset()


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
