"""Keep the house in order: lint, types, import contracts and completions are part of the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_completions_are_fresh() -> None:
    res = _run([sys.executable, "tools/gen_completions.py", "--check"])
    assert res.returncode == 0, res.stdout + res.stderr


def test_ruff() -> None:
    if shutil.which("ruff") is None:
        pytest.skip("ruff not installed (pip install -e '.[test]')")
    res = _run(["ruff", "check", "kcli", "tests", "tools", "bench", "labs"])
    assert res.returncode == 0, res.stdout + res.stderr


def test_import_contracts() -> None:
    if shutil.which("lint-imports") is None:
        pytest.skip("import-linter not installed (pip install -e '.[test]')")
    res = _run(["lint-imports"])
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.slow
def test_mypy() -> None:
    res = _run([sys.executable, "-m", "mypy"])
    assert res.returncode == 0, res.stdout + res.stderr
