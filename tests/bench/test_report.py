"""bench/report.py: each benchmark run rewrites its own section of docs/benchmarks.md and leaves the rest alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.report import HEADER, printed, record, report_path

WHEN = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_a_run_writes_its_section_with_command_date_and_cpu(tmp_path: Path) -> None:
    target = tmp_path / "benchmarks.md"
    lines = ["CPU: Test CPU (2 cores)", "feedparser alone : 100 items/s  (baseline)", "whole path: 50 items/s", ""]
    assert record("ingest", lines, "Test CPU (2 cores)", command="python bench/ingest.py", path=target, when=WHEN)
    text = target.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    assert "## ingest\n\nWritten by `python bench/ingest.py` on 2026-12-01, CPU: Test CPU (2 cores), load" in text
    assert "feedparser alone : 100 items/s  (baseline)\nwhole path: 50 items/s\n```\n" in text
    assert "CPU: Test CPU" not in text.split("```text", 1)[1]  # said once, in the section's line


def test_a_second_run_replaces_only_its_own_section(tmp_path: Path) -> None:
    target = tmp_path / "benchmarks.md"
    target.write_text("# Benchmarks\n\nintro kept\n\n## alerts\n\nold alerts\n\n## ingest\n\nold ingest\n", "utf-8")
    record("alerts", ["8.5 s per cycle"], "cpu", command="c", path=target, when=WHEN)
    record("spikes", ["16/16"], "cpu", command="c", path=target, when=WHEN)
    text = target.read_text(encoding="utf-8")
    assert "intro kept" in text and "old ingest" in text and "old alerts" not in text
    assert text.index("## alerts") < text.index("8.5 s per cycle") < text.index("## ingest") < text.index("## spikes")
    assert text.count("## alerts") == 1
    again = record("alerts", ["7.0 s per cycle"], "cpu", command="c", path=target, when=WHEN)
    assert again == target and "8.5" not in target.read_text(encoding="utf-8")


def test_a_skipped_run_or_recording_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "benchmarks.md"
    assert record("spikes", ["skipped: no spike series in /x"], "cpu", path=target) is None
    monkeypatch.setenv("EARFUL_BENCH_REPORT", "off")
    assert report_path() is None and record("spikes", ["16/16"], "cpu") is None
    monkeypatch.setenv("EARFUL_BENCH_REPORT", str(target))
    assert record("spikes", ["16/16"], "cpu", command="c") == target
    assert not (tmp_path / "other").exists() and target.exists()


def test_printed_keeps_what_the_block_prints_and_still_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    with printed() as lines:
        print("one")
        print("two")
    assert lines == ["one", "two"] and capsys.readouterr().out == "one\ntwo\n"
