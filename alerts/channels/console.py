"""The console channel: prints alerts where the batch prints (the demo default)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from earful_alerts.channels.base import Outcome
from earful_alerts.message import AlertMessage
from earful_alerts.render import TITLE_CHARS, clean

_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


class ConsoleChannel:
    """Prints one line per alert (a batch with many alerts stays readable above its summary); the whole alert is
    one `earful alerts show <id>` away. User text is escaped so that rich markup in a post prints literally."""

    def __init__(self, name: str, console: Console) -> None:
        self.name, self._console = name, console

    def send(self, message: AlertMessage) -> Outcome:
        style = _STYLE.get(message.severity, "white")
        topic = f" · {clean(message.topic, 60)}" if message.topic else ""
        seen = f" · seen {message.occurrences}x" if message.occurrences > 1 else ""
        line = (
            f"[{style}]alert {escape('[' + message.severity.upper() + ']')}[/] {escape(clean(message.title, TITLE_CHARS))}"
            f" — {escape(clean(message.summary, 160))}[dim]{escape(topic)}{seen} · {escape(message.id)}[/]"
        )
        self._console.print(line, soft_wrap=True, highlight=False)
        return Outcome(ok=True)
