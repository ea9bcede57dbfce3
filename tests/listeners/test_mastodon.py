"""The Mastodon listener: the real Mastodon.py client against the fake Mastodon API on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from earful_listeners.base import SourceError
from earful_listeners.config import PrivacySettings
from earful_listeners.mastodon import MastodonListener, build_mastodon_listeners
from earful_listeners.mastodon_client import make_mastodon_client
from earful_listeners.mastodon_config import MastodonSettings
from earful_listeners.mention import mention_id
from tests.fakes.fake_mastodon import FakeMastodon, account, populate, status, status_id

TOKEN = "mastodon-token-value-123"
TAG = "/api/v1/timelines/tag/acme"


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    api = FakeMastodon(access_token=TOKEN)
    with api.serve() as url:
        api.url = url  # type: ignore[attr-defined]
        yield api


def listeners_for(
    api: FakeMastodon,
    token: str | None = TOKEN,
    privacy: PrivacySettings | None = None,
    search: list[str] | None = None,
    **overrides,
) -> dict[str, MastodonListener]:
    options = {"timeout": 1, "retries": 1, "backoff_seconds": 0.01, "max_wait_seconds": 3, **overrides}
    settings = MastodonSettings(
        instances={"ex": {"url": api.url}},  # type: ignore[attr-defined]
        topics={"acme": {"hashtags": ["Acme"], "search": search or []}},
        **options,
    )
    client = make_mastodon_client(api.url, token, settings)  # type: ignore[attr-defined]
    found, notes = build_mastodon_listeners(
        settings, privacy or PrivacySettings(), {"ex": (client, token is not None)}, {}
    )
    listeners = {listener.source_id: listener for listener in found}
    listeners["notes"] = notes  # type: ignore[assignment]
    return listeners


def tag_listener(api: FakeMastodon, **kwargs) -> MastodonListener:
    return listeners_for(api, **kwargs)["mastodon:ex:tag:acme"]


def sid(n: int) -> str:
    return status_id(n)


def reads(api: FakeMastodon, path: str = TAG) -> list[dict[str, str]]:
    return [r.params for r in api.requests if r.path == path]


def test_first_fetch_turns_statuses_into_mentions_without_naming_their_authors(fake: FakeMastodon) -> None:
    populate(fake, statuses=3)
    fake.add_status(
        status(
            4,
            lang="de",
            content='<p>Meine <a href="https://x/tags/acme">#<span>Acme</span></a> Stiefel &amp; Jacke sind <strong>kaputt</strong><br>leider<script>alert(1)</script></p>',
        )
    )
    listener = tag_listener(fake)
    result = listener.fetch(None)
    assert [m.native_id for m in result.mentions] == [f"{sid(n)}@{fake.url.split('//')[1]}" for n in (4, 3, 2, 1)]  # type: ignore[attr-defined]
    german = result.mentions[0]
    assert german.text == "Meine #Acme Stiefel & Jacke sind kaputt\nleider"
    assert german.extra["language_hint"] == "de" and german.extra["hashtags"] == ["acme"]
    first = result.mentions[-1]
    assert first.id == mention_id("mastodon", f"https://mastodon.example/users/person2/statuses/{sid(1)}")
    assert first.engagement == {"boosts": 2, "favourites": 1, "replies": 1} and first.reach == 200
    assert (
        first.author_ref
        and first.author_raw is None
        and first.published_at == datetime(2026, 11, 20, 10, 0, 1, tzinfo=UTC)
    )
    assert first.url.endswith(f"/statuses/{sid(1)}")
    assert "person" not in json.dumps([m.to_document() for m in result.mentions])  # no handle in the index
    assert result.cursor == {"since_id": sid(4)}
    first_read = reads(fake)[0]
    assert first_read["limit"] == "40" and "since_id" not in first_read


def test_incremental_fetch_uses_since_id_and_a_rerun_doubles_nothing(fake: FakeMastodon) -> None:
    populate(fake, statuses=5)
    listener = tag_listener(fake)
    first = listener.fetch(None)
    populate(fake, statuses=2, start=6)
    second = listener.fetch(first.cursor)
    assert [m.native_id.split("@")[0] for m in second.mentions] == [sid(7), sid(6)]
    assert reads(fake)[-2]["since_id"] == sid(5)
    again = listener.fetch(first.cursor)  # the cursor was not committed: the same ids again
    assert [m.id for m in again.mentions] == [m.id for m in second.mentions]
    assert listener.fetch(second.cursor).mentions == []


def test_pages_through_max_id_until_an_empty_page(fake: FakeMastodon) -> None:
    populate(fake, statuses=12)
    result = tag_listener(fake, page_size=5).fetch(None)
    assert len({m.id for m in result.mentions}) == 12
    assert [r.get("max_id") for r in reads(fake)] == [None, sid(8), sid(3), sid(1)]


def test_a_429_defers_the_rest_and_the_next_batch_resumes_without_loss(fake: FakeMastodon) -> None:
    populate(fake, statuses=12)
    first = tag_listener(fake, page_size=5).fetch(None)
    populate(fake, statuses=12, start=13)
    reset = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fake.fail(
        429,
        path=TAG,
        after=1,
        headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
    )
    listener = tag_listener(fake, page_size=5, on_rate_limit="defer")
    partial = listener.fetch(first.cursor)
    assert (
        len(partial.mentions) == 5
        and "deferred" in partial.notes[0]
        and re.search(r"resets in (29\d|300)s", partial.notes[0])
    )
    assert partial.cursor == {"since_id": sid(12), "pending": {"newest_id": sid(24), "max_id": sid(20)}}
    rest = listener.fetch(partial.cursor)
    got = {m.id for m in partial.mentions} | {m.id for m in rest.mentions}
    assert len(got) == 12 and len(partial.mentions) + len(rest.mentions) == 12
    assert rest.cursor == {"since_id": sid(24)}


def test_server_errors_and_timeouts_are_retried(fake: FakeMastodon) -> None:
    populate(fake, statuses=3)
    fake.fail(503, path=TAG)
    fake.fail(200, path=TAG, delay=0.6)  # longer than the 0.2 s timeout
    result = tag_listener(fake, retries=2, timeout=0.2).fetch(None)
    assert len(result.mentions) == 3


def test_a_server_that_keeps_failing_fails_the_source_with_one_line(fake: FakeMastodon) -> None:
    fake.fail(500, path=TAG, times=5)
    with pytest.raises(SourceError, match=r"server error \(500\) after retries"):
        tag_listener(fake).fetch(None)


@pytest.mark.parametrize("body", ['[{"id": "1", "content": ', '{"error": "not a list"}'])
def test_a_malformed_body_fails_the_source(fake: FakeMastodon, body: str) -> None:
    fake.fail(200, path=TAG, body=body, headers={"content-type": "application/json"}, times=3)
    with pytest.raises(SourceError, match="malformed"):
        tag_listener(fake).fetch(None)


def test_search_needs_a_token_and_a_refused_token_never_shows(
    fake: FakeMastodon, caplog: pytest.LogCaptureFixture
) -> None:
    populate(fake, statuses=3)
    without = listeners_for(fake, token=None, search=["boots"])
    assert "mastodon:ex:search:boots" not in without and "no access token" in without["notes"][0]  # type: ignore[index]
    found = listeners_for(fake, search=["boots"])["mastodon:ex:search:boots"].fetch(None)
    assert len(found.mentions) == 3 and found.cursor == {"since_id": sid(3)}
    assert reads(fake, "/api/v2/search")[0]["type"] == "statuses"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as err:
        listeners_for(fake, token="wrong-token-456", search=["boots"])["mastodon:ex:search:boots"].fetch(None)
    assert "401" in str(err.value) and "wrong-token-456" not in str(err.value) + caplog.text


def test_deleted_private_sensitive_replies_and_boosts(fake: FakeMastodon) -> None:
    fake.add_status(status(1, content="<p>#acme boots</p>"))
    fake.add_status(status(2, content="", text="#acme boots (deleted)"))
    fake.add_status(status(3, visibility="direct"))
    fake.add_status(
        status(
            4,
            sensitive=True,
            spoiler_text="Blister photo",
            in_reply_to_id=sid(1),
            media_attachments=[{"id": "9", "type": "image", "description": "a heel"}],
        )
    )
    # Some servers (Pleroma, Akkoma) put boosts in tag timelines: the boost links to the boosted status.
    fake.add_status(status(5, content="", author=2, reblog=fake.statuses[sid(1)], reblogs_count=0))
    linking = tag_listener(fake).fetch(None)
    by_native = {m.native_id.split("@")[0]: m for m in linking.mentions}
    assert set(by_native) == {sid(1), sid(4), sid(5)}
    assert "left out 1 deleted" in linking.notes[0] and "not public" in linking.item_errors[0]
    assert by_native[sid(4)].title == "Blister photo" and by_native[sid(4)].extra["sensitive"] is True
    assert by_native[sid(4)].extra["reply_to"] == by_native[sid(1)].native_id and by_native[sid(4)].extra["media"] == 1
    assert by_native[sid(5)].extra["reblog_of"] == by_native[sid(1)].id and by_native[sid(5)].text == "#acme boots"
    assert by_native[sid(5)].engagement == {}
    skipping = tag_listener(fake, reblogs="skip").fetch(None)
    assert sid(5) not in {m.native_id.split("@")[0] for m in skipping.mentions}


def test_one_status_read_through_two_instances_is_one_mention_by_one_pseudonym(fake: FakeMastodon) -> None:
    remote = status(1, domain="social.example")
    copy = {**remote, "id": status_id(99), "account": {**account(1, domain="social.example"), "id": "777"}}
    fake.add_status(remote)
    other = FakeMastodon(access_token=TOKEN, host="other.example")
    other.add_status(copy)
    with other.serve() as url:
        other.url = url  # type: ignore[attr-defined]
        here, there = tag_listener(fake).fetch(None).mentions[0], tag_listener(other).fetch(None).mentions[0]
    assert here.id == there.id and here.native_id != there.native_id
    assert here.author_ref == there.author_ref  # keyed on the actor id, not the instance-local account id


def test_store_raw_author_keeps_the_handle_and_the_status_url(fake: FakeMastodon) -> None:
    fake.add_status(status(1, domain="social.example"))
    [mention] = tag_listener(fake, privacy=PrivacySettings(store_raw_author=True)).fetch(None).mentions
    assert mention.author_raw == "person1@social.example"
    assert mention.url == f"https://social.example/@person1/{sid(1)}"


def test_a_window_is_bounded_server_side_by_ids_made_from_its_times(fake: FakeMastodon) -> None:
    populate(fake, statuses=10)
    start, end = datetime(2026, 11, 20, 10, 0, 3, tzinfo=UTC), datetime(2026, 11, 20, 10, 0, 7, tzinfo=UTC)
    result = tag_listener(fake).fetch_window(start, end)
    assert sorted(m.native_id.split("@")[0] for m in result.mentions) == [sid(n) for n in (3, 4, 5, 6)]
    assert result.cursor is None and int(reads(fake)[0]["since_id"]) < int(sid(3))  # Mastodon.py made the id


def test_a_429_waits_for_the_reset_in_the_headers_when_allowed(fake: FakeMastodon) -> None:
    populate(fake, statuses=3)
    reset = (datetime.now(UTC) + timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fake.fail(429, path=TAG, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    waits: list[float] = []
    listener = tag_listener(fake, on_rate_limit="wait", max_wait_seconds=60)
    listener._sleep = waits.append  # noqa: SLF001 - record the wait instead of sleeping
    result = listener.fetch(None)
    assert len(result.mentions) == 3 and len(waits) == 1 and 15 < waits[0] <= 21
