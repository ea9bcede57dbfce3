"""The Bluesky listener: the real atproto client against the fake XRPC API on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from earful_listeners.base import SourceError
from earful_listeners.bluesky import BlueskyListener, bluesky_queries
from earful_listeners.bluesky_client import BlueskySession
from earful_listeners.bluesky_config import BlueskySettings
from earful_listeners.bluesky_normalize import expand_facets
from earful_listeners.config import PrivacySettings
from earful_listeners.mention import mention_id
from tests.fakes.fake_bluesky import IDENTIFIER, PASSWORD, FakeBluesky, did, link_facet, populate, post, rkey

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
LOGIN = "/xrpc/com.atproto.server.createSession"


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    api = FakeBluesky(IDENTIFIER, PASSWORD)
    with api.serve() as url:
        api.url = url  # type: ignore[attr-defined]
        yield api


def listener_for(
    api: FakeBluesky,
    password: str | None = PASSWORD,
    query: str = "acme",
    lang: str | None = None,
    privacy: PrivacySettings | None = None,
    **overrides,
) -> BlueskyListener:
    options = {"timeout": 1, "retries": 1, "backoff_seconds": 0.01, "max_wait_seconds": 3, **overrides}
    url = api.url  # type: ignore[attr-defined]
    settings = BlueskySettings(
        service_url=url, public_url=url, identifier=IDENTIFIER, topics={"acme": [query]}, **options
    )
    return BlueskyListener(query, lang, BlueskySession(settings, password), settings, privacy or PrivacySettings())


def searches(api: FakeBluesky) -> list[dict[str, str]]:
    return [r.params for r in api.requests if r.path == SEARCH]


def test_first_fetch_logs_in_and_turns_posts_into_mentions_keyed_on_the_did(fake: FakeBluesky) -> None:
    populate(fake, posts=3)
    text = "Die Acme-Stiefel 🥾 sind undicht! Bericht: bergblog.example/acme-stie…"
    fake.add_post(
        post(
            4,
            text=text,
            author=2,
            langs=("de",),
            facets=[link_facet(text, "bergblog.example/acme-stie…", "https://bergblog.example/2026/acme-stiefel")],
        )
    )
    result = listener_for(fake).fetch(None)
    assert [r.path for r in fake.requests] == [LOGIN, SEARCH]
    assert [m.native_id for m in result.mentions] == [
        f"at://{did(1 + n % 3)}/app.bsky.feed.post/{rkey(n)}" for n in (4, 3, 2, 1)
    ]
    german = result.mentions[0]
    assert german.text == "Die Acme-Stiefel 🥾 sind undicht! Bericht: https://bergblog.example/2026/acme-stiefel"
    assert german.extra["language_hint"] == "de" and german.extra["links"] == [
        "https://bergblog.example/2026/acme-stiefel"
    ]
    assert german.url == f"https://bsky.app/profile/{did(2)}/post/{rkey(4)}"
    first = result.mentions[-1]
    assert first.id == mention_id("bluesky", first.native_id)
    assert first.engagement == {"likes": 1, "reposts": 2, "replies": 1, "quotes": 0}
    assert first.published_at == datetime(2026, 11, 20, 10, 0, 1, tzinfo=UTC) and first.author_raw is None
    assert ".bsky.social" not in json.dumps([m.to_document() for m in result.mentions])  # no handle in the index
    assert result.cursor["since"] == "2026-11-20T09:55:04.000Z"  # 5 minutes before the newest post
    params = searches(fake)[0]
    assert params["q"] == "acme" and params["sort"] == "latest" and params["limit"] == "100" and "since" not in params


def test_a_changed_handle_keeps_the_pseudonym_and_store_raw_author_keeps_the_handle(fake: FakeBluesky) -> None:
    fake.add_post(post(1))
    renamed = post(2)
    renamed["author"]["handle"] = "new-name.example.com"
    fake.add_post(
        {
            **renamed,
            "author": {**renamed["author"], "did": did(2)},
            "uri": f"at://{did(2)}/app.bsky.feed.post/{rkey(2)}",
        }
    )
    fake.add_post({**post(3, author=2)})
    mentions = {m.native_id: m for m in listener_for(fake).fetch(None).mentions}
    by_did2 = [m for uri, m in mentions.items() if did(2) in uri]
    assert len(by_did2) == 2 and by_did2[0].author_ref == by_did2[1].author_ref
    raw = listener_for(fake, privacy=PrivacySettings(store_raw_author=True)).fetch(None).mentions
    assert {m.author_raw for m in raw} >= {"new-name.example.com", "person1.bsky.social"}


def test_pages_with_the_api_cursor(fake: FakeBluesky) -> None:
    populate(fake, posts=25)
    result = listener_for(fake, page_size=10).fetch(None)
    assert len({m.id for m in result.mentions}) == 25
    assert [p.get("cursor") for p in searches(fake)] == [None, "10", "20"]


def test_incremental_fetch_searches_since_the_overlap_and_drops_what_it_saw(fake: FakeBluesky) -> None:
    populate(fake, posts=5)
    listener = listener_for(fake, overlap_seconds=60)
    first = listener.fetch(None)
    populate(fake, posts=2, start=6)
    fake.add_post(post(50, minute=3))  # created before the newest post seen, indexed only now: in the overlap
    second = listener.fetch(first.cursor)
    assert searches(fake)[-1]["since"] == first.cursor["since"] == "2026-11-20T09:59:05.000Z"
    assert {m.native_id.rsplit("/", 1)[1] for m in second.mentions} == {rkey(6), rkey(7), rkey(50)}
    assert listener.fetch(second.cursor).mentions == []
    again = listener.fetch(first.cursor)  # the cursor was not committed: the same ids again
    assert {m.id for m in again.mentions} == {m.id for m in second.mentions}


def test_a_429_defers_the_rest_and_the_next_batch_resumes_without_loss(fake: FakeBluesky) -> None:
    populate(fake, posts=25)
    fake.fail(
        429,
        path=SEARCH,
        after=1,
        headers={
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(int(time.time()) + 300),
            "ratelimit-policy": "3000;w=300",
        },
    )
    listener = listener_for(fake, page_size=10, on_rate_limit="defer")
    partial = listener.fetch(None)
    assert len(partial.mentions) == 10 and re.search(r"deferred .*resets in (29\d|300)s", partial.notes[0])
    assert partial.cursor["pending"]["cursor"] == "10" and "since" not in partial.cursor
    rest = listener.fetch(partial.cursor)
    assert len(rest.mentions) == 15
    assert {m.id for m in partial.mentions} | {m.id for m in rest.mentions} == {
        m.id for m in listener_for(fake).fetch(None).mentions
    }
    assert "pending" not in rest.cursor


def test_server_errors_and_timeouts_are_retried(fake: FakeBluesky) -> None:
    populate(fake, posts=3)
    fake.fail(502, path=SEARCH)
    fake.fail(200, path=SEARCH, delay=0.6)  # longer than the 0.2 s timeout
    result = listener_for(fake, retries=2, timeout=0.2).fetch(None)
    assert len(result.mentions) == 3 and len(searches(fake)) == 3


def test_a_server_that_keeps_failing_fails_the_source(fake: FakeBluesky) -> None:
    fake.fail(500, path=SEARCH, times=5)
    with pytest.raises(SourceError, match=r"Bluesky answered 500 after retries"):
        listener_for(fake).fetch(None)


@pytest.mark.parametrize("body", ['{"posts": [', '{"cursor": "x"}'])
def test_a_malformed_body_fails_the_source(fake: FakeBluesky, body: str) -> None:
    fake.fail(200, path=SEARCH, body=body, headers={"content-type": "application/json"})
    with pytest.raises(SourceError, match="malformed"):
        listener_for(fake).fetch(None)


def test_search_without_an_app_password_is_refused_with_one_clear_line(fake: FakeBluesky) -> None:
    with pytest.raises(SourceError, match="403.*APP_PASSWORD"):
        listener_for(fake, password=None).fetch(None)
    assert LOGIN not in [r.path for r in fake.requests]


def test_a_wrong_app_password_fails_clearly_and_never_shows(
    fake: FakeBluesky, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError, match="refused the login") as err:
        listener_for(fake, password="wrong-app-pass-999").fetch(None)
    assert "wrong-app-pass-999" not in str(err.value) + caplog.text


def test_facets_use_utf8_byte_offsets_and_bad_ones_are_ignored() -> None:
    text = "پوتین Acme 👌 example.com/a-very-lo... #acme"
    link = link_facet(text, "example.com/a-very-lo...", "https://example.com/a-very-long-review")
    tag_start = text.encode().index(b"#acme")
    facets = [
        link,
        {
            "index": {"byteStart": tag_start, "byteEnd": tag_start + 5},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "acme"}],
        },
        {
            "index": {"byteStart": 1, "byteEnd": 3},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://x"}],
        },
        {
            "index": {"byteStart": 5, "byteEnd": 900},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://y"}],
        },
    ]
    expanded, found = expand_facets(text, facets)
    assert expanded == "پوتین Acme 👌 https://example.com/a-very-long-review #acme"
    assert found["links"] == ["https://example.com/a-very-long-review"] and found["tags"] == ["acme"]


def test_replies_and_quotes_are_linked(fake: FakeBluesky) -> None:
    parent = f"at://{did(1)}/app.bsky.feed.post/{rkey(1)}"
    fake.add_post(post(1))
    fake.add_post(
        post(2, author=2, reply={"root": {"uri": parent, "cid": "bafy1"}, "parent": {"uri": parent, "cid": "bafy1"}})
    )
    fake.add_post(
        post(3, author=3, embed={"$type": "app.bsky.embed.record", "record": {"uri": parent, "cid": "bafy1"}})
    )
    by_rkey = {m.native_id.rsplit("/", 1)[1]: m for m in listener_for(fake).fetch(None).mentions}
    assert by_rkey[rkey(2)].extra["reply_to"] == by_rkey[rkey(1)].id == by_rkey[rkey(2)].extra["conversation"]
    assert by_rkey[rkey(3)].extra["quote_of"] == by_rkey[rkey(1)].id


def test_topic_queries_map_to_search_and_a_single_language_is_sent_as_lang(fake: FakeBluesky) -> None:
    settings = BlueskySettings(topics={"acme": "auto", "boots": "auto", "peak": ["nordpeak"]})
    pairs, notes = bluesky_queries(
        settings,
        {"acme": ("acme AND (support OR refund*) NOT spam", []), "boots": ("boot*", []), "peak": ("nordpeak", ["de"])},
    )
    assert pairs == [("acme", None), ("nordpeak", "de")]
    assert "topic 'boots'" in notes[0]
    fake.add_post(post(1, text="Nordpeak Jacke", langs=("de",)))
    fake.add_post(post(2, text="Nordpeak jacket", langs=("en",)))
    result = listener_for(fake, query="nordpeak", lang="de").fetch(None)
    assert [m.extra["language_hint"] for m in result.mentions] == ["de"] and searches(fake)[0]["lang"] == "de"


def test_a_window_is_bounded_server_side_with_since_and_until(fake: FakeBluesky) -> None:
    populate(fake, posts=10)
    start, end = datetime(2026, 11, 20, 10, 0, 3, tzinfo=UTC), datetime(2026, 11, 20, 10, 0, 7, tzinfo=UTC)
    result = listener_for(fake).fetch_window(start, end)
    assert sorted(m.native_id.rsplit("/", 1)[1] for m in result.mentions) == [rkey(n) for n in (3, 4, 5, 6)]
    assert result.cursor is None
    assert (
        searches(fake)[0]["since"] == "2026-11-20T10:00:03.000Z"
        and searches(fake)[0]["until"] == "2026-11-20T10:00:07.000Z"
    )


def test_a_429_waits_for_the_reset_in_the_headers_when_allowed(fake: FakeBluesky) -> None:
    populate(fake, posts=3)
    fake.fail(429, path=SEARCH, headers={"ratelimit-remaining": "0", "ratelimit-reset": str(int(time.time()) + 20)})
    waits: list[float] = []
    url = fake.url  # type: ignore[attr-defined]
    settings = BlueskySettings(
        service_url=url,
        public_url=url,
        identifier=IDENTIFIER,
        topics={"acme": ["acme"]},
        on_rate_limit="wait",
        max_wait_seconds=60,
    )
    listener = BlueskyListener(
        "acme", None, BlueskySession(settings, PASSWORD), settings, PrivacySettings(), sleep=waits.append
    )
    result = listener.fetch(None)
    assert len(result.mentions) == 3 and len(waits) == 1 and 15 < waits[0] <= 21
