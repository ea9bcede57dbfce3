"""`earful search` and `earful stats`: answers from the index, printed as tables."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from earful.services import open_services
from earful.settings import Settings
from earful_common.errors import UsageError
from earful_listeners.topics import QueryError


def _snippet(hit: dict, width: int = 90) -> str:
    text = " ".join(f"{hit.get('title', '')} {hit.get('text', '')}".split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_search(
    settings: Settings, console: Console, *, query: str, topic: str | None, lang: str | None, limit: int
) -> None:
    """Print the newest mentions matching `query`; `topic` and `lang` are checked first (a typo is an error, not
    an empty result)."""
    from earful_indexer.search import search_mentions

    topic, lang = search_filters(settings, topic, lang)
    with open_services(settings) as services:
        try:
            total, hits = search_mentions(services.es, services.alias, query, topic=topic, lang=lang, limit=limit)
        except QueryError as exc:
            raise UsageError(str(exc)) from None
    table = Table(title=f"{total} mentions match {escape(query)!s} (newest {len(hits)})", title_justify="left")
    table.add_column("published", no_wrap=True)
    table.add_column("source", no_wrap=True)
    table.add_column("lang", no_wrap=True)
    table.add_column("topics")
    table.add_column("sentiment", no_wrap=True)
    table.add_column("mention", ratio=3)
    table.add_column("url", overflow="fold", ratio=1)
    for hit in hits:
        labels = hit.get("labels") or {}
        table.add_row(
            (hit.get("published_at") or "")[:10],
            escape(hit.get("source", "")),
            hit.get("language", ""),
            escape(", ".join(hit.get("topics", []))),
            labels.get("sentiment", ""),
            escape(_snippet(hit)),
            escape(hit.get("url") or ""),
        )
    console.print(table)


def search_filters(settings: Settings, topic: str | None, lang: str | None) -> tuple[str | None, str | None]:
    """The topic as configured (any case) and the language as an ISO 639 code in lower case; UsageError for an
    unknown topic or something that is no language code."""
    import re

    if topic is not None:
        names = {t.name.casefold(): t.name for t in settings.topics}
        if topic.strip().casefold() not in names:
            known = ", ".join(sorted(names.values())) or "none"
            raise UsageError(f"--topic {topic!r}: no such topic (configured topics: {known})")
        topic = names[topic.strip().casefold()]
    if lang is not None:
        lang = lang.strip().lower()
        if not re.fullmatch(r"[a-z]{2,3}", lang):
            raise UsageError(f"--lang {lang!r}: not a language code; use an ISO 639 code such as en, de or fa")
    return topic, lang


def print_stats(settings: Settings, console: Console) -> None:
    """Print counts per topic, language, source and day."""
    from earful_indexer.search import mention_counts

    with open_services(settings) as services:
        counts = mention_counts(services.es, services.alias)
    console.print(f"[bold]{counts['total']} mentions[/] in the index")
    for key, title in (
        ("topics", "topic"),
        ("languages", "language"),
        ("sources", "source"),
        ("sentiment", "sentiment"),
        ("days", "day (published, last 30 days)"),
    ):
        if not counts[key]:
            continue
        table = Table(title=title.split(" ")[0].capitalize() if key != "days" else "Per day", title_justify="left")
        table.add_column(title)
        table.add_column("mentions", justify="right")
        for name, count in counts[key]:
            table.add_row(escape(name), str(count))
        console.print(table)
