"""The X listener: the real tweepy v2 Client, its session routed to the fake X API on 127.0.0.1."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from earful_listeners.base import SourceError
from earful_listeners.config import PrivacySettings
from earful_listeners.mention import mention_id
from earful_listeners.x import XListener, build_x_listeners
from earful_listeners.x_client import make_x_client
from earful_listeners.x_config import XSettings
from earful_records.budget import MonthlyBudget, current_month, used
from tests.fakes.fake_x import BASE_ID, FakeX, populate, tweet, user

TOKEN = "test-bearer-token-value"
SEARCH = "/2/tweets/search/recent"


@pytest.fixture
def fake() -> Iterator[FakeX]:
    api = FakeX(bearer_token=TOKEN)
    with api.serve() as url:
        api.url = url  # type: ignore[attr-defined]
        yield api


def listener_for(
    api: FakeX,
    engine: Engine,
    query: str = "acme",
    token: str = TOKEN,
    privacy: PrivacySettings | None = None,
    **overrides,
) -> XListener:
    options = {"timeout": 1, "retries": 1, "backoff_seconds": 0.01, "max_wait_seconds": 3, **overrides}
    settings = XSettings(api_base=api.url, topics={"acme": [query]}, **options)  # type: ignore[attr-defined]
    client = make_x_client(settings, token)
    budget = MonthlyBudget(engine, settings.budget_key, settings.monthly_read_budget)
    [listener] = build_x_listeners(settings, privacy or PrivacySettings(), client, budget)
    return listener


def searches(api: FakeX) -> list[dict[str, str]]:
    return [r.params for r in api.requests if r.path == SEARCH]


def spent(engine: Engine) -> int:
    return used(engine, "x", current_month())


def test_first_fetch_normalizes_tweets_with_their_authors(fake: FakeX, engine: Engine) -> None:
    populate(fake, tweets=3)
    fake.add_tweet(tweet(4, text="Acme-Wasserkocher ist kaputt", lang="de"))
    listener = listener_for(fake, engine)
    assert listener.source_id == "x:search:acme"
    result = listener.fetch(None)
    assert [m.native_id for m in result.mentions] == [str(BASE_ID + n) for n in (4, 3, 2, 1)]
    assert result.mentions[0].extra["language_hint"] == "de"
    first = result.mentions[-1]
    assert first.id == mention_id("x", str(BASE_ID + 1))
    assert first.url == f"https://x.com/i/web/status/{BASE_ID + 1}"  # no handle in URLs (issue 15)
    assert "person2" not in first.model_dump_json()
    assert first.reach == 200 and first.engagement == {"likes": 1, "retweets": 1, "replies": 2, "quotes": 0}
    assert first.extra["language_hint"] == "en" and first.published_at is not None
    assert first.author_ref and first.author_raw is None
    assert result.cursor == {"since_id": str(BASE_ID + 4)}
    [params] = searches(fake)
    assert params["query"] == "(acme) -is:retweet" and "since_id" not in params
    assert set(params["tweet.fields"].split(",")) >= {
        "created_at",
        "lang",
        "public_metrics",
        "conversation_id",
        "referenced_tweets",
    }
    assert params["expansions"] == "author_id" and "public_metrics" in params["user.fields"]
    assert spent(engine) == 4  # reads are counted by what was returned


def test_incremental_fetch_uses_since_id_and_reruns_double_nothing(fake: FakeX, engine: Engine) -> None:
    populate(fake, tweets=5)
    listener = listener_for(fake, engine)
    first = listener.fetch(None)
    populate(fake, tweets=2, start=6)
    second = listener.fetch(first.cursor)
    assert [m.native_id for m in second.mentions] == [str(BASE_ID + 7), str(BASE_ID + 6)]
    assert searches(fake)[-1]["since_id"] == str(BASE_ID + 5)
    again = listener.fetch(first.cursor)  # cursor not committed: same ids again, nothing new invented
    assert [m.id for m in again.mentions] == [m.id for m in second.mentions]
    assert listener.fetch(second.cursor).mentions == []


def test_pages_through_next_token(fake: FakeX, engine: Engine) -> None:
    populate(fake, tweets=250)
    result = listener_for(fake, engine).fetch(None)
    assert len({m.id for m in result.mentions}) == 250
    assert len(searches(fake)) == 3 and searches(fake)[1]["next_token"]
    assert result.cursor == {"since_id": str(BASE_ID + 250)}
    assert spent(engine) == 250


def test_a_429_in_the_middle_of_pagination_resumes_next_batch_and_loses_nothing(fake: FakeX, engine: Engine) -> None:
    populate(fake, tweets=250)
    listener = listener_for(fake, engine, on_rate_limit="defer")
    fake.fail(
        429,
        path=SEARCH,
        after=1,
        headers={"x-rate-limit-reset": str(int(time.time()) + 300), "x-rate-limit-remaining": "0"},
    )
    partial = listener.fetch(None)
    assert len(partial.mentions) == 100 and "deferred" in partial.notes[0]
    assert partial.cursor["since_id"] is None and partial.cursor["pending"]["newest_id"] == str(BASE_ID + 250)
    populate(fake, tweets=3, start=251)  # new posts arrive meanwhile
    rest = listener.fetch(partial.cursor)
    assert len(rest.mentions) == 150
    assert {m.id for m in partial.mentions} | {m.id for m in rest.mentions} == {
        mention_id("x", str(BASE_ID + n)) for n in range(1, 251)
    }
    assert rest.cursor == {"since_id": str(BASE_ID + 250)}
    newest = listener.fetch(rest.cursor)
    assert len(newest.mentions) == 3
    assert spent(engine) == 253  # every post was paid for once


def test_a_429_waits_for_the_reset_when_allowed(fake: FakeX, engine: Engine) -> None:
    populate(fake, tweets=150)
    fake.fail(429, path=SEARCH, after=1, headers={"x-rate-limit-reset": str(int(time.time()) + 1)})
    result = listener_for(fake, engine, on_rate_limit="wait").fetch(None)
    assert len(result.mentions) == 150 and result.cursor == {"since_id": str(BASE_ID + 150)}


def test_the_read_budget_stops_x_cleanly(fake: FakeX, engine: Engine) -> None:
    populate(fake, tweets=250)
    listener = listener_for(fake, engine, monthly_read_budget=150)
    first = listener.fetch(None)
    assert len(first.mentions) == 150 and spent(engine) == 150
    assert "budget" in first.notes[0] and "150 of 150" in first.notes[0]
    assert first.cursor["pending"]["next_token"]
    requests_before = len(searches(fake))
    second = listener.fetch(first.cursor)
    assert second.mentions == [] and second.cursor == first.cursor and len(searches(fake)) == requests_before
    assert [r["max_results"] for r in searches(fake)] == ["100", "50"]


def test_server_errors_and_timeouts_are_retried(fake: FakeX, engine: Engine) -> None:
    populate(fake, tweets=3)
    fake.fail(503, path=SEARCH)
    fake.fail(200, path=SEARCH, delay=1.5)  # longer than the 1 s timeout
    result = listener_for(fake, engine, retries=2).fetch(None)
    assert len(result.mentions) == 3 and len(searches(fake)) == 3


def test_a_server_that_keeps_failing_fails_the_source_and_refunds_the_budget(fake: FakeX, engine: Engine) -> None:
    populate(fake, tweets=3)
    fake.fail(500, path=SEARCH, times=5)
    with pytest.raises(SourceError, match="server error"):
        listener_for(fake, engine).fetch(None)
    assert spent(engine) == 0


def test_a_refused_token_fails_clearly_and_never_shows_the_token(
    fake: FakeX, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as err:
        listener_for(fake, engine, token="wrong-token-value-123").fetch(None)
    assert "401" in str(err.value) and "BEARER_TOKEN" in str(err.value)
    assert "wrong-token-value-123" not in str(err.value)
    assert "wrong-token-value-123" not in caplog.text and "tweepy" in caplog.text  # tweepy did log, redacted


def test_forbidden_fails_clearly(fake: FakeX, engine: Engine) -> None:
    fake.fail(403, path=SEARCH, body={"title": "Forbidden", "status": 403, "detail": "not in your plan"})
    with pytest.raises(SourceError, match="403"):
        listener_for(fake, engine).fetch(None)


def test_a_malformed_body_fails_the_source(fake: FakeX, engine: Engine) -> None:
    populate(fake, tweets=3)
    fake.fail(200, path=SEARCH, body='{"data": [', times=3)
    with pytest.raises(SourceError, match="malformed"):
        listener_for(fake, engine).fetch(None)
    assert spent(engine) == 0


def test_suspended_authors_and_missing_fields_do_not_break_the_batch(fake: FakeX, engine: Engine) -> None:
    fake.add_user(user(1))
    fake.add_tweet(tweet(1))
    fake.add_tweet(tweet(2, author=99))  # suspended: not in includes, reported in errors
    fake.add_tweet({"id": str(BASE_ID + 3), "text": "acme with nothing else"})
    fake.add_tweet(tweet(4, lang="und", public_metrics={"like_count": "lots"}))
    result = listener_for(fake, engine).fetch(None)
    by_id = {int(m.native_id) - BASE_ID: m for m in result.mentions}
    assert set(by_id) == {1, 2, 3, 4} and result.item_errors == []
    assert by_id[2].extra["author_unavailable"] and by_id[2].reach is None and "/i/web/status/" in by_id[2].url
    assert by_id[3].author_ref is None and by_id[3].published_at is None and by_id[3].engagement == {}
    assert "language_hint" not in by_id[4].extra


def test_retweets_are_linked_to_the_original_when_configured(fake: FakeX, engine: Engine) -> None:
    fake.add_user(user(1))
    fake.add_user(user(2))
    fake.add_tweet(tweet(1, text="Acme support fixed my kettle in a day"))
    fake.add_tweet(
        tweet(
            2,
            text="RT @person1: Acme support fixed my kettle in a day",
            author=2,
            referenced_tweets=[{"type": "retweeted", "id": str(BASE_ID + 1)}],
        )
    )
    skipping = listener_for(fake, engine, retweets="skip").fetch(None)
    assert [int(m.native_id) - BASE_ID for m in skipping.mentions] == [1]
    linking = listener_for(fake, engine, retweets="link").fetch(None)
    by_id = {int(m.native_id) - BASE_ID: m for m in linking.mentions}
    assert set(by_id) == {1, 2}
    assert by_id[2].extra["retweet_of"] == by_id[1].id
    assert searches(fake)[-1]["query"] == "acme" and "referenced_tweets.id" in searches(fake)[-1]["expansions"]


def test_a_refused_pagination_token_restarts_from_the_cursor(fake: FakeX, engine: Engine) -> None:
    populate(fake, tweets=5)
    cursor = {"since_id": None, "pending": {"newest_id": str(BASE_ID + 5), "next_token": "expired!"}}
    result = listener_for(fake, engine).fetch(cursor)
    assert len(result.mentions) == 5 and "refused" in result.notes[0]
    assert result.cursor == {"since_id": str(BASE_ID + 5)}


def test_hostile_text_is_cleaned(fake: FakeX, engine: Engine) -> None:
    fake.add_user(user(1))
    fake.add_tweet(tweet(1, text="Acme\u202e\x07 کتری Acme خراب شد\u200c"))
    [mention] = listener_for(fake, engine).fetch(None).mentions
    assert mention.text == "Acme کتری Acme خراب شد\u200c".strip() or mention.text == "Acme کتری Acme خراب شد"
