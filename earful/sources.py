"""Build the configured listeners, one per source (each feed, subreddit or query has its own cursor)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from earful.settings import Settings
from earful_listeners.base import Listener


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
    from earful_listeners.rss import RssListener, make_http_client

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
    """Reddit, X, Mastodon and Bluesky listeners (each optional: skipped with one line when it has no credentials)."""
    from earful_common.errors import ConfigError
    from earful_listeners.bluesky import plan_bluesky
    from earful_listeners.mastodon import plan_mastodon
    from earful_listeners.reddit import plan_reddit
    from earful_listeners.x import plan_x
    from earful_records.budget import MonthlyBudget

    known = {t.name for t in settings.topics}
    sources = settings.sources
    for section, topics in (
        ("reddit", sources.reddit.topics),
        ("x", sources.x.topics),
        ("mastodon", sources.mastodon.topics),
        ("bluesky", sources.bluesky.topics),
    ):
        unknown = sorted(set(topics) - known)
        if unknown:
            raise ConfigError(
                f"sources.{section}.topics: unknown topic(s) {', '.join(unknown)}; define them under topics"
            )
    queries = {t.name: t.query for t in settings.topics}
    bluesky, bluesky_skipped, bluesky_session = plan_bluesky(
        sources.bluesky, settings.privacy, {t.name: (t.query, t.languages) for t in settings.topics}
    )
    if bluesky_session is not None:
        plan.closers.append(bluesky_session.close)
    for listeners, skipped in (
        plan_reddit(sources.reddit, settings.privacy),
        plan_x(sources.x, settings.privacy, MonthlyBudget(engine, sources.x.budget_key, sources.x.monthly_read_budget)),
        plan_mastodon(sources.mastodon, settings.privacy, queries),
        (bluesky, bluesky_skipped),
    ):
        plan.listeners.extend(listeners)
        plan.skipped.extend(skipped)
