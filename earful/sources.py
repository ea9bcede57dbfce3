"""Build the configured listeners, one per source (each feed, subreddit or query has its own cursor)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from earful.settings import Settings
from listeners.base import Listener


@dataclass
class SourcePlan:
    """The listeners to run, and one line for each source kind that is configured off or skipped."""

    listeners: list[Listener] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)  # shared clients to close after the batch

    def close(self) -> None:
        """Close what the listeners share (HTTP connection pools)."""
        for close in self.closers:
            close()


def build_listeners(settings: Settings, engine: Engine) -> SourcePlan:
    """Every listener the configuration asks for."""
    from listeners.rss import RssListener, make_http_client

    plan = SourcePlan()
    rss = settings.sources.rss
    if rss.feeds:
        client = make_http_client(rss)  # one pool (and one TLS context) for every feed of the batch
        plan.closers.append(client.close)
    for feed in rss.feeds:
        plan.listeners.append(RssListener(feed, rss, settings.privacy, client))
    _add_social(plan, settings, engine)
    return plan


def _add_social(plan: SourcePlan, settings: Settings, engine: Engine) -> None:
    """Reddit and X listeners (each optional: skipped with one line when it has no credentials)."""
    from earful.errors import ConfigError
    from listeners.reddit import plan_reddit
    from listeners.x import plan_x

    known = {t.name for t in settings.topics}
    for section, topics in (("reddit", settings.sources.reddit.topics), ("x", settings.sources.x.topics)):
        unknown = sorted(set(topics) - known)
        if unknown:
            raise ConfigError(f"sources.{section}.topics: unknown topic(s) {', '.join(unknown)}; define them under topics")
    for listeners, skipped in (
        plan_reddit(settings.sources.reddit, settings.privacy),
        plan_x(settings.sources.x, settings.privacy, engine),
    ):
        plan.listeners.extend(listeners)
        plan.skipped.extend(skipped)
