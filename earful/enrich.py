"""The enrichment step: classify new mentions (sentiment, complaint) between dedupe and indexing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from rich.console import Console

from earful.settings import Settings
from earful_listeners.mention import Mention

if TYPE_CHECKING:
    from earful_nlp.classifier import MentionClassifier


class Enricher(Protocol):
    """Adds labels to mentions in place."""

    def enrich(self, mentions: list[Mention]) -> None:
        """Label `mentions` (one model pass for the whole list)."""
        ...


class ClassifierEnricher:
    """Feeds title and text of each mention to the NLP classifier and stores its labels on the mention."""

    def __init__(self, classifier: MentionClassifier) -> None:
        self.classifier = classifier

    def enrich(self, mentions: list[Mention]) -> None:
        """Label the mentions; a mention with no usable text keeps `labels` empty."""
        if not mentions:
            return
        texts = [f"{m.title}\n{m.text}".strip() for m in mentions]
        results = self.classifier.classify(texts, [m.language for m in mentions])
        for mention, labels in zip(mentions, results, strict=True):
            mention.labels = labels


def load_enricher(settings: Settings, console: Console) -> Enricher | None:
    """The configured classifier, loaded and checked now; None when NLP is switched off."""
    if not getattr(settings.nlp, "enabled", False):
        return None
    from transformers.utils import logging as hf_logging

    from earful_nlp.classifier import MentionClassifier

    # The batch shows its own progress; transformers' per-file bars and notices would interleave with it.
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    with console.status("loading the classification models"):
        classifier = MentionClassifier.load(settings.nlp, settings.data_dir / "models")
    return ClassifierEnricher(classifier)
