"""docs/benchmarks.md, the one place for measured figures: each benchmark run rewrites its own section there.

A section holds what the run printed (its figures next to the baseline measured in the same run), the command,
the date and the CPU. Other sections and the text above the first section are kept as they are. Set
EARFUL_BENCH_REPORT to another file to write there instead, or to `off` to write nothing (the tests do).

A benchmark script ends with:

    if __name__ == "__main__":
        with printed() as lines:
            main()
        record("ingest", lines, cpu_model())
"""

from __future__ import annotations

import io
import os
import re
import shlex
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
ENV = "EARFUL_BENCH_REPORT"
HEADER = """# Benchmarks

Measured figures of earful, one section per benchmark in `bench/`. Each section is written by its benchmark
(`bench/report.py`) on every run: its figures next to the baseline measured in the same run, the command, the date
and the CPU it ran on. Compare ratios to the baseline rather than raw figures across machines; with other work on
the same cores the raw figures drop.
"""
_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)


def report_path() -> Path | None:
    """Where runs are recorded: EARFUL_BENCH_REPORT (a file, or `off` for nowhere), else docs/benchmarks.md."""
    chosen = os.environ.get(ENV, "").strip()
    if chosen.lower() == "off":
        return None
    return Path(chosen) if chosen else REPORT


def command_line(argv: Sequence[str] | None = None) -> str:
    """How this run was started, as a person would type it from the repository root."""
    args = list(sys.argv if argv is None else argv)
    script = Path(args[0]) if args else Path("bench")
    try:
        script = script.resolve().relative_to(REPORT.parents[1])
    except ValueError:
        pass
    return shlex.join([".venv/bin/python", str(script), *args[1:]])


def render_section(section: str, lines: Sequence[str], cpu: str, command: str, when: datetime | None = None) -> str:
    """The Markdown of one section: heading, command, date, CPU, and the printed figures verbatim."""
    day = (when or datetime.now(UTC)).strftime("%Y-%m-%d")
    load = f", load average {os.getloadavg()[0]:.1f} at the end" if hasattr(os, "getloadavg") else ""
    body = [line.rstrip() for line in lines if line.strip() != f"CPU: {cpu}"]
    while body and not body[-1]:
        body.pop()
    return (
        f"## {section}\n\nWritten by `{command}` on {day}, CPU: {cpu}{load}.\n\n```text\n" + "\n".join(body) + "\n```\n"
    )


def replace_section(document: str, section: str, text: str) -> str:
    """`document` with the section named `section` replaced by `text` (appended when it has none)."""
    heads = list(_SECTION.finditer(document))
    for position, head in enumerate(heads):
        if head.group(1).strip() == section:
            end = heads[position + 1].start() if position + 1 < len(heads) else len(document)
            return document[: head.start()] + text + ("\n" if end < len(document) else "") + document[end:]
    return document.rstrip("\n") + "\n\n" + text


def record(
    section: str,
    lines: Sequence[str],
    cpu: str,
    *,
    command: str | None = None,
    path: Path | None = None,
    when: datetime | None = None,
) -> Path | None:
    """Rewrite `section` of the benchmarks file with this run's printed `lines`; returns the file written (None
    when recording is off). A run that measured nothing (it printed only a `skipped: ...` line) is not recorded."""
    target = path or report_path()
    printed_lines = [line for line in lines if line.strip()]
    if target is None or not printed_lines or printed_lines[0].startswith("skipped:"):
        return None
    document = target.read_text(encoding="utf-8") if target.exists() else HEADER
    text = render_section(section, lines, cpu, command or command_line(), when)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(replace_section(document, section, text), encoding="utf-8")
    return target


class _Tee(io.TextIOBase):
    """Writes through to the real stdout and keeps a copy."""

    def __init__(self, through: io.TextIOBase) -> None:
        self.through = through
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.through.write(text)
        return self.copy.write(text)

    def flush(self) -> None:
        self.through.flush()


@contextmanager
def printed() -> Iterator[list[str]]:
    """Collect what the block prints (still printing it) into the yielded list, filled when the block ends."""
    lines: list[str] = []
    tee = _Tee(sys.stdout)  # type: ignore[arg-type]
    with redirect_stdout(tee):
        yield lines
    lines.extend(tee.copy.getvalue().splitlines())
