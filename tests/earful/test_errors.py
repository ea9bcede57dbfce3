"""The error contract: every operational failure and malformed input ends in one line on stderr that says what and
where, without a traceback, with the exit code the README documents (1 failure, 2 configuration or usage)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from earful_indexer.embedded import free_port
from tests.conftest import write_config

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "config" / "samples" / "outdoor-news-en.xml"


def base_config(tmp_path: Path, **sections: object) -> Path:
    data: dict = {
        "data_dir": str(tmp_path / "data"),
        "nlp": {"enabled": False},
        "topics": [{"name": "acme", "query": "acme"}],
        "sources": {"rss": {"feeds": [{"name": "sample", "path": str(SAMPLE)}]}},
        **sections,
    }
    return write_config(tmp_path / "earful.yaml", data)


def earful(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EARFUL_") or k == "EARFUL_TEST_PG_URL"}
    full_env.update({"PYTHONPATH": str(REPO), "COLUMNS": "200", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "earful.cli", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300
    )


def one_line(result: subprocess.CompletedProcess[str], code: int, *expected: str) -> str:
    """Assert the command failed with `code` and exactly one stderr line containing every `expected` part."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for part in expected:
        assert part in lines[0], lines[0]
    return lines[0]


def test_index_unreachable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    config = base_config(tmp_path, index={"url": url, "request_timeout": 2})
    for command in ("run", "stats"):
        one_line(earful(command, "-c", str(config), cwd=tmp_path), 1, f"index {url} unreachable", "Connection refused")


def test_bad_index_url_is_a_configuration_error(tmp_path: Path) -> None:
    config = base_config(tmp_path, index={"url": "es.example.org"})
    one_line(earful("stats", "-c", str(config), cwd=tmp_path), 2, str(config), "index.url", "not a usable URL")


def test_missing_data_folder_for_commands_that_only_read(tmp_path: Path) -> None:
    config = base_config(tmp_path)
    for command in (["stats"], ["search", "acme"]):
        one_line(
            earful(*command, "-c", str(config), cwd=tmp_path), 1, f"data folder {tmp_path / 'data'} does not exist"
        )
    assert not (tmp_path / "data").exists()  # and it was not created by looking


def test_data_folder_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    config = base_config(tmp_path, data_dir=str(tmp_path / "a-file" / "data"))
    one_line(earful("run", "-c", str(config), cwd=tmp_path), 1, "data folder", "a-file/data: cannot create it")


def test_unusable_sentiment_model(tmp_path: Path) -> None:
    config = base_config(tmp_path, nlp={"enabled": True, "sentiment_model": str(tmp_path / "no-model")})
    one_line(earful("run", "-c", str(config), cwd=tmp_path), 2, "nlp.sentiment_model", str(tmp_path / "no-model"))


def test_malformed_environment_value(tmp_path: Path) -> None:
    config = base_config(tmp_path)
    one_line(
        earful("run", "-c", str(config), cwd=tmp_path, env={"EARFUL_TOPICS": "not json"}),
        2,
        "environment variable EARFUL_TOPICS: not valid JSON",
    )


def test_bad_override_is_blamed_on_the_environment_variable_not_the_file(tmp_path: Path) -> None:
    config = base_config(tmp_path)
    line = one_line(
        earful("run", "-c", str(config), cwd=tmp_path, env={"EARFUL_SOURCES__RSS__READ_TIMEOUT": "soon"}),
        2,
        "environment variable EARFUL_SOURCES__RSS__READ_TIMEOUT (sources.rss.read_timeout)",
    )
    assert str(config) not in line


def test_misspelt_setting_variable_is_an_error(tmp_path: Path) -> None:
    config = base_config(tmp_path)
    one_line(
        earful("run", "-c", str(config), cwd=tmp_path, env={"EARFUL_PRIVACY_AUTHOR_SECRET": "s3cret-value"}),
        2,
        "EARFUL_PRIVACY_AUTHOR_SECRET is not an earful setting",
        "did you mean EARFUL_PRIVACY__AUTHOR_SECRET",
    )
    # Variables of the project that are not settings, and others' EARFUL_ variables, are left alone.
    ok = earful(
        "run",
        "-c",
        str(config),
        cwd=tmp_path,
        env={"EARFUL_LISTENING_INTERVAL_MINUTES": "15", "EARFUL_SOMETHING_ELSE": "x"},
    )
    assert ok.returncode == 0, ok.stderr


