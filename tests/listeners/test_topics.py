"""Topic queries: Lucene syntax matched locally, and the same meaning as an Elasticsearch query."""

from __future__ import annotations

import pytest

from earful_listeners.topics import MatchTarget, QueryError, compile_topic, parse_query


def target(text: str, title: str = "", lang: str = "en") -> MatchTarget:
    return MatchTarget.build(title, text, lang)


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("acme", "I love ACME boots", True),
        ("acme AND refund", "acme gave me a refund", True),
        ("acme AND refund", "acme boots", False),
        ("acme OR nordpeak", "nordpeak jacket", True),
        ("acme NOT recall", "acme recall announced", False),
        ("acme -recall", "acme recall announced", False),
        ("acme AND NOT (recall OR lawsuit)", "acme lawsuit", False),
        ('"customer service"', "their customer service is slow", True),
        ('"customer service"', "service for the customer", False),
        ("refund*", "still waiting for refunds", True),
        ("b?ot", "my boot broke", True),
        ("acme boots", "boots by acme", True),  # implicit AND
        ("title:recall", "recall", False),
        ("lang:de AND acme", "acme", False),
        ("پشتیبانی", "پشتیبانی Acme پاسخ نمی‌دهد", True),
        ("kundtjänst", "Acme KUNDTJÄNST svarar inte", True),
    ],
)
def test_matching(query: str, text: str, expected: bool) -> None:
    assert compile_topic("t", query).matches(target(text)) is expected


def test_language_filter_and_exclusion() -> None:
    topic = compile_topic("t", "acme", exclude='"wile e coyote"', languages=["de", "en"])
    assert topic.matches(target("acme", lang="de"))
    assert not topic.matches(target("acme", lang="fa"))
    assert not topic.matches(target("acme and wile e coyote", lang="en"))


@pytest.mark.parametrize("query", ["acme AND (", "acme AND", 'acme "open', "price:[1 TO 5]", "foo~2", "author:x"])
def test_malformed_or_unsupported_query_names_the_topic(query: str) -> None:
    with pytest.raises(QueryError, match="topic 'brand'"):
        compile_topic("brand", query)


def test_parse_query_rejects_empty_phrase() -> None:
    with pytest.raises(QueryError):
        parse_query('""')


def test_es_query_has_the_same_meaning(es_url: str, index_alias: str) -> None:
    """Each query selects the same documents in Elasticsearch as the local matcher does."""
    from elasticsearch import Elasticsearch

    from earful_indexer.config import IndexSettings
    from earful_indexer.template import ensure_index

    docs = {
        "1": ("Acme refund still missing", "en"),
        "2": ("Acme boots are great", "en"),
        "3": ("acme recall announced today", "en"),
        "4": ("NordPeak customer service was slow", "en"),
        "5": ("Acme Kundenservice antwortet nicht", "de"),
        "6": ("refunds for everyone", "en"),
        "7": ("the service for the customer", "en"),
    }
    es = Elasticsearch(es_url)
    ensure_index(es, IndexSettings(url=es_url, alias=index_alias))
    for doc_id, (text, lang) in docs.items():
        es.index(index=index_alias, id=doc_id, document={"text": text, "title": "", "language": lang})
    es.indices.refresh(index=index_alias)
    queries = [
        "acme",
        "acme AND refund*",
        "acme NOT recall",
        '"customer service"',
        "acme OR nordpeak",
        "acme -(recall OR boots)",
        "lang:de",
        "kundenservice OR refunds",
    ]
    for query in queries:
        topic = compile_topic("t", query)
        local = {d for d, (text, lang) in docs.items() if topic.matches(target(text, lang=lang))}
        resp = es.search(index=index_alias, query=topic.es_query(), size=100)
        remote = {hit["_id"] for hit in resp["hits"]["hits"]}
        assert remote == local, query
