"""Refuse to pseudonymise real people with the public demo secret.

The default `privacy.author_secret` is in the source code, so anyone can recompute the pseudonyms it makes. It is
fine for the demo configuration (bundled sample feeds, replayed Reddit and X fixtures); as soon as a source reads
real posts, a run needs a secret of its own.
"""

from __future__ import annotations

from earful.settings import Settings
from earful_common.errors import ConfigError
from earful_listeners.config import DEMO_AUTHOR_SECRET

PLACEHOLDERS = ("", "change-me")  # .env.example's placeholder, and an unset compose variable


def live_sources(settings: Settings) -> list[str]:
    """The configured sources that read real posts (not a local file or a replayed fixture)."""
    sources = settings.sources
    live = [f"rss feed {feed.name}" for feed in sources.rss.feeds if feed.url is not None]
    reddit, x = sources.reddit, sources.x
    if (
        reddit.enabled
        and reddit.replay is None
        and reddit.client_id is not None
        and any(t.subreddits or t.search for t in reddit.topics.values())
    ):
        live.append("reddit")
    if x.enabled and x.replay is None and x.bearer_token is not None and any(x.topics.values()):
        live.append("x")
    return live


def require_author_secret(settings: Settings) -> None:
    """Raise ConfigError (exit 2) when real posts would be pseudonymised with the public demo secret."""
    secret = settings.privacy.author_secret.get_secret_value()
    if secret != DEMO_AUTHOR_SECRET and secret.strip() not in PLACEHOLDERS:
        return
    live = live_sources(settings)
    if not live:
        return  # the demo: bundled samples and replayed fixtures only
    more = f" and {len(live) - 1} more source(s)" if len(live) > 1 else ""
    what = "the public demo secret" if secret == DEMO_AUTHOR_SECRET else "empty or a placeholder"
    raise ConfigError(
        f"privacy.author_secret is {what}, but {live[0]}{more} reads real posts; set your own "
        f"(and keep it: pseudonyms are keyed on it), e.g. export EARFUL_PRIVACY__AUTHOR_SECRET=$(openssl rand -hex 32)"
    )
