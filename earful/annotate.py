"""Per-mention work that needs nothing but the mention: language, topics, near-duplicate band keys.

It runs where the mention was fetched: in the batch's own process, or in a fetch worker process beside it.
"""

from __future__ import annotations

from earful_listeners.config import TopicSettings
from earful_listeners.dedupe import Fingerprinter
from earful_listeners.mention import Mention
from earful_listeners.topics import CompiledTopic, MatchTarget, compile_topic
from earful_nlp.language import UNDETERMINED, detect_language


def compile_topics(topics: list[TopicSettings]) -> list[CompiledTopic]:
    """The configured topics, compiled (once per batch, or once per fetch in a worker process)."""
    return [compile_topic(t.name, t.query, t.exclude, t.languages) for t in topics]


def assign_language(mention: Mention, min_letters: int) -> None:
    """Detect the mention's language; a feed's language hint fills in when detection is unsure but text exists."""
    lang, score = detect_language(f"{mention.title}\n{mention.text}", min_letters=min_letters)
    hint = mention.extra.get("language_hint")
    if lang == UNDETERMINED and hint and score is not None:
        lang = hint
    mention.language, mention.language_score = lang, score


def match_topics(mention: Mention, topics: list[CompiledTopic]) -> None:
    """Set the names of the topics the mention belongs to."""
    target = MatchTarget.build(mention.title, mention.text, mention.language)
    mention.topics = [topic.name for topic in topics if topic.matches(target)]


def annotate(
    mentions: list[Mention], topics: list[CompiledTopic], min_letters: int, fingerprinter: Fingerprinter | None
) -> None:
    """Language and topics of every mention; band keys too (for those on a topic) when given a fingerprinter."""
    for mention in mentions:
        assign_language(mention, min_letters)
        match_topics(mention, topics)
    if fingerprinter is not None:
        on_topic = [m for m in mentions if m.topics]
        for mention, bands in zip(
            on_topic, fingerprinter.bands_many([f"{m.title}\n{m.text}" for m in on_topic]), strict=True
        ):
            mention.dup_bands = bands
