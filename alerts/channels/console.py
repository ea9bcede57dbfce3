"""The console channel: prints alerts where the batch prints (the demo default)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from alerts.channels.base import Outcome
from alerts.message import AlertMessage
from alerts.render import plain_text

_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


class ConsoleChannel:
    """Prints a panel per alert; user text is escaped so that rich markup in a post prints literally."""

    def __init__(self, name: str, console: Console) -> None:
        self.name, self._console = name, console

    def send(self, message: AlertMessage) -> Outcome:
        style = _STYLE.get(message.severity, "white")
        self._console.print(Panel(escape(plain_text(message)), title=f"alert · {escape(message.severity)}",
                                  border_style=style, expand=False))
        return Outcome(ok=True)
