"""The `earful` command as a user runs it: the demo batch, re-runs, search, stats and configuration errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def earful(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "earful.cli", *args]
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", **(env or {})}
    return subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)


def demo_config(tmp_path: Path) -> Path:
    """The bundled demo configuration, copied with its sample feeds, NLP off (tested on its own)."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    path = tmp_path / "config" / "earful.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["nlp"] = {"enabled": False}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_demo_batch_then_rerun_then_search_and_stats(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    first = earful("run", "--config", str(config), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    # 6 feeds, 3 Reddit, 2 X, 6 Mastodon (2 instances x 2 hashtags + 1 search), 2 Bluesky sources
    total = re.search(r"(\d+) new mentions from 19 sources", first.stdout)
    assert total and int(total.group(1)) >= 30, first.stdout
    for lang in ("en", "de", "it", "sv", "fa"):
        assert f"│ {lang} " in first.stdout
    second = earful("run", "--config", str(config), cwd=tmp_path)
    assert second.returncode == 0 and "0 new mentions" in second.stdout

    found = earful("search", "acme AND (rimborso OR kundtjänst)", "--config", str(config), cwd=tmp_path)
    assert found.returncode == 0 and "mentions match" in found.stdout
    assert "rss:montagna-it" in found.stdout and "rss:friluftsnytt-sv" in found.stdout
    assert "rss:bergblog-de" not in found.stdout
    stats = earful("stats", "--config", str(config), cwd=tmp_path)
    assert stats.returncode == 0 and f"{total.group(1)} mentions in the index" in stats.stdout
    assert "acme-products" in stats.stdout and "rss:kooh-fa" in stats.stdout and "2026-11-19" in stats.stdout

    bad = earful("search", "acme AND (", "--config", str(config), cwd=tmp_path)
    assert bad.returncode == 2 and "not a valid query" in bad.stderr

    # issue 15, a newcomer's run: counts explained, alerts one line each, paths and filters that do what they say
    assert "seen: already indexed" in first.stdout and "can add up to more than the new mentions" in first.stdout
    assert "╭" not in first.stdout  # alerts print one line each, no panels before the summary
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    moved = earful("stats", "--config", str(config), cwd=elsewhere)  # data_dir is relative to the config file
    assert moved.returncode == 0 and f"{total.group(1)} mentions in the index" in moved.stdout
    upper = earful("search", "acme", "--lang", "FA", "--config", str(config), cwd=tmp_path)
    lower = earful("search", "acme", "--lang", "fa", "--config", str(config), cwd=tmp_path)
    assert upper.returncode == 0 and upper.stdout == lower.stdout and "rss:kooh-fa" in upper.stdout
    unknown = earful("search", "acme", "--topic", "nosuch", "--config", str(config), cwd=tmp_path)
    assert unknown.returncode == 2 and "--topic 'nosuch': no such topic" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_invalid_configuration_names_file_key_and_problem(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "topics:\n  - {name: brand, query: 'acme AND ('}\n  - {name: other, query: x, langs: [en]}\n"
        "sources: {rss: {feedz: []}}\n"
    )
    result = earful("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert str(config) in result.stderr
    assert "topics[brand]: topic 'brand' query is not a valid query" in result.stderr
    assert "topics[other].langs: unknown key" in result.stderr
    assert "sources.rss.feedz: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("index:\n  url: [unclosed\n")
    result = earful("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2 and "not valid YAML at line" in result.stderr


def test_missing_config_file(tmp_path: Path) -> None:
    result = earful("run", "--config", str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert result.returncode == 2 and "configuration file not found" in result.stderr


def test_secrets_from_environment_never_printed(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("index: {url: 'http://127.0.0.1:9', username: elastic}\n")
    secret = "hunter2-very-secret"
    result = earful(
        "run",
        "--config",
        str(config),
        cwd=tmp_path,
        env={"EARFUL_INDEX__PASSWORD": secret, "EARFUL_PRIVACY__AUTHOR_SECRET": secret},
    )
    assert result.returncode != 0
    assert secret not in result.stdout and secret not in result.stderr


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    result = earful("run", "--bogus", cwd=tmp_path)
    assert result.returncode == 2 and "No such option" in result.stderr and "Traceback" not in result.stderr
