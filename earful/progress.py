"""The progress bar of earful's long commands (a batch's sources, a re-index's mentions)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def count_progress(console: Console) -> Progress:
    """A bar with done/total and elapsed time on `console`; gone when finished, silent when not a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
