"""The static checks CI enforces: ruff lint, ruff format and mypy (settings in pyproject.toml), run from the venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_lint_passes() -> None:
    done = _run(BIN / "ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_applied() -> None:
    done = _run(BIN / "ruff", "format", "--check", "--no-cache", ".")
    assert done.returncode == 0, "run `.venv/bin/ruff format FILES` on:\n" + done.stdout + done.stderr


@pytest.mark.slow
def test_mypy_passes_on_the_packages() -> None:
    done = _run(sys.executable, REPO / "scripts" / "typecheck.py")
    assert done.returncode == 0, done.stdout + done.stderr
