"""The mentions store on SQLite and PostgreSQL: mentions, hook marks and cursor in one transaction; index states;
paging; deletion by retention and by author; the migration up and down."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from earful.schema import alembic_config, upgrade
from earful_records.cursors import load_cursor
from earful_records.db import make_engine
from earful_records.mentions import (
    ACKNOWLEDGED,
    UNINDEXED,
    VERIFIED,
    by_author,
    commit_source,
    count_by_state,
    delete_mentions,
    ids_in_state,
    iter_documents,
    known_ids,
    older_than,
    set_index_state,
    stored_documents,
)
from earful_records.pending import pending_ids, ready_for_hooks


def doc(
    n: int, *, published: str | None = "2026-11-19T10:00:00Z", author: str | None = "ref-a", kind: str = "rss"
) -> tuple[str, dict]:
    body = {
        "source_kind": kind,
        "source": f"{kind}:f",
        "native_id": f"g{n}",
        "title": f"Acme {n}",
        "text": f"acme boots {n}",
        "fetched_at": "2026-11-20T10:00:00Z",
        "language": "en",
        "topics": ["acme"],
        "labels": {"sentiment": "negative", "complaint": True},
        "author_ref": author,
    }
    if published:
        body["published_at"] = published
    return f"id{n:04d}", body


def test_mentions_marks_and_cursor_are_committed_together_once(engine: sa.Engine) -> None:
    docs = [doc(n) for n in range(5)]
    assert commit_source(engine, "rss:f", {"etag": '"1"'}, docs + [docs[0]]) == [d[0] for d in docs]
    assert load_cursor(engine, "rss:f") == {"etag": '"1"'}
    assert sorted(pending_ids(engine)) == [d[0] for d in docs]
    assert stored_documents(engine, ["id0001"])["id0001"]["labels"] == {"sentiment": "negative", "complaint": True}
    # the same items again (a refetch after a crash): nothing new, no new marks, the cursor still moves
    assert commit_source(engine, "rss:f", {"etag": '"2"'}, docs) == []
    assert load_cursor(engine, "rss:f") == {"etag": '"2"'} and len(pending_ids(engine)) == 5
    assert count_by_state(engine) == {UNINDEXED: 5}


def test_what_the_index_took_is_noted_in_the_next_commit(engine: sa.Engine) -> None:
    commit_source(engine, "rss:f", {"etag": '"1"'}, [doc(1), doc(2)])
    commit_source(engine, "rss:g", {"etag": '"1"'}, [doc(3)], acknowledged=["id0001", "id0002", "gone"])
    assert count_by_state(engine) == {ACKNOWLEDGED: 2, UNINDEXED: 1}
    assert ids_in_state(engine, UNINDEXED) == ["id0003"]


def test_a_failed_commit_moves_nothing(engine: sa.Engine) -> None:
    good, bad = doc(1), doc(2)
    bad[1]["source"] = None  # NOT NULL: the insert fails inside the transaction
    with pytest.raises(sa.exc.IntegrityError):
        commit_source(engine, "rss:f", {"etag": '"1"'}, [good, bad])
    assert load_cursor(engine, "rss:f") is None and known_ids(engine, ["id0001"]) == set()
    assert pending_ids(engine) == []


def test_index_states_and_hooks_wait_for_the_index(engine: sa.Engine) -> None:
    commit_source(engine, "rss:f", None, [doc(n) for n in range(4)])
    assert ready_for_hooks(engine) == []  # stored, not indexed: the hooks wait
    set_index_state(engine, ["id0000", "id0001"], ACKNOWLEDGED)
    set_index_state(engine, ["id0002"], VERIFIED)
    assert sorted(ready_for_hooks(engine)) == ["id0000", "id0001", "id0002"]
    assert ids_in_state(engine, ACKNOWLEDGED) == ["id0000", "id0001"]
    with engine.begin() as conn:  # a mark left by an earlier version, for a mention the records never had
        conn.execute(sa.text("INSERT INTO pending_hooks (mention_id, created_epoch) VALUES ('legacy', 0)"))
    assert "legacy" in ready_for_hooks(engine)


def test_documents_are_paged_by_id(engine: sa.Engine) -> None:
    commit_source(engine, "rss:f", None, [doc(n) for n in range(25)])
    set_index_state(engine, ["id0003"], ACKNOWLEDGED)
    pages = list(iter_documents(engine, page=10))
    assert [len(p) for p in pages] == [10, 10, 5] and [i for p in pages for i, _ in p] == [
        f"id{n:04d}" for n in range(25)
    ]
    assert len([i for p in iter_documents(engine, state=UNINDEXED, page=7) for i, _ in p]) == 24


def test_retention_and_erasure_delete_rows_and_their_marks(engine: sa.Engine) -> None:
    commit_source(
        engine,
        "rss:f",
        None,
        [
            doc(1, published="2020-01-01T00:00:00Z"),
            doc(2, published=None),
            doc(3),
            doc(4, author="ref-b", kind="x"),
            doc(5, author="ref-b"),
        ],
    )
    cutoff = 1_700_000_000  # 2023-11-14: after doc 1 was published, before doc 2 was fetched
    assert delete_mentions(engine, older_than(cutoff)) == ["id0001"]
    assert sorted(delete_mentions(engine, by_author("x", ["ref-b"], ["b"]))) == ["id0004"]  # rss:ref-b stays
    assert sorted(known_ids(engine, [f"id{n:04d}" for n in range(1, 6)])) == ["id0002", "id0003", "id0005"]
    assert sorted(pending_ids(engine)) == ["id0002", "id0003", "id0005"]


def test_migration_goes_down_and_up(tmp_path: Path) -> None:
    from alembic import command

    eng = make_engine(f"sqlite:///{tmp_path}/records.db")
    upgrade(eng)
    command.downgrade(alembic_config(eng), "records_0004")
    assert "mentions" not in sa.inspect(eng).get_table_names()
    upgrade(eng)
    assert "mentions" in sa.inspect(eng).get_table_names()
    eng.dispose()
