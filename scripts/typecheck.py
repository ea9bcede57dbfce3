"""Run mypy over the installed packages (earful, earful_common, earful_records, ...) from their folders.

The folders keep the data-flow names (records/, nlp/, ...) while the import names carry the prefix
(pyproject [tool.setuptools.package-dir]); mypy cannot follow setuptools' editable finder, so this links each
import name to its folder under .mypy_cache/packages/ and checks the packages there (settings: [tool.mypy]).

    .venv/bin/python scripts/typecheck.py   # exit code 0: no type errors
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def packages() -> dict[str, Path]:
    """Top-level import name -> its folder, from pyproject.toml."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    mapped = setuptools.get("package-dir", {})
    names = {name.split(".")[0] for name in setuptools["packages"]}
    return {name: REPO / mapped.get(name, name) for name in sorted(names)}


def link_tree(target: Path) -> Path:
    """A folder of links, one per import name, pointing at the package folders."""
    target.mkdir(parents=True, exist_ok=True)
    for name, folder in packages().items():
        link = target / name
        if link.is_symlink() and link.resolve() == folder.resolve():
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(folder, target_is_directory=True)
    return target


def main() -> int:
    """Run mypy; its exit code."""
    tree = link_tree(REPO / ".mypy_cache" / "packages")
    command = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml")]
    for name in packages():
        command += ["-p", name]
    env = {**os.environ, "MYPYPATH": str(tree)}
    return subprocess.run(command, cwd=REPO, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
