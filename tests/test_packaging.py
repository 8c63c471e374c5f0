"""Install = editable: the data files ship as package data, and a missing one stops Schakel at start-up."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, TEST_EMBEDDER

QUESTION = "Hoe geef ik vorm aan formatieve evaluatie in mijn lessen, met tussentijdse toetsing?"
EXPECTED_CONCEPT = "formatief-evalueren"   # found through the built-in thesaurus' synonyms only
CORPUS = {
    "experts/anna.md": "---\nid: exp-anna\nname: Anna de Vries\norganisation: ROC Noord\n"
                       "expertise: [toetsbeleid]\n---\nAnna werkt aan toetsing en feedback in het mbo.\n",
    "experts/bram.md": "---\nid: exp-bram\nname: Bram Jansen\norganisation: ROC Zuid\n"
                       "expertise: [roosters]\n---\nBram maakt roosters en plant lokalen.\n",
    "literatuur/black.md": "---\nid: lit-black\ntitle: Inside the black box\nauthors: [Black, Wiliam]\nyear: 1998\n---\n"
                           "Tussentijdse toetsing en feedback verbeteren het leren wanneer docenten hun les bijsturen.\n",
}


def _write_corpus(root: Path) -> Path:
    for rel, text in CORPUS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")
    return root


def test_missing_builtin_thesaurus_is_an_error_not_an_empty_thesaurus(tmp_path, monkeypatch):
    from indexer import build_index, thesaurus
    from indexer.errors import InstallationBroken

    corpus = _write_corpus(tmp_path / "corpus")
    monkeypatch.setattr(thesaurus, "BUILTIN", tmp_path / "gone.yaml")
    with pytest.raises(InstallationBroken, match="built-in thesaurus .*gone.yaml is missing"):
        build_index([corpus], tmp_path / "home", embedder=TEST_EMBEDDER, progress=False)
    (tmp_path / "broken.yaml").write_text("concepts: [\n", "utf-8")
    monkeypatch.setattr(thesaurus, "BUILTIN", tmp_path / "broken.yaml")
    with pytest.raises(InstallationBroken, match="built-in thesaurus is unusable: .*broken.yaml"):
        thesaurus.load()
    assert not (tmp_path / "home" / "current").exists()


def test_serve_refuses_to_start_without_its_data_files(tmp_path, monkeypatch):
    from indexer import thesaurus
    from matcher import specifics
    from schakel.cli import main

    monkeypatch.setattr(thesaurus, "BUILTIN", tmp_path / "gone.yaml")
    r = CliRunner().invoke(main, ["serve", "--home", str(tmp_path), "--port", "1"])
    assert r.exit_code == 1 and "ingebouwde thesaurus" in r.output and "gone.yaml ontbreekt" in r.output
    monkeypatch.undo()
    monkeypatch.setattr(specifics, "DATA", tmp_path / "gone.yaml")
    specifics.lexicon.cache_clear()
    try:
        r = CliRunner().invoke(main, ["serve", "--home", str(tmp_path), "--port", "1"])
        assert r.exit_code == 1 and "gone.yaml ontbreekt of is onleesbaar" in r.output
    finally:
        specifics.lexicon.cache_clear()


def test_data_files_are_package_data():
    """Every data file is found through importlib.resources and listed in pyproject's package-data."""
    from importlib.resources import files

    import tomllib

    assert files("indexer").joinpath("data", "thesaurus.yaml").is_file()
    assert files("indexer").joinpath("data", "concept-vectors.npz").is_file()
    assert files("matcher").joinpath("data", "specifics.yaml").is_file()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    for package in ("indexer", "matcher"):
        found = sorted(p.relative_to(ROOT / package).as_posix() for p in (ROOT / package / "data").iterdir())
        assert found and all(any(Path(f).match(pattern) for pattern in data[package]) for f in found), (package, found)
    # the demo corpus' thesaurus is the built-in one, not a copy that could drift
    assert (ROOT / "corpus" / "thesaurus.yaml").resolve() == (ROOT / "indexer" / "data" / "thesaurus.yaml").resolve()


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(SCHAKEL_EMBEDDER=TEST_EMBEDDER, SCHAKEL_HOME=str(tmp_path / "home"))
    return env


def _fresh_venv(tmp_path: Path) -> Path:
    """A venv outside the source tree whose only extra path is this interpreter's site-packages
    (for the heavy dependencies, offline); Schakel itself comes from the wheel only."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    # a path in a .pth file is appended to sys.path, but the .pth files in it (an editable install of
    # this checkout) are not run: the wheel's copy is the only Schakel the venv sees
    Path(site, "zz-deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    return py


@pytest.mark.slow
def test_wheel_installed_outside_the_source_tree_finds_its_thesaurus(tmp_path):
    src = tmp_path / "src"
    for name in ("indexer", "matcher", "web", "schakel"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    env = _clean_env(tmp_path)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(tmp_path / "dist"), str(src)], check=True, env=env, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("schakel-*.whl"))
    py = _fresh_venv(tmp_path)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheel)], check=True, env=env, cwd=tmp_path)
    shutil.rmtree(src)   # nothing of a source tree left to fall back on
    where = subprocess.run([py, "-c", "import indexer.thesaurus as t; print(t.BUILTIN)"], capture_output=True,
                           text=True, env=env, cwd=tmp_path, check=True).stdout.strip()
    assert "site-packages" in where and str(ROOT) not in where
    shipped = subprocess.run([py, "-c", "from indexer import conceptvectors as c; print(c.SHIPPED.is_file())"],
                             capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout.strip()
    assert shipped == "True"   # the built-in concepts' vectors ship in the wheel
    corpus = _write_corpus(tmp_path / "corpus")
    schakel = str(py.parent / "schakel")
    subprocess.run([schakel, "index", str(corpus)], check=True, env=env, cwd=tmp_path, capture_output=True)
    asked = subprocess.run([schakel, "ask", QUESTION, "--json", "--no-input"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, check=True)
    installed = json.loads(asked.stdout)
    assert EXPECTED_CONCEPT in [c["id"] for c in installed["general"]["concepts"]]
    # the editable install (this checkout) gives the same answer on the same index
    editable = json.loads(subprocess.run([sys.executable, "-m", "schakel", "ask", QUESTION, "--json", "--no-input"],
                                         env={**env, "PYTHONPATH": str(ROOT)}, cwd=tmp_path, capture_output=True,
                                         text=True, check=True).stdout)
    assert installed["general"] == editable["general"]
    assert {k: [m["id"] for m in v] for k, v in installed["matches"].items()} == \
        {k: [m["id"] for m in v] for k, v in editable["matches"].items()}
