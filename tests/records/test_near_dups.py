"""Near-duplicate band keys in the records database on SQLite and PostgreSQL: stored with a mention, found by key
(oldest first), pruned by age, forgotten by mention; the migration from one row per band keeps stored keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from earful.schema import alembic_config, upgrade
from earful_listeners.dedupe import BAND_POSITION_SHIFT, BANDS, Fingerprinter
from earful_records import tables
from earful_records.db import make_engine
from earful_records.mentions import commit_source
from earful_records.near_dups import POSITION_SHIFT, find_band_owners, forget_bands_in, prune_bands, store_bands
from tests.helpers.postgres import throwaway_database

TEXT = "Acme is recalling forty thousand pairs of TrailRunner boots after the soles came loose on wet rock"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with throwaway_database("near_dups") as url:
        yield url


def _url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/records.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    eng = make_engine(_url(request, tmp_path))
    upgrade(eng)
    yield eng
    if request.param == "postgres":
        with eng.begin() as conn:
            conn.execute(sa.text("TRUNCATE mentions, pending_hooks, source_cursors, near_dup_signatures"))
    eng.dispose()


def test_the_listener_and_the_records_agree_on_the_key_layout() -> None:
    keys = Fingerprinter().bands(TEXT)
    assert BANDS == tables.BANDS and BAND_POSITION_SHIFT == POSITION_SHIFT and len(keys) == BANDS
    assert [key >> BAND_POSITION_SHIFT for key in keys] == list(range(BANDS))
    assert all(0 < key < 2**63 for key in keys)  # a signed 64-bit column holds every key


def test_keys_stored_with_a_mention_are_found_oldest_first(engine: sa.Engine) -> None:
    fingerprinter = Fingerprinter()
    original, copy, other = (
        fingerprinter.bands(TEXT),
        fingerprinter.bands(TEXT + " on Thursday"),
        fingerprinter.bands("Acme opens a new store in Malmö with hiking boots jackets and a café upstairs"),
    )
    doc = {"source": "rss:f", "source_kind": "rss", "fetched_at": "2026-11-20T10:00:00Z"}
    commit_source(engine, "rss:f", None, [("m-new", doc)], [("m-new", copy)], now=2_000)
    commit_source(engine, "rss:f", None, [("m-old", doc), ("m-other", doc)], [("m-old", original)], now=1_000)
    store_bands(engine, [("m-other", other)], now=1_500)
    store_bands(engine, [("m-other", other)], now=1_600)  # again: harmless
    owners = find_band_owners(engine, copy)
    shared = sorted(set(original) & set(copy))
    assert shared, "the copy shares bands with the original"
    assert owners == [(key, "m-old") for key in shared] + [(key, "m-new") for key in copy]
    assert find_band_owners(engine, []) == []
    many = find_band_owners(engine, copy + list(range(1, 40_000)))  # more keys than one statement takes
    assert many == owners


def test_keys_are_pruned_by_age_and_forgotten_by_mention(engine: sa.Engine) -> None:
    fingerprinter = Fingerprinter()
    store_bands(engine, [("m1", fingerprinter.bands(TEXT))], now=1_000)
    store_bands(engine, [("m2", fingerprinter.bands(TEXT + " again")), ("m3", [7])], now=9_000_000)
    assert prune_bands(engine, older_than_days=30, now=9_000_000) == BANDS
    with engine.begin() as conn:
        assert forget_bands_in(conn, ["m3", "nobody"]) == 1
    assert {owner for _, owner in find_band_owners(engine, fingerprinter.bands(TEXT + " again"))} == {"m2"}
    with pytest.raises(ValueError, match="band position"):
        store_bands(engine, [("m4", [BANDS << BAND_POSITION_SHIFT])])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        with throwaway_database("near_dups_migration") as pg:
            yield pg
    else:
        yield f"sqlite:///{tmp_path}/records.db"


def test_the_migration_keeps_stored_keys_and_goes_back(url: str) -> None:
    from alembic import command

    fingerprinter = Fingerprinter()
    first, second = fingerprinter.bands(TEXT), fingerprinter.bands(TEXT + " on Thursday")
    eng = make_engine(url)
    command.upgrade(alembic_config(eng), "records_0005")
    rows = [(f"{key:015x}", "m1", 1_000) for key in first] + [(f"{key:015x}", "m2", 2_000) for key in second[:5]]
    rows.append(("bnot-a-key", "m3", 3_000))  # text no fingerprinter made: matches nothing, dropped
    with eng.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO near_dup_bands (band, mention_id, created_epoch) VALUES (:b, :m, :e)"),
            [{"b": b, "m": m, "e": e} for b, m, e in rows],
        )
    upgrade(eng)
    assert "near_dup_bands" not in sa.inspect(eng).get_table_names()
    shared = sorted(set(first) & set(second[:5]))
    assert find_band_owners(eng, first) == [(key, "m1") for key in first] + [(key, "m2") for key in shared]
    assert {owner for _, owner in find_band_owners(eng, second)} == {"m1", "m2"}
    with eng.connect() as conn:
        stored = conn.execute(sa.select(tables.near_dup_signatures).order_by("mention_id")).all()
    assert [(row.mention_id, row.created_epoch) for row in stored] == [("m1", 1_000), ("m2", 2_000)]
    assert stored[1].band5 is None and stored[1].band4 == second[4]
    command.downgrade(alembic_config(eng), "records_0005")
    with eng.connect() as conn:
        back = conn.execute(sa.text("SELECT band, mention_id, created_epoch FROM near_dup_bands")).all()
    assert sorted(back) == sorted(rows[:-1])
    eng.dispose()
