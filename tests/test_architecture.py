"""The structure the README's "Layout" section promises, checked on every test run (and so in CI):

- the layers of [tool.importlinter] in pyproject.toml (import-linter): lower packages never import higher ones;
- dags/ (files Airflow loads by path, not a package) import only the wiring, and nothing imports dags;
- no code imports the bare folder names (`records`, `nlp`, ...): those are unrelated PyPI packages;
- every exception class the project defines derives from earful_common.errors.ReportedError, or is listed below
  with the reason it never reaches a user.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# folder -> installed import name (pyproject [tool.setuptools.package-dir])
PACKAGES = {
    "earful": "earful",
    "earful_common": "earful_common",
    "records": "earful_records",
    "listeners": "earful_listeners",
    "nlp": "earful_nlp",
    "indexer": "earful_indexer",
    "alerts": "earful_alerts",
    "complaints": "earful_complaints",
}
BARE_NAMES = {folder for folder, name in PACKAGES.items() if folder != name}
REPORTED = ("earful_common.errors", "ReportedError")

# Exceptions that are control flow inside one module or answered by the web app, never shown to a user as a
# failure of a command; each with its reason.
NOT_REPORTED = {
    "earful_listeners.bluesky_normalize.SkipPost": "one item skipped; counted in the batch's item errors",
    "earful_listeners.mastodon_normalize.SkipStatus": "one item skipped; counted in the batch's item errors",
    "earful_listeners.mastodon_normalize.DeletedStatus": "a deleted status is skipped (a SkipStatus)",
    "earful_listeners.reddit_normalize.SkipItem": "one item skipped; counted in the batch's item errors",
    "earful_listeners.reddit_normalize.RemovedItem": "a removed item is skipped (a SkipItem)",
    "earful_listeners.x_normalize.SkipTweet": "one item skipped; counted in the batch's item errors",
    "earful_listeners.ratelimit.RateLimitDeferred": "the listener turns it into a deferred cursor and a note",
    "earful_listeners.x._StaleToken": "private: X refused a stored pagination token; read again from the cursor",
    "earful_indexer.embedded_keeper._Stop": "private: ends the keeper's loop",
    "earful_complaints.web.deps.LoginRequired": "web app: answered with a redirect to the sign-in page",
    "earful_complaints.web.deps.Forbidden": "web app: answered with a 403 page",
    "earful_complaints.web.deps.BadInput": "web app: answered with a 400 page",
    "earful_complaints.web.security.FormTooLarge": "web app: answered with a 413 page",
    "earful_complaints.web.security.FormNotSupported": "web app: answered with a 415 page",
}


def python_files(folder: str) -> Iterator[Path]:
    yield from (p for p in sorted((REPO / folder).rglob("*.py")) if ".venv" not in p.parts)


def module_name(path: Path) -> str:
    """The import name of a file inside one of the packages (records/db.py -> earful_records.db)."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    parts[0] = PACKAGES[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Every absolute module an AST imports (top level or inside functions), with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, node.lineno


def test_layers_hold() -> None:
    """import-linter with the contract in pyproject.toml (the README's layer diagram)."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if not lint_imports.exists():
        pytest.fail(f"{lint_imports} is missing: install the test extra (pip install -e '.[test]')")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dags_use_only_the_wiring_and_nothing_imports_dags() -> None:
    project = set(PACKAGES.values()) | BARE_NAMES
    wrong = []
    for path in python_files("dags"):
        for module, line in imported_modules(ast.parse(path.read_text(), str(path))):
            top = module.split(".")[0]
            if top in project and top != "earful":
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {module} (dags go through earful.tasks)")
    for folder in PACKAGES:
        for path in python_files(folder):
            for module, line in imported_modules(ast.parse(path.read_text(), str(path))):
                if module.split(".")[0] == "dags":
                    wrong.append(f"{path.relative_to(REPO)}:{line} imports {module} (dags are the top)")
    assert not wrong, "\n".join(wrong)


def test_no_code_imports_the_bare_folder_names() -> None:
    wrong = []
    for folder in (*PACKAGES, "dags", "tests", "bench", "scripts"):
        for path in python_files(folder):
            for module, line in imported_modules(ast.parse(path.read_text(), str(path))):
                if module.split(".")[0] in BARE_NAMES:
                    prefixed = PACKAGES[module.split(".")[0]]
                    wrong.append(f"{path.relative_to(REPO)}:{line} imports {module}; the installed name is {prefixed}")
    assert not wrong, "\n".join(wrong)


class _Classes:
    """Every class the packages define, by (module, name), and how its bases resolve (read from the source, so
    the check does not import torch and the rest)."""

    def __init__(self) -> None:
        self.bases: dict[tuple[str, str], list[object]] = {}
        for folder in PACKAGES:
            for path in python_files(folder):
                if "migrations" in path.parts:
                    continue
                module = module_name(path)
                tree = ast.parse(path.read_text(), str(path))
                names = self._imports(tree, module)
                for node in tree.body:
                    if isinstance(node, ast.ClassDef):
                        names[node.name] = (module, node.name)
                for node in tree.body:
                    if isinstance(node, ast.ClassDef):
                        self.bases[(module, node.name)] = [self._resolve(b, names) for b in node.bases]

    @staticmethod
    def _imports(tree: ast.Module, module: str) -> dict[str, object]:
        names: dict[str, object] = {}
        package = module if module in PACKAGES.values() else module.rsplit(".", 1)[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                source = node.module if not node.level else f"{package}.{node.module}"
                for alias in node.names:
                    names[alias.asname or alias.name] = (source, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    names[alias.asname or alias.name.split(".")[0]] = (alias.name, None)
        return names

    @staticmethod
    def _resolve(base: ast.expr, names: dict[str, object]) -> object:
        """A project class as (module, name), an outside class as the class itself, or None."""
        if isinstance(base, ast.Name):
            found = names.get(base.id)
            if found is None:
                return getattr(builtins, base.id, None)
            module, attr = found  # type: ignore[misc]
            if module.split(".")[0] in PACKAGES.values():
                return (module, attr)
            return getattr(importlib.import_module(module), attr, None)
        if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id in names:
            module, _ = names[base.value.id]  # type: ignore[misc]
            return getattr(importlib.import_module(module), base.attr, None)
        return None

    def ancestors(self, key: tuple[str, str]) -> Iterator[object]:
        for base in self.bases.get(key, []):
            yield base
            if isinstance(base, tuple):
                yield from self.ancestors(base)

    def exceptions(self) -> Iterator[tuple[str, bool]]:
        """(dotted name, derives from ReportedError) for every exception class."""
        for key in self.bases:
            chain = list(self.ancestors(key))
            is_exception = key == REPORTED or any(isinstance(c, type) and issubclass(c, BaseException) for c in chain)
            if is_exception:
                yield ".".join(key), key == REPORTED or REPORTED in chain


def test_every_error_derives_from_reported_error() -> None:
    found = dict(_Classes().exceptions())
    assert "earful_complaints.errors.RecordNotFound" in found and "earful.operational.OperationalFailure" in found
    outside = sorted(name for name, reported in found.items() if not reported and name not in NOT_REPORTED)
    assert not outside, f"exceptions outside the error tree (derive from ReportedError or list a reason): {outside}"
    stale = sorted(name for name in NOT_REPORTED if name not in found)
    assert not stale, f"NOT_REPORTED names classes that no longer exist: {stale}"
