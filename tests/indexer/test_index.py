"""The mention index against the real embedded server (noida-db) through the official Elasticsearch client: the
template on every index behind the alias, bulk indexing idempotent by id, search in the topic (Lucene) syntax,
and the server's refusals as one line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from earful_indexer.bulk import existing_ids, index_documents, index_mentions
from earful_indexer.client import make_client, server_error_line
from earful_indexer.config import IndexSettings
from earful_indexer.search import read_mentions, search_mentions
from earful_indexer.template import ensure_index, first_index_name
from earful_listeners.mention import Mention
from earful_listeners.topics import QueryError

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
Index = tuple[Any, IndexSettings]  # (elasticsearch.Elasticsearch, the settings of its alias)


@pytest.fixture()
def index(es_url: str, index_alias: str) -> Iterator[Index]:
    """The project's template and first index under a fresh alias on the session's server; the official client."""
    settings = IndexSettings(alias=index_alias, shards=1, replicas=0)
    es = make_client(settings, es_url)
    ensure_index(es, settings)
    yield es, settings
    for name in es.indices.get_alias(name=index_alias).body:  # the first and any rolled-over index
        es.indices.delete(index=name)
    es.options(ignore_status=404).indices.delete_index_template(name=f"{index_alias}-template")
    es.close()


def mention(n: int, text: str, *, title: str = "", language: str = "en", hours: int = 0, **extra: Any) -> Mention:
    return Mention(
        id=f"m{n:03d}",
        source_kind="rss",
        source="rss:test",
        native_id=str(n),
        title=title,
        text=text,
        published_at=T0 + timedelta(hours=hours),
        fetched_at=T0 + timedelta(days=1),
        language=language,
        topics=extra.pop("topics", ["acme"]),
        **extra,
    )


def test_the_template_maps_every_index_behind_the_alias_strictly_with_its_language_analysers(index: Index) -> None:
    es, settings = index
    ensure_index(es, settings)  # a second set-up (every command does one) changes nothing and doubles nothing
    first = first_index_name(settings.alias)
    assert es.indices.get_alias(name=settings.alias).body == {
        first: {"aliases": {settings.alias: {"is_write_index": True}}}
    }
    es.indices.rollover(alias=settings.alias)  # what housekeeping does: the next index comes from the template too
    for name, body in es.indices.get_mapping(index=settings.alias).body.items():
        mappings = body["mappings"]
        assert mappings["dynamic"] == "strict", name
        assert mappings["properties"]["text_de"] == {"type": "text", "analyzer": "german"}
        assert mappings["properties"]["published_at"]["type"] == "date"
        assert mappings["properties"]["topics"]["type"] == "keyword"
    index_settings = es.indices.get_settings(index=first).body[first]["settings"]["index"]
    assert (index_settings["number_of_shards"], index_settings["number_of_replicas"]) == ("1", "0")


def test_bulk_indexing_creates_each_mention_once_and_reports_what_was_there(index: Index) -> None:
    es, settings = index
    mentions = [mention(i, f"acme kettle {i}") for i in range(5)]
    first = index_mentions(es, settings.alias, mentions, chunk_size=2)
    assert sorted(first.created) == [m.id for m in mentions] and not first.already_present and not first.errors
    changed = mention(0, "a rerun with other text must not overwrite the stored mention")
    again = index_mentions(es, settings.alias, [changed, *mentions[1:], mention(5, "acme new one")])
    assert again.created == ["m005"] and sorted(again.already_present) == [m.id for m in mentions]
    es.indices.refresh(index=settings.alias)
    assert es.count(index=settings.alias)["count"] == 6
    assert read_mentions(es, settings.alias, ["m000"])[0].text == "acme kettle 0"
    assert existing_ids(es, settings.alias, ["m000", "m005", "m404"], chunk=2) == {"m000", "m005"}
    assert index_documents(es, settings.alias, []).created == []  # nothing to send: no request at all


def test_a_document_the_mapping_refuses_is_reported_with_one_line_and_the_others_are_indexed(index: Index) -> None:
    es, settings = index
    good = mention(1, "acme fine").to_document()
    outcome = index_documents(es, settings.alias, [("m001", good), ("m002", {**good, "unmapped_field": "x"})])
    assert outcome.created == ["m001"] and list(outcome.errors) == ["m002"]
    reason = outcome.errors["m002"]
    assert reason.startswith("strict_dynamic_mapping_exception: ") and "unmapped_field" in reason
    assert "\n" not in reason


def test_the_text_is_also_indexed_with_its_languages_analyser(index: Index) -> None:
    es, settings = index
    index_mentions(es, settings.alias, [mention(1, "My boots are walking boots", language="en")])
    index_mentions(es, settings.alias, [mention(2, "boots", language="und")])  # no analyser: no extra field
    es.indices.refresh(index=settings.alias)
    stored = es.get(index=settings.alias, id="m001")["_source"]
    assert stored["text_en"] == stored["text"]
    assert "text_en" not in es.get(index=settings.alias, id="m002")["_source"]
    stemmed = es.search(index=settings.alias, query={"match": {"text_en": "walk"}})  # english stems walking -> walk
    assert [hit["_id"] for hit in stemmed["hits"]["hits"]] == ["m001"]


def test_search_takes_the_topic_query_syntax_and_answers_newest_first(index: Index) -> None:
    es, settings = index
    index_mentions(
        es,
        settings.alias,
        [
            mention(1, "Acme refund still missing", hours=1),
            mention(2, "Acme kettle broken after a week", hours=2),
            mention(3, "Acme kettle works great", title="Review", hours=3),
            mention(4, "Acme Rückerstattung fehlt", language="de", hours=4),
            mention(5, "Nordbahn late again", topics=["nordbahn"], hours=5),
            mention(6, "acme refunds are slow", hours=6),
        ],
    )
    es.indices.refresh(index=settings.alias)

    def ids(query: str, **filters: Any) -> list[str]:
        total, hits = search_mentions(es, settings.alias, query, **filters)
        assert total == len(hits)
        return [hit["id"] for hit in hits]

    assert ids("acme AND (refund OR broken)") == ["m002", "m001"]
    assert ids('"kettle broken"') == ["m002"]
    assert ids("kettle NOT broken") == ["m003"] == ids("kettle -broken")
    assert ids("refund*") == ["m006", "m001"]  # a wildcard; newest first
    assert ids("title:review") == ["m003"]
    assert ids("acme AND lang:de") == ["m004"] == ids("acme", lang="de")
    assert ids("late OR acme", topic="nordbahn") == ["m005"]
    total, hits = search_mentions(es, settings.alias, "acme", limit=2)
    assert total == 5 and [hit["id"] for hit in hits] == ["m006", "m004"]
    assert not any(key.startswith("text_") for hit in hits for key in hit)  # per-language copies stay out


def test_a_malformed_or_unsupported_query_is_refused_before_it_reaches_the_server(index: Index) -> None:
    es, settings = index
    for query, says in (("acme AND ((", "search query"), ("acme~2", "search query"), ("reach:[1 TO 5]", "reach")):
        with pytest.raises(QueryError) as refused:
            search_mentions(es, settings.alias, query)
        assert says in str(refused.value) and "\n" not in str(refused.value)


def test_a_request_the_server_refuses_is_one_line_with_status_type_and_reason(index: Index) -> None:
    from elasticsearch import ApiError

    from earful.operational import as_reported

    es, settings = index
    for query, says in (
        ({"query_string": {"query": "acme AND (("}}, "Failed to parse query [acme AND ((]"),
        ({"range": {"published_at": {"gte": "not a date"}}}, "failed to parse date field [not a date]"),
    ):
        with pytest.raises(ApiError) as refused:
            es.search(index=settings.alias, query=query)
        line = server_error_line(refused.value)
        assert line.startswith("HTTP 400 ") and says in line and "\n" not in line
        reported = as_reported(refused.value)  # what the command line prints instead of a traceback
        assert reported is not None and str(reported) == f"index answered {line}"
    with pytest.raises(ApiError) as missing:
        es.search(index=f"{settings.alias}-nothing-here", query={"match_all": {}})
    assert server_error_line(missing.value).startswith("HTTP 404 index_not_found_exception: no such index [")


def test_the_volume_chart_runs_to_the_end_of_the_period_even_when_its_last_interval_is_empty(index: Index) -> None:
    from earful_indexer.dashboard import Period, overview

    es, settings = index
    index_mentions(es, settings.alias, [mention(n, f"acme post {n}", hours=-n) for n in range(1, 10)])
    es.indices.refresh(index=settings.alias)
    # Seven days ending at 01:00, drawn in 3-hour bars aligned to midnight: the last bar is 00:00-03:00, where
    # no mention is yet (it is the interval now is in, just past midnight).
    end = T0.replace(hour=1) + timedelta(days=1)
    view = overview(es, settings.alias, Period(end - timedelta(days=7), end))
    assert view.interval == timedelta(hours=3)
    starts = [at for at, _, _ in view.volume]
    assert starts[0] == end - timedelta(days=7, hours=1) and starts[-1] == end - timedelta(hours=1)
    assert len(starts) == 57 and view.volume[-1][1] == 0
    assert sum(count for _, count, _ in view.volume) == 9
