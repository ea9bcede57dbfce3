"""The Reddit listener: the real praw client against the fake Reddit API on 127.0.0.1."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from earful_listeners.base import SourceError
from earful_listeners.config import PrivacySettings
from earful_listeners.mention import mention_id
from earful_listeners.reddit import RedditListener, build_reddit_listeners
from earful_listeners.reddit_client import make_reddit_client
from earful_listeners.reddit_config import RedditSettings
from tests.fakes.fake_reddit import FakeReddit, comment, populate, submission

SECRET = "test-secret"


@pytest.fixture
def fake() -> Iterator[FakeReddit]:
    api = FakeReddit(client_id="test-client", client_secret=SECRET)
    with api.serve() as url:
        api.url = url  # type: ignore[attr-defined]
        yield api


def listeners_for(
    api: FakeReddit,
    *,
    subreddits: list[str] | None = None,
    search: list[str] | None = None,
    client_secret: str = SECRET,
    privacy: PrivacySettings | None = None,
    **overrides,
) -> list[RedditListener]:
    options = {"timeout": 1, "retries": 1, "backoff_seconds": 0.01, "max_wait_seconds": 3, **overrides}
    settings = RedditSettings(
        oauth_url=api.url,
        reddit_url=api.url,  # type: ignore[attr-defined]
        topics={"acme": {"subreddits": subreddits or [], "search": search or []}},
        **options,
    )
    client = make_reddit_client(settings, "test-client", client_secret)
    return build_reddit_listeners(settings, privacy or PrivacySettings(), client)


def only(listeners: list[RedditListener]) -> RedditListener:
    assert len(listeners) == 1
    return listeners[0]


def listing_requests(api: FakeReddit, path: str) -> int:
    return sum(1 for r in api.requests if r.path.rstrip("/") == path)


def test_first_fetch_normalizes_posts_and_comments(fake: FakeReddit) -> None:
    populate(fake, posts=3, comments=2)
    listener = only(listeners_for(fake, subreddits=["r/AcmeGadgets"]))
    assert listener.source_id == "reddit:r/acmegadgets"
    result = listener.fetch(None)
    posts = [m for m in result.mentions if m.extra["type"] == "submission"]
    comments = [m for m in result.mentions if m.extra["type"] == "comment"]
    assert [m.native_id for m in posts] == ["t3_s3", "t3_s2", "t3_s1"]
    first = posts[-1]
    assert first.id == mention_id("reddit", "t3_s1")
    assert first.url == "https://www.reddit.com/r/AcmeGadgets/comments/s1/acme_post_1/"
    assert first.title == "Acme post 1" and "**Acme**" in first.text  # markdown kept as it is
    assert first.reach == 12345 and first.engagement == {"score": 1, "comments": 1}
    assert first.author_ref and first.author_ref.startswith("a_") and first.author_raw is None
    assert first.published_at is not None and first.published_at.year >= 2026
    assert [m.native_id for m in comments] == ["t1_c2", "t1_c1"]
    assert comments[0].reach == 12345  # from /api/info?sr_name=AcmeGadgets
    # a comment has no title of its own (issue 15): the thread's is kept apart
    assert comments[0].title == "" and comments[0].extra["thread_title"] == "Acme post 1"
    assert comments[0].extra["thread"] == mention_id("reddit", "t3_s1")
    assert result.cursor == {
        "new": {"created_utc": submission(3)["created_utc"], "ids": ["t3_s3"]},
        "comments": {"created_utc": comment(2)["created_utc"], "ids": ["t1_c2"]},
    }
    assert result.item_errors == [] and result.notes == []
    # the access token was asked once, with the app's credentials, and used as a bearer token
    assert listing_requests(fake, "/api/v1/access_token") == 1
    assert all(r.headers["authorization"].startswith("bearer ") for r in fake.requests if r.path.startswith("/r/"))


def test_raw_author_only_when_configured(fake: FakeReddit) -> None:
    populate(fake, posts=1)
    listener = only(
        listeners_for(fake, subreddits=["AcmeGadgets"], comments=False, privacy=PrivacySettings(store_raw_author=True))
    )
    assert listener.fetch(None).mentions[0].author_raw == "user1"


def test_incremental_fetch_reads_only_new_items_and_reruns_double_nothing(fake: FakeReddit) -> None:
    populate(fake, posts=250)
    listener = only(listeners_for(fake, subreddits=["AcmeGadgets"], comments=False))
    first = listener.fetch(None)
    assert len(first.mentions) == 250 and len({m.id for m in first.mentions}) == 250
    assert listing_requests(fake, "/r/AcmeGadgets/new") == 3  # pages of 100 followed by `after`

    populate(fake, posts=5, start=251)
    before = listing_requests(fake, "/r/AcmeGadgets/new")
    second = listener.fetch(first.cursor)
    assert [m.native_id for m in second.mentions] == [f"t3_s{n}" for n in range(255, 250, -1)]
    assert listing_requests(fake, "/r/AcmeGadgets/new") - before == 1  # stopped at the cursor on page one

    # the cursor was not committed (say the index was down): the same fetch again yields the same ids
    again = listener.fetch(first.cursor)
    assert [m.id for m in again.mentions] == [m.id for m in second.mentions]
    # and a fetch from the newest cursor finds nothing
    assert listener.fetch(second.cursor).mentions == []


def test_items_created_in_the_same_second_are_neither_lost_nor_doubled(fake: FakeReddit) -> None:
    fake.add_subreddit("AcmeGadgets")
    fake.add_thing("t3", submission(1, ts=1_790_000_000))
    fake.add_thing("t3", submission(2, ts=1_790_000_100))
    listener = only(listeners_for(fake, subreddits=["AcmeGadgets"], comments=False))
    first = listener.fetch(None)
    fake.add_thing("t3", submission(3, ts=1_790_000_100))  # same second as the newest one already read
    second = listener.fetch(first.cursor)
    assert [m.native_id for m in second.mentions] == ["t3_s3"]
    assert second.cursor["new"] == {"created_utc": 1_790_000_100, "ids": ["t3_s2", "t3_s3"]}


def test_search_queries_have_their_own_cursor(fake: FakeReddit) -> None:
    populate(fake, posts=3, sub="gadgets")
    fake.add_thing("t3", submission(9, "cooking", title="Risotto tonight", selftext="no brands here"))
    listener = only(listeners_for(fake, search=["acme"]))
    assert listener.source_id == "reddit:search:acme"
    result = listener.fetch(None)
    assert {m.native_id for m in result.mentions} == {"t3_s1", "t3_s2", "t3_s3"}
    assert set(result.cursor) == {"search"}
    searches = [r for r in fake.requests if r.path.rstrip("/") == "/r/all/search"]
    assert searches[0].params["q"] == "acme" and searches[0].params["sort"] == "new"


def test_a_429_in_the_middle_of_pagination_defers_and_loses_nothing(fake: FakeReddit) -> None:
    populate(fake, posts=250)
    listener = only(listeners_for(fake, subreddits=["AcmeGadgets"], comments=False, on_rate_limit="defer"))
    fake.fail(
        429,
        path="/r/AcmeGadgets/new",
        after=1,
        headers={"x-ratelimit-reset": "120", "x-ratelimit-remaining": "0", "x-ratelimit-used": "100"},
    )
    partial = listener.fetch(None)
    assert len(partial.mentions) == 100
    assert partial.cursor == {}  # the stream keeps its old (empty) cursor: nothing is skipped next time
    assert any("rate limited after 100 items" in n and "120s" in n for n in partial.notes)
    # other Reddit sources of the same client defer too instead of sleeping in praw
    assert "deferred" in listener.fetch(None).notes[0]


def test_a_429_waits_for_the_reset_when_allowed(fake: FakeReddit) -> None:
    populate(fake, posts=150)
    listener = only(listeners_for(fake, subreddits=["AcmeGadgets"], comments=False, on_rate_limit="wait"))
    fake.fail(
        429,
        path="/r/AcmeGadgets/new",
        after=1,
        headers={"x-ratelimit-reset": "1", "x-ratelimit-remaining": "0", "x-ratelimit-used": "100"},
    )
    started = time.monotonic()
    result = listener.fetch(None)
    assert len(result.mentions) == 150 and result.notes == []
    assert result.cursor["new"]["ids"] == ["t3_s150"]
    assert time.monotonic() - started >= 1.0


def test_a_429_longer_than_the_maximum_wait_defers(fake: FakeReddit) -> None:
    populate(fake, posts=5)
    listener = only(
        listeners_for(fake, subreddits=["AcmeGadgets"], comments=False, on_rate_limit="wait", max_wait_seconds=2)
    )
    fake.fail(429, path="/r/AcmeGadgets/new", headers={"retry-after": "600"})
    result = listener.fetch(None)
    assert result.mentions == [] and result.cursor == {} and "600s" in result.notes[0]


def test_server_errors_and_timeouts_are_retried(fake: FakeReddit) -> None:
    populate(fake, posts=3)
    listener = only(listeners_for(fake, subreddits=["AcmeGadgets"], comments=False, timeout=0.5))
    fake.fail(500, path="/r/AcmeGadgets/new")
    fake.fail(200, path="/r/AcmeGadgets/new", delay=1.5)  # longer than the 0.5 s timeout: given up, retried
    result = listener.fetch(None)
    assert len(result.mentions) == 3
    assert listing_requests(fake, "/r/AcmeGadgets/new") == 3


def test_a_server_that_keeps_failing_fails_the_source(fake: FakeReddit) -> None:
    populate(fake, posts=3)
    listener = only(listeners_for(fake, subreddits=["AcmeGadgets"], comments=False, retries=0))
    fake.fail(503, path="/r/AcmeGadgets/new", times=10)
    with pytest.raises(SourceError, match="server error"):
        listener.fetch(None)


def test_refused_credentials_fail_with_a_clear_message_and_no_secret(
    fake: FakeReddit, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake, posts=1)
    caplog.set_level(logging.DEBUG)
    listener = only(listeners_for(fake, subreddits=["AcmeGadgets"], client_secret="wrong-secret-value"))
    with pytest.raises(SourceError) as err:
        listener.fetch(None)
    assert "401" in str(err.value) and "CLIENT_SECRET" in str(err.value)
    assert "wrong-secret-value" not in str(err.value) and "wrong-secret-value" not in caplog.text


def test_a_forbidden_subreddit_fails_that_source_clearly(fake: FakeReddit) -> None:
    populate(fake, posts=1)
    listener = only(listeners_for(fake, subreddits=["AcmeGadgets"], comments=False))
    fake.fail(403, path="/r/AcmeGadgets/new", body={"reason": "private", "message": "Forbidden", "error": 403})
    with pytest.raises(SourceError, match="403"):
        listener.fetch(None)


def test_an_unknown_subreddit_fails_that_source_clearly(fake: FakeReddit) -> None:
    listener = only(listeners_for(fake, subreddits=["NoSuchPlace"], comments=False))
    with pytest.raises(SourceError, match="not found"):
        listener.fetch(None)


def test_a_malformed_body_fails_the_source(fake: FakeReddit) -> None:
    populate(fake, posts=1)
    listener = only(listeners_for(fake, subreddits=["AcmeGadgets"], comments=False))
    fake.fail(200, path="/r/AcmeGadgets/new", body="<html>upstream broke</html>", times=5)
    with pytest.raises(SourceError, match="malformed"):
        listener.fetch(None)


def test_deleted_content_and_missing_fields_do_not_break_the_batch(fake: FakeReddit) -> None:
    fake.add_subreddit("AcmeGadgets", subscribers=50)
    fake.add_thing("t3", submission(1, author="[deleted]", selftext="[removed]"))
    fake.add_thing(
        "t3",
        {
            "id": "bare",
            "name": "t3_bare",
            "title": "Acme, bare",
            "created_utc": 1_790_000_500,
            "subreddit": "AcmeGadgets",
        },
    )
    fake.add_thing("t3", submission(3, score=None, num_comments="many", subreddit_subscribers=None))
    fake.add_thing("t1", comment(1, body="[deleted]", author="[deleted]"))
    fake.add_thing("t1", comment(2))
    listener = only(listeners_for(fake, subreddits=["AcmeGadgets"]))
    result = listener.fetch(None)
    by_id = {m.native_id: m for m in result.mentions}
    assert set(by_id) == {"t3_s1", "t3_bare", "t3_s3", "t1_c2"}
    assert by_id["t3_s1"].author_ref is None and by_id["t3_s1"].text == "" and by_id["t3_s1"].extra["removed"]
    # without a permalink, the short URL Reddit resolves for any post (issue 15)
    assert by_id["t3_bare"].url == "https://www.reddit.com/comments/bare/" and by_id["t3_bare"].engagement == {}
    assert by_id["t3_s3"].engagement == {} and by_id["t3_s3"].reach is None
    assert by_id["t1_c2"].reach == 50
    assert len(result.item_errors) == 1 and "t1_c1" in result.item_errors[0]


def test_hostile_text_is_cleaned_but_kept(fake: FakeReddit) -> None:
    fake.add_subreddit("AcmeGadgets")
    persian = "گوشی\u200cهای Acme خیلی کند شده‌اند"
    fake.add_thing("t3", submission(1, title="Acme\x00\x1b[31m red\u202e", selftext=persian))
    fake.add_thing("t3", submission(2, selftext="<script>alert(1)</script> " + "x" * 100_000))
    result = only(listeners_for(fake, subreddits=["AcmeGadgets"], comments=False)).fetch(None)
    by_id = {m.native_id: m for m in result.mentions}
    assert by_id["t3_s1"].title == "Acme[31m red" and by_id["t3_s1"].text == persian  # ZWNJ kept
    assert by_id["t3_s2"].text.startswith("<script>")  # markdown is stored as text, never rendered
    assert len(by_id["t3_s2"].text) <= 40_002


def test_a_listing_that_ends_before_the_cursor_reports_a_possible_gap(fake: FakeReddit) -> None:
    populate(fake, posts=3)
    listener = only(listeners_for(fake, subreddits=["AcmeGadgets"], comments=False, max_items=50))
    first = listener.fetch(None)
    populate(fake, posts=120, start=4)
    second = listener.fetch(first.cursor)
    assert len(second.mentions) == 50
    assert any("possible gap" in n for n in second.notes)


def test_same_subreddit_in_two_topics_is_one_source(fake: FakeReddit) -> None:
    settings = RedditSettings(
        oauth_url=fake.url,
        reddit_url=fake.url,  # type: ignore[attr-defined]
        topics={
            "a": {"subreddits": ["Acme"], "search": ["acme"]},
            "b": {"subreddits": ["acme"], "search": ["acme", "globex"]},
        },
    )
    client = make_reddit_client(settings, "test-client", SECRET)
    ids = [lst.source_id for lst in build_reddit_listeners(settings, PrivacySettings(), client)]
    assert ids == ["reddit:r/acme", "reddit:search:acme", "reddit:search:globex"]
