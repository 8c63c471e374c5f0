"""The newcomer's path: README quick start, Makefile defaults, package metadata."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_quick_start_has_exactly_two_commands():
    text = (ROOT / "README.md").read_text("utf-8")
    block = re.search(r"## Quick start.*?```sh\n(.*?)```", text, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert commands == ["make demo", "make test"]
    for word in ("SCHAKEL_HOME", "PORT=", "HOST=", "make schakel ARGS="):
        assert word in text.split("## Command line")[0], word


def test_license_is_an_spdx_expression():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert meta["project"]["license"] == "EUPL-1.2"


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_demo_keeps_its_data_in_the_clone_unless_schakel_home_says_otherwise(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SCHAKEL_HOME" and not k.startswith("MAKE")}

    def dry(*args, **extra):
        out = subprocess.run(["make", "-n", "-C", str(ROOT), *args], env={**env, **extra}, capture_output=True,
                             text=True, timeout=60)
        return out.stdout
    assert f"Data in {ROOT}/.schakel-home" in dry("demo", "VENV=" + str(tmp_path / "venv"))
    assert f"Data in {tmp_path}/elders" in dry("demo", "VENV=" + str(tmp_path / "venv"),
                                               SCHAKEL_HOME=str(tmp_path / "elders"))
    served = dry("demo", "VENV=" + str(tmp_path / "venv"), "PORT=8123", "HOST=0.0.0.0")
    assert "--host 0.0.0.0 --port 8123" in served
    assert "/bin/schakel ask" in dry("schakel", "VENV=" + str(tmp_path / "venv"), "ARGS=ask x")