def test_demo_secret_refused_for_real_sources(tmp_path: Path) -> None:
    config = base_config(
        tmp_path, sources={"rss": {"feeds": [{"name": "live", "url": "https://news.example.org/rss"}]}}
    )
    line = one_line(
        earful("run", "-c", str(config), cwd=tmp_path),
        2,
        "public demo secret",
        "rss feed live",
        "EARFUL_PRIVACY__AUTHOR_SECRET",
    )
    assert "earful-demo-only-secret" not in line
    assert not (tmp_path / "data").exists()  # refused before anything was fetched or stored
    placeholder = earful("run", "-c", str(config), cwd=tmp_path, env={"EARFUL_PRIVACY__AUTHOR_SECRET": "change-me"})
    one_line(placeholder, 2, "privacy.author_secret is empty or a placeholder")


# ---- the data folder on a read-only or full file system: private mounts in a user namespace ----------------------


def private_mounts_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(
    not private_mounts_available(), reason="needs unshare -rm (user and mount namespaces) to mount a tmpfs"
)


def earful_in_namespace(setup: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `setup` (mount commands) then the earful command, in a private user + mount namespace."""
    command = " ".join(shlex.quote(part) for part in [sys.executable, "-m", "earful.cli", *args])
    return earful_raw(["unshare", "-rm", "sh", "-c", f"{setup} && exec {command}"], cwd)


def earful_raw(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EARFUL_")}
    env.update({"PYTHONPATH": str(REPO), "COLUMNS": "200"})
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@needs_mounts
def test_read_only_data_folder(tmp_path: Path) -> None:
    config = base_config(tmp_path)
    first = earful("run", "-c", str(config), cwd=tmp_path)  # a data folder with data in it
    assert first.returncode == 0, first.stderr
    data = shlex.quote(str(tmp_path / "data"))
    read_only = f"mount --bind {data} {data} && mount -o remount,ro,bind {data}"
    for command in (["run"], ["stats"], ["search", "acme"]):
        result = earful_in_namespace(read_only, [*command, "-c", str(config)], tmp_path)
        one_line(result, 1, f"data folder {tmp_path / 'data'} is read-only")


@needs_mounts
def test_full_disk(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    config = base_config(tmp_path, data_dir=str(disk / "data"))
    full = (
        f"mount -t tmpfs -o size=2m tmpfs {shlex.quote(str(disk))} && "
        f"(head -c 4000000 /dev/zero > {shlex.quote(str(disk / 'filler'))} 2>/dev/null || true)"
    )
    result = earful_in_namespace(full, ["run", "-c", str(config)], tmp_path)
    one_line(result, 1, f"data folder {disk / 'data'}", "disk is full")


# One representative of each kind in earful_common.errors (and of the packages below the wiring), through the real
# command: one line on stderr, no traceback, the kind's exit code (README "Exit codes").
ERROR_KINDS = {
    "usage": (["alerts", "retry"], 2, "give an alert id or --all"),
    "usage from listeners (QueryError)": (["search", "acme AND ("], 2, "search query is not a valid query"),
    "configuration": (["stats", "-c", "missing.yaml"], 2, "missing.yaml: configuration file not found"),
    "alert not found": (["alerts", "show", "al-nope"], 1, "no alert al-nope"),
    "complaint not found": (["complaints", "show", "C-2026-999999"], 1, "no complaint record 'C-2026-999999'"),
    "refused (complaints)": (["complaints", "note", "C-2026-1", "x", "--as", "nobody"], 1, "not an active user"),
    "training data (nlp)": (
        ["split-data", "one-row.csv", "--train-out", "a.csv", "--test-out", "b.csv"],
        2,
        "cannot hold out",
    ),
}


@pytest.mark.parametrize("kind", list(ERROR_KINDS))
def test_each_error_kind_is_one_line_with_its_exit_code(tmp_path: Path, kind: str) -> None:
    args, code, expected = ERROR_KINDS[kind]
    config = base_config(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "one-row.csv").write_text("text,label\nhello,positive\n", encoding="utf-8")
    with_config = [] if "-c" in args or args[0] == "split-data" else ["-c", str(config)]
    one_line(earful(*args, *with_config, cwd=tmp_path), code, expected)
