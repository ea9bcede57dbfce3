"""Every Airflow setting docker-compose.yml passes has what it needs installed by the image's extras.

A first `docker compose up` must not die on a missing driver (Airflow derives its async metadata URL as
postgresql+asyncpg from a PostgreSQL one). Airflow itself, in a fresh interpreter with the compose file's
AIRFLOW__* environment, says what each setting loads (database dialects and drivers, sync and async, the
executor); each of those modules must belong to a distribution that the project's requirements plus the
extras the Dockerfile installs pull in, not one installed here by hand.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter with the compose environment; prints {setting: [modules it loads]} and problems.
PROBE = r"""
import json, sys, types
from airflow.configuration import conf
from airflow import settings  # builds the sync and the async metadata engines: their drivers are imported here
from sqlalchemy.engine import make_url

report = {"unknown": [], "modules": {}}
for var in json.loads(sys.argv[1]):
    section, key = (part.lower() for part in var.removeprefix("AIRFLOW__").split("__", 1))
    if key not in conf.configuration_description.get(section, {}).get("options", {}):
        report["unknown"].append(var)
        continue
    modules = []
    if (section, key) == ("database", "sql_alchemy_conn"):
        for url in (settings.SQL_ALCHEMY_CONN, settings.SQL_ALCHEMY_CONN_ASYNC):
            dialect = make_url(url).get_dialect()
            dbapi = dialect.import_dbapi()  # a driver module, or SQLAlchemy's adapter around an async one
            drivers = [dbapi] if isinstance(dbapi, types.ModuleType) else [
                v for v in vars(dbapi).values() if isinstance(v, types.ModuleType)]
            modules += [dialect.__module__, *(d.__name__ for d in drivers)]
        report["async_url_scheme"] = settings.SQL_ALCHEMY_CONN_ASYNC.split(":", 1)[0]
    elif (section, key) == ("core", "executor"):
        from airflow.executors.executor_loader import ExecutorLoader
        modules.append(ExecutorLoader.import_default_executor_cls()[0].__module__)
    elif (section, key) == ("core", "fernet_key"):
        from airflow.models.crypto import get_fernet
        modules.append(type(get_fernet()).__module__)
    report["modules"][var] = modules
print(json.dumps(report))
"""


def compose_airflow_env() -> dict[str, dict[str, str]]:
    """The AIRFLOW__* variables of every service, by service, with ${VAR} filled in from .env.example."""
    example: dict[str, str] = {}
    for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            example[key.strip()] = value.strip()
    # What a user puts in place of "change-me" (as the file says): a real Fernet key, random secrets.
    example["AIRFLOW_FERNET_KEY"] = Fernet.generate_key().decode()
    example |= {k: secrets.token_hex(32) for k, v in example.items() if v.startswith("change-me")}

    def fill(value: Any) -> str:
        return re.sub(
            r"\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}", lambda m: example.get(m.group(1)) or m.group(2) or "", str(value)
        )

    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    found = {}
    for name, service in compose["services"].items():
        env = {k: fill(v) for k, v in (service.get("environment") or {}).items() if k.startswith("AIRFLOW__")}
        if env:
            found[name] = env
    return found


def image_extras() -> set[str]:
    """The extras the Dockerfile installs earful with (`pip install '.[a,b]'`)."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    extras = {e.strip() for group in re.findall(r"pip install[^\n]*'\.\[([^\]]+)\]'", text) for e in group.split(",")}
    assert extras, "the Dockerfile installs no earful extras"
    return extras


def requirement_closure(requirements: list[str]) -> set[str]:
    """Canonical names of the installed distributions that `requirements` pull in, transitively (markers and
    extras honoured)."""
    seen: set[str] = set()
    todo = [(Requirement(r), ("",)) for r in requirements]
    while todo:
        req, extras = todo.pop()
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in extras):
            continue
        name = canonicalize_name(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # not installed: the probe fails on its import anyway
        todo += [(Requirement(r), ("", *req.extras)) for r in dist.requires or []]
    return {key.split("[")[0] for key in seen}


def project_requirements(extras: set[str]) -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*project["dependencies"], *(r for e in sorted(extras) for r in project["optional-dependencies"][e])]


def test_every_airflow_setting_in_the_compose_file_has_what_it_needs(tmp_path: Path) -> None:
    by_service = compose_airflow_env()
    assert {"airflow-init", "airflow-scheduler", "airflow-api-server"} <= set(by_service)
    installed = requirement_closure(project_requirements(image_extras()))
    owners = metadata.packages_distributions()
    for service, env in sorted(by_service.items()):
        probe_env = {"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(tmp_path / service), **env}
        out = subprocess.run(
            [sys.executable, "-c", PROBE, json.dumps(sorted(env))],
            capture_output=True,
            text=True,
            env=probe_env,
            timeout=180,
        )
        assert out.returncode == 0, (
            f"{service}: Airflow does not start with the compose settings:\n{out.stderr[-3000:]}"
        )
        report = json.loads(out.stdout.strip().splitlines()[-1])
        assert report["unknown"] == [], f"{service}: settings Airflow does not know"
        if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in env:
            assert report["modules"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], service
        for setting, modules in report["modules"].items():
            for module in modules:
                dists = {canonicalize_name(d) for d in owners.get(module.split(".")[0], [])}
                assert dists & installed, (
                    f"{service}: {setting} needs {module} ({', '.join(sorted(dists))}), which "
                    f"earful[{','.join(sorted(image_extras()))}] does not install"
                )


def test_the_closure_sees_what_is_missing() -> None:
    """The check above can fail: a driver outside the requirements is reported as not installed by them."""
    installed = requirement_closure(project_requirements(image_extras()))
    assert {"apache-airflow-core", "psycopg", "asyncpg", "sqlalchemy"} <= installed
    assert "asyncpg" not in requirement_closure(["apache-airflow-core==3.3.2"])
    with pytest.raises(KeyError):
        project_requirements({"no-such-extra"})
