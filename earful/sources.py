"""Build the configured listeners, one per source (each feed, subreddit or query has its own cursor)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from earful.settings import Settings
from listeners.base import Listener


@dataclass
class SourcePlan:
    """The listeners to run, and one line for each source kind that is configured off or skipped."""

    listeners: list[Listener] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def build_listeners(settings: Settings, engine: Engine) -> SourcePlan:
    """Every listener the configuration asks for."""
    from listeners.rss import RssListener

    plan = SourcePlan()
    rss = settings.sources.rss
    for feed in rss.feeds:
        plan.listeners.append(RssListener(feed, rss, settings.privacy))
    return plan
