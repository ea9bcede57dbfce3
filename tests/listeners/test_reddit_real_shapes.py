"""The Reddit listener on listings shaped like Reddit's JSON: `removed_by_category`, `author_fullname`,
comments without `permalink`, search results with `?ref=search_posts`, and r/all comment listings spanning many
subreddits (reach looked up in one `/api/info` request, not one per subreddit)."""

from __future__ import annotations

from tests.fakes.fake_reddit import FakeReddit, comment, submission
from tests.listeners.test_reddit import fake, listeners_for  # noqa: F401 (fake: the fixture)


def listeners(api: FakeReddit, subreddits: list[str] | None = None, search: list[str] | None = None):
    return listeners_for(api, subreddits=subreddits, search=search)


def test_removed_posts_and_comments_are_not_indexed_and_are_counted_in_a_note(fake: FakeReddit) -> None:
    fake.add_subreddit("AcmeGadgets", subscribers=5000)
    fake.add_thing("t3", submission(1, removed_by_category=None))
    fake.add_thing("t3", submission(2, selftext="[removed]", removed_by_category="moderator"))
    fake.add_thing("t3", submission(3, removed_by_category="reddit"))
    fake.add_thing("t3", submission(4, selftext="[deleted]", author="[deleted]", removed_by_category="deleted"))
    fake.add_thing("t1", comment(1))
    [listener] = listeners(fake, subreddits=["AcmeGadgets"])
    result = listener.fetch(None)
    assert sorted(m.native_id for m in result.mentions) == ["t1_c1", "t3_s1"]
    assert result.item_errors == []
    assert (
        "r/AcmeGadgets new posts: 3 removed item(s) not indexed (1 by deleted, 1 by moderator, 1 by reddit)"
        in result.notes
    )


def test_urls_are_permalinks_without_query_and_comments_without_one_still_get_a_url(fake: FakeReddit) -> None:
    fake.add_subreddit("AcmeGadgets")
    fake.add_thing(
        "t3",
        submission(
            1, title="Acme search hit", permalink="/r/AcmeGadgets/comments/s1/acme_search_hit/?ref=search_posts"
        ),
    )
    fake.add_thing("t1", comment(2, permalink=None, link_id="t3_s1"))
    [sub, search] = listeners(fake, subreddits=["AcmeGadgets"], search=["acme"])
    by_id = {m.native_id: m for m in sub.fetch(None).mentions}
    assert by_id["t3_s1"].url == "https://www.reddit.com/r/AcmeGadgets/comments/s1/acme_search_hit/"
    assert by_id["t1_c2"].url == "https://www.reddit.com/comments/s1/_/c2/"
    [hit] = search.fetch(None).mentions
    assert "?" not in (hit.url or "")


def test_the_pseudonym_is_keyed_on_the_account_fullname(fake: FakeReddit) -> None:
    fake.add_subreddit("AcmeGadgets")
    fake.add_thing("t3", submission(1, author="old_name", author_fullname="t2_abc123"))
    fake.add_thing("t3", submission(2, author="new_name", author_fullname="t2_abc123"))
    fake.add_thing("t3", submission(3, author="old_name", author_fullname="t2_zzz999"))
    [listener] = listeners(fake, subreddits=["AcmeGadgets"])
    refs = {m.native_id: m.author_ref for m in listener.fetch(None).mentions}
    assert refs["t3_s1"] == refs["t3_s2"] != refs["t3_s3"]


def test_reach_of_an_r_all_comment_listing_costs_one_request_not_one_per_subreddit(fake: FakeReddit) -> None:
    names = [f"Sub{n}" for n in range(30)]
    for number, name in enumerate(names):
        fake.add_subreddit(name, subscribers=1000 + number)
        fake.add_thing("t1", comment(number, sub=name))
    [listener] = listeners(fake, subreddits=["all"])
    before = len(fake.requests)
    comments = [m for m in listener.fetch(None).mentions if m.extra["type"] == "comment"]
    assert len(comments) == 30 and {m.reach for m in comments} == {1000 + n for n in range(30)}
    lookups = [r for r in fake.requests[before:] if "/about" in r.path or "/api/info" in r.path]
    assert len(lookups) == 1


def test_a_listing_stops_at_its_deadline_and_keeps_its_cursor(fake: FakeReddit) -> None:
    fake.add_subreddit("AcmeGadgets")
    for n in range(1, 6):
        fake.add_thing("t3", submission(n))
    [slow] = listeners_for(fake, subreddits=["AcmeGadgets"], comments=False, deadline=1e-9)
    result = slow.fetch({"new": {"created_utc": 1.0, "ids": []}})
    assert result.mentions == [] and "sources.reddit.deadline" in " ".join(result.notes)
    assert result.cursor == {"new": {"created_utc": 1.0, "ids": []}}  # nothing skipped: read again next batch
    [normal] = listeners_for(fake, subreddits=["AcmeGadgets"], comments=False)
    assert len(normal.fetch(result.cursor).mentions) == 5
