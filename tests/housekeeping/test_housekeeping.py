"""Housekeeping against a real noida-db index and a real records database: retention, erasure of one author,
rollover through the write alias (and no doubles across rolled-over indices), and the CLI as a real process."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from earful.housekeeping import apply_retention, erase_author, rollover_index
from earful.services import open_services
from earful_common.errors import UsageError
from earful_indexer.bulk import existing_ids, index_mentions
from earful_listeners.mention import Mention, mention_id
from earful_listeners.pseudonym import author_ref
from earful_records.mentions import commit_source, stored_documents
from earful_records.near_dups import store_bands
from earful_records.tables import near_dup_signatures

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def mention(
    kind: str,
    key: str,
    *,
    handle: str | None = None,
    published: datetime | None = None,
    fetched: datetime = NOW,
    secret: str = "earful-demo-only-secret",
    text: str = "acme boots",
) -> Mention:
    return Mention(
        id=mention_id(kind, key),
        source_kind=kind,
        source=f"{kind}:test",
        native_id=key,
        text=text,
        author_ref=author_ref(secret, kind, handle),
        published_at=published,
        fetched_at=fetched,
        dup_bands=[int(mention_id(kind, key)[:14], 16)],  # one band key (position 0), distinct per mention
        topics=["acme"],
    )


def store(services: Any, mentions: list[Mention], epoch: float) -> None:
    """As a batch does: into the records (the system of record), then the index."""
    commit_source(services.engine, "test", None, [(m.id, m.to_document()) for m in mentions], now=epoch)
    outcome = index_mentions(services.es, services.alias, mentions)
    assert not outcome.errors
    store_bands(services.engine, [(m.id, m.dup_bands) for m in mentions], now=epoch)
    services.es.indices.refresh(index=services.alias)


def ids_in_index(services: Any) -> set[str]:
    services.es.indices.refresh(index=services.alias)
    resp = services.es.search(index=services.alias, size=1000, query={"match_all": {}}, source=False)
    return {hit["_id"] for hit in resp["hits"]["hits"]}


def band_owners(services: Any, mentions: list[Mention]) -> set[str]:
    """Which of `mentions` still have band keys (the PostgreSQL database is shared by the session's tests)."""
    ids = [m.id for m in mentions]
    with services.engine.connect() as conn:
        return set(
            conn.execute(
                sa.select(near_dup_signatures.c.mention_id).where(near_dup_signatures.c.mention_id.in_(ids))
            ).scalars()
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, make_settings: Any) -> Any:
    extra: dict[str, Any] = {"privacy": {"retention_days": 30}, "housekeeping": {"rollover": {"max_docs": 3}}}
    if request.param == "postgresql":
        extra["records"] = {"url": request.getfixturevalue("pg_url")}
    return make_settings([], **extra)


def test_retention_deletes_old_mentions_and_their_keys_only(settings: Any) -> None:
    old, recent = NOW - timedelta(days=90), NOW - timedelta(days=2)
    with open_services(settings) as services:
        keep = [mention("rss", "new", published=recent), mention("x", "new-unpublished", fetched=recent)]
        drop = [mention("rss", "old", published=old), mention("x", "old-unpublished", fetched=old)]
        store(services, drop, old.timestamp())
        store(services, keep, recent.timestamp())
        report = apply_retention(services, NOW)
        assert report.mentions_deleted == 2 and report.bands_deleted >= 2  # PostgreSQL: shared by the session
        assert report.records_deleted >= 2
        assert ids_in_index(services) == {m.id for m in keep}
        assert set(stored_documents(services.engine, [m.id for m in keep + drop])) == {m.id for m in keep}
        assert band_owners(services, keep + drop) == {m.id for m in keep}
        again = apply_retention(services, NOW)  # nothing left to delete
        assert again.mentions_deleted == 0


def test_retention_off_deletes_nothing(make_settings: Any) -> None:
    with open_services(make_settings([])) as services:
        store(services, [mention("rss", "ancient", published=NOW - timedelta(days=3000))], NOW.timestamp())
        report = apply_retention(services, NOW)
        assert report.skipped and report.mentions_deleted == 0
        assert len(ids_in_index(services)) == 1


def test_retention_redacts_finished_complaints_past_their_period(make_settings: Any) -> None:
    """The same housekeeping run applies the complaint register's own retention rule (complaints.retention)."""
    from earful_complaints.audit import verify
    from earful_complaints.register import get_record
    from earful_complaints.retention import REDACTED
    from tests.complaints.conftest import HAPPY_PATH, open_one, work_to

    with open_services(make_settings([])) as services:
        complaints = services.settings.complaints
        done, still_open = open_one(services.engine, complaints, 1), open_one(services.engine, complaints, 2)
        work_to(services.engine, complaints, done, len(HAPPY_PATH))
        later = get_record(services.engine, done)["retain_until"] + timedelta(days=1)
        report = apply_retention(services, later)
        assert report.complaints_redacted == [done] and report.skipped  # mentions: retention off
        assert get_record(services.engine, done)["description"] == REDACTED
        assert get_record(services.engine, still_open)["description"] != REDACTED
        assert apply_retention(services, later).complaints_redacted == []
        assert verify(services.engine).ok


def test_erase_author_removes_every_mention_of_that_author_on_that_source(settings: Any) -> None:
    with open_services(settings) as services:
        theirs = [mention("x", f"t{i}", handle="Trail_Tess", published=NOW) for i in range(3)]
        same_name_elsewhere = mention("reddit", "r1", handle="trail_tess", published=NOW)
        someone_else = mention("x", "o1", handle="other_person", published=NOW)
        store(services, [*theirs, same_name_elsewhere, someone_else], NOW.timestamp())
        rollover_index(services)  # max_docs 3: the author's mentions now span two indices
        late = mention("x", "t-late", handle="trail_tess", published=NOW)
        store(services, [late], NOW.timestamp())
        report = erase_author(services, "x", "@TRAIL_TESS")  # handles are matched as the pseudonym normalizes them
        assert report.mentions_deleted == 4 and report.bands_deleted == 4 and report.records_deleted == 4
        assert report.complaint_refs == []
        everyone_ids = [m.id for m in [*theirs, late, same_name_elsewhere, someone_else]]
        assert set(stored_documents(services.engine, everyone_ids)) == {same_name_elsewhere.id, someone_else.id}
        assert ids_in_index(services) == {same_name_elsewhere.id, someone_else.id}
        everyone = [*theirs, late, same_name_elsewhere, someone_else]
        assert band_owners(services, everyone) == {same_name_elsewhere.id, someone_else.id}


def test_rollover_moves_the_write_alias_and_nothing_is_indexed_twice(settings: Any) -> None:
    with open_services(settings) as services:
        first = [mention("rss", f"m{i}", published=NOW) for i in range(4)]
        store(services, first, NOW.timestamp())
        result = rollover_index(services)
        assert result["rolled_over"] and result["new_index"] == f"{services.alias}-000002"
        aliases = services.es.indices.get_alias(name=services.alias)
        assert aliases[f"{services.alias}-000002"]["aliases"][services.alias]["is_write_index"] is True
        assert existing_ids(services.es, services.alias, [m.id for m in first]) == {m.id for m in first}
        store(services, [mention("rss", "m-new", published=NOW)], NOW.timestamp())
        assert len(ids_in_index(services)) == 5
        assert rollover_index(services)["rolled_over"] is False  # 1 doc in the new index: no condition met


def _earful(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "earful.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(cwd)},
    )


def test_cli_as_a_real_process(make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings([], privacy={"retention_days": 30})
    config = tmp_path / "earful.yaml"
    with open_services(settings) as services:
        store(
            services,
            [mention("x", "c1", handle="someone", published=NOW), mention("x", "c2", handle="other")],
            NOW.timestamp(),
        )
    erased = _earful(
        "housekeeping", "erase-author", "@someone", "--source-kind", "x", "--yes", "-c", str(config), cwd=tmp_path
    )
    assert erased.returncode == 0, erased.stderr
    assert "deleted 1 mention(s)" in erased.stdout and "someone" not in erased.stdout  # the handle is not echoed
    bad = _earful(
        "housekeeping", "erase-author", "x", "--source-kind", "myspace", "--yes", "-c", str(config), cwd=tmp_path
    )
    assert bad.returncode == 2 and "rss, reddit, x, mastodon or bluesky" in bad.stdout
    kept = _earful("housekeeping", "retention", "-c", str(config), cwd=tmp_path)
    assert kept.returncode == 0 and "deleted 0 mention(s)" in kept.stdout, kept.stderr
    rolled = _earful("housekeeping", "rollover", "-c", str(config), cwd=tmp_path)
    assert rolled.returncode == 0 and "not rolled over" in rolled.stdout, rolled.stderr
    missing = _earful("housekeeping", "retention", "-c", str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert missing.returncode == 2 and "configuration file not found" in missing.stderr


def test_erase_author_on_mastodon_and_bluesky_by_handle_actor_url_or_did(make_settings: Any) -> None:
    from earful_listeners.bluesky_normalize import post_mention
    from earful_listeners.mastodon_normalize import status_mention
    from tests.fakes.fake_bluesky import did, post
    from tests.fakes.fake_mastodon import status

    settings = make_settings([])
    secret = settings.privacy.author_secret.get_secret_value()
    common = {"secret": secret, "store_raw": False, "fetched_at": NOW}
    toots = [
        status_mention(
            status(n, author=1, domain="social.example"),
            instance="mastodon.example",
            source_id="mastodon:ex:tag:acme",
            **common,
        )
        for n in (1, 2)
    ]
    other_toot = status_mention(
        status(3, author=2, domain="social.example"),
        instance="mastodon.example",
        source_id="mastodon:ex:tag:acme",
        **common,
    )
    skeets = [post_mention(post(n, author=1), source_id="bluesky:search:acme", **common) for n in (1, 2)]
    other_skeet = post_mention(post(3, author=2), source_id="bluesky:search:acme", **common)
    with open_services(settings) as services:
        for item in [*toots, other_toot, *skeets, other_skeet]:
            item.dup_bands = [int(item.id[:14], 16)]
        store(services, [*toots, other_toot, *skeets, other_skeet], NOW.timestamp())
        assert erase_author(services, "mastodon", "@person1@social.example").mentions_deleted == 2
        assert erase_author(services, "mastodon", "https://social.example/users/person2").mentions_deleted == 1
        report = erase_author(services, "bluesky", did(1))
        assert report.mentions_deleted == 2 and report.bands_deleted == 2
        assert ids_in_index(services) == {other_skeet.id}
        with pytest.raises(UsageError, match="DID"):
            erase_author(services, "bluesky", "person2.bsky.social")  # a handle can change: the DID is asked for
