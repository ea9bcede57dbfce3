"""Seams of the batch: what runs after the index accepted a batch (alerts, and later more)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console

from earful.services import Services
from earful_listeners.mention import Mention


@dataclass
class BatchContext:
    """What a post-index hook gets: open services, and the mentions whose hooks have not run yet and that the index
    now has (this batch's new ones, and any a crashed or index-less batch stored); a crash before their marks are
    cleared runs the hooks over them again, so hooks must be idempotent per mention."""

    services: Services
    new_mentions: list[Mention]
    started_at: datetime
    console: Console


# A hook returns counts for the batch summary (e.g. {"alerts raised": 2}) or None.
PostIndexHook = Callable[[BatchContext], dict[str, int] | None]


def post_index_hooks(services: Services) -> list[tuple[str, PostIndexHook]]:
    """The hooks to run after indexing, in order, each named for the summary and for error reports."""
    hooks: list[tuple[str, PostIndexHook]] = []
    from earful.alerts_hook import make_alerts_hook
    from earful_complaints.intake import RegisterComplaintOpener

    opener = RegisterComplaintOpener(services.engine, services.settings.complaints)
    hooks.append(("alerts", make_alerts_hook(opener)))
    return hooks
