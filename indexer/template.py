"""The mention index: an index template with explicit mappings, and a write alias over rolled-over indices.

`text` and `title` use the standard analyser (exact words: what topic queries match on); `text_<lang>` holds the
same text analysed with the Elasticsearch analyser of its language (stemming, stop words) where one exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from earful_indexer.config import IndexSettings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

# ISO 639-1 code -> Elasticsearch built-in language analyser.
LANGUAGE_ANALYZERS: dict[str, str] = {
    "ar": "arabic",
    "bg": "bulgarian",
    "bn": "bengali",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "gl": "galician",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "lv": "latvian",
    "nl": "dutch",
    "no": "norwegian",
    "nb": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "th": "thai",
    "tr": "turkish",
    "ckb": "sorani",
    "et": "estonian",
}

_KEYWORD = {"type": "keyword"}


def language_field(lang: str) -> str | None:
    """The per-language text field for `lang`, or None when Elasticsearch has no analyser for it."""
    return f"text_{lang}" if lang in LANGUAGE_ANALYZERS else None


def mappings() -> dict[str, Any]:
    """Explicit mappings of a mention document; unknown top-level fields are rejected (dynamic: strict)."""
    properties: dict[str, Any] = {
        "source_kind": _KEYWORD,
        "source": _KEYWORD,
        "native_id": _KEYWORD,
        "url": {"type": "keyword", "ignore_above": 2048},
        "title": {"type": "text", "analyzer": "standard"},
        "text": {"type": "text", "analyzer": "standard"},
        "author_ref": _KEYWORD,
        "author_raw": _KEYWORD,
        "published_at": {"type": "date"},
        "fetched_at": {"type": "date"},
        "reach": {"type": "long"},
        "engagement": {"type": "object", "dynamic": True},
        "language": _KEYWORD,
        "language_score": {"type": "float"},
        "topics": _KEYWORD,
        "duplicate_of": _KEYWORD,
        "labels": {
            "type": "object",
            "dynamic": True,  # room for more heads (e.g. complaint category)
            "properties": {
                "sentiment": _KEYWORD,
                "sentiment_scores": {"properties": {k: {"type": "float"} for k in ("negative", "neutral", "positive")}},
                "complaint": {"type": "boolean"},
                "complaint_probability": {"type": "float"},
                "model": _KEYWORD,
                "model_version": _KEYWORD,
            },
        },
        "extra": {"type": "object", "dynamic": True},
    }
    for lang, analyzer in sorted(LANGUAGE_ANALYZERS.items()):
        properties[f"text_{lang}"] = {"type": "text", "analyzer": analyzer}
    return {"dynamic": "strict", "properties": properties}


def template_body(settings: IndexSettings) -> dict[str, Any]:
    """The index template for every index behind the alias."""
    return {
        "index_patterns": [f"{settings.alias}-*"],
        "template": {
            "settings": {"number_of_shards": settings.shards, "number_of_replicas": settings.replicas},
            "mappings": mappings(),
        },
        "priority": 200,
        "_meta": {"managed_by": "earful"},
    }


def first_index_name(alias: str) -> str:
    """Name of the first index behind the alias (rollover numbers the next ones)."""
    return f"{alias}-000001"


def ensure_index(es: Elasticsearch, settings: IndexSettings) -> None:
    """Install or update the template, and create the first index with the write alias if there is none."""
    es.indices.put_index_template(name=f"{settings.alias}-template", **template_body(settings))
    if not es.indices.exists_alias(name=settings.alias):
        es.indices.create(index=first_index_name(settings.alias), aliases={settings.alias: {"is_write_index": True}})
