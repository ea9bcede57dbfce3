"""The X listener on tweets shaped like X API v2 returns them: HTML entities in `text`, t.co links with
`entities.urls`, retweets cut at 140 characters with the full original in `includes.tweets`, quote tweets,
long posts with `note_tweet`, authors missing from `includes.users`, renamed accounts."""

from __future__ import annotations

from sqlalchemy import Engine

from earful_listeners.config import PrivacySettings
from earful_listeners.mention import mention_id
from tests.fakes.fake_x import BASE_ID, FakeX, tweet, user
from tests.listeners.test_x import TOKEN, fake, listener_for  # noqa: F401 (fake: the fixture)

FULL = (
    "Acme & NordPeak: boots <200 EUR> compared after 3 winters of trail use, sole wear, zipper failures, "
    "warranty answers and the refund I finally got from Acme support after six weeks of waiting"
)


def x_escaped(text: str) -> str:
    """Text the way X API v2 sends it: &, < and > as HTML entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_text_is_decoded_links_expanded_and_urls_name_nobody(fake: FakeX, engine: Engine) -> None:
    fake.add_user(user(1))
    fake.add_tweet(
        tweet(
            1,
            text=x_escaped("Acme & co <3 review: ") + "https://t.co/AbC123xyz",
            entities={
                "urls": [
                    {
                        "start": 26,
                        "end": 49,
                        "url": "https://t.co/AbC123xyz",
                        "expanded_url": "https://blog.example/acme-review",
                        "display_url": "blog.example/acme-review",
                    }
                ]
            },
        )
    )
    [mention] = listener_for(fake, engine, retweets="link").fetch(None).mentions
    assert mention.text == "Acme & co <3 review: https://blog.example/acme-review"
    assert mention.url == f"https://x.com/i/web/status/{BASE_ID + 1}"
    assert "person1" not in mention.model_dump_json()
    raw = listener_for(fake, engine, retweets="link", privacy=PrivacySettings(store_raw_author=True))
    assert raw.fetch(None).mentions[0].url == f"https://x.com/person1/status/{BASE_ID + 1}"


def test_a_retweet_carries_the_full_original_and_a_quote_links_what_it_quotes(fake: FakeX, engine: Engine) -> None:
    fake.add_user(user(1))
    fake.add_user(user(2))
    fake.add_tweet(tweet(1, text=x_escaped(FULL), author=1))
    cut = "RT @person1: " + x_escaped(FULL)[: 140 - len("RT @person1: ") - 1] + "…"
    fake.add_tweet(tweet(2, text=cut, author=2, referenced_tweets=[{"type": "retweeted", "id": str(BASE_ID + 1)}]))
    fake.add_tweet(
        tweet(
            3,
            text="Acme, again. https://t.co/q1",
            author=2,
            referenced_tweets=[{"type": "quoted", "id": str(BASE_ID + 1)}],
            entities={
                "urls": [
                    {"url": "https://t.co/q1", "expanded_url": f"https://twitter.com/person1/status/{BASE_ID + 1}"}
                ]
            },
        )
    )
    mentions = {m.native_id: m for m in listener_for(fake, engine, retweets="link").fetch(None).mentions}
    original, retweet, quote = (mentions[str(BASE_ID + n)] for n in (1, 2, 3))
    assert original.text == FULL
    assert retweet.text == "RT @person1: " + FULL and "…" not in retweet.text
    assert retweet.extra["retweet_of"] == original.id
    assert quote.extra["quote_of"] == original.id
    assert "person1" not in quote.text  # a link to X names a handle: left as the t.co link
    assert quote.author_ref == retweet.author_ref != original.author_ref


def test_a_long_post_uses_its_note_tweet_text(fake: FakeX, engine: Engine) -> None:
    fake.add_user(user(1))
    long_text = "Acme " + "boots " * 80
    fake.add_tweet(tweet(1, text=long_text[:270] + "…", note_tweet={"text": long_text.strip()}))
    [mention] = listener_for(fake, engine).fetch(None).mentions
    assert mention.text == long_text.strip()


def test_the_pseudonym_is_keyed_on_author_id_whether_or_not_the_user_is_included_or_renamed(
    fake: FakeX, engine: Engine
) -> None:
    fake.add_user(user(1))
    fake.add_tweet(tweet(1, author=1))
    fake.add_tweet(tweet(2, author=7))  # author 1007 suspended: missing from includes.users, listed in errors
    first = {m.native_id: m for m in listener_for(fake, engine).fetch(None).mentions}
    renamed = {**user(1), "username": "new_name_2026"}
    fake.users[renamed["id"]] = renamed
    fake.users[str(1007)] = {**user(7)}
    again = {m.native_id: m for m in listener_for(fake, engine).fetch(None).mentions}
    one, missing = first[str(BASE_ID + 1)], first[str(BASE_ID + 2)]
    assert missing.extra["author_unavailable"] is True and missing.author_ref
    assert again[str(BASE_ID + 1)].author_ref == one.author_ref  # a rename keeps the pseudonym
    assert again[str(BASE_ID + 2)].author_ref == missing.author_ref  # so does coming back into includes
    assert one.id == mention_id("x", str(BASE_ID + 1))


def test_a_query_stops_at_its_deadline_and_resumes_next_batch(fake: FakeX, engine: Engine) -> None:
    from tests.fakes.fake_x import populate

    populate(fake, tweets=25)
    slow = listener_for(fake, engine, page_size=10, deadline=1e-6)  # a tiny injected deadline: one page only
    first = slow.fetch(None)
    assert len(first.mentions) == 10 and "sources.x.deadline" in " ".join(first.notes)
    assert first.cursor and first.cursor["pending"]["next_token"]
    rest = listener_for(fake, engine, page_size=10).fetch(first.cursor)
    assert len(rest.mentions) == 15 and not {m.id for m in rest.mentions} & {m.id for m in first.mentions}
