"""Reddit, X, Mastodon and Bluesky in the source plan: skipped without credentials, replayed in the demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from earful.settings import load_settings
from earful.sources import build_listeners
from earful_common.errors import ConfigError

DEMO = Path(__file__).resolve().parents[2] / "config" / "earful.yaml"


def no_replay(monkeypatch: pytest.MonkeyPatch) -> dict:
    for name in ("CLIENT_ID", "CLIENT_SECRET"):
        monkeypatch.delenv(f"EARFUL_SOURCES__REDDIT__{name}", raising=False)
    monkeypatch.delenv("EARFUL_SOURCES__X__BEARER_TOKEN", raising=False)
    return {"sources": {"reddit": {"replay": None}, "x": {"replay": None}}}


def test_without_credentials_each_platform_is_skipped_with_one_line(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = build_listeners(load_settings(DEMO, no_replay(monkeypatch)), engine)
    assert not [lis for lis in plan.listeners if lis.source_kind in ("reddit", "x")]
    assert len(plan.skipped) == 2
    assert (
        "EARFUL_SOURCES__REDDIT__CLIENT_ID" in plan.skipped[0] and "EARFUL_SOURCES__X__BEARER_TOKEN" in plan.skipped[1]
    )


def test_credentials_from_the_environment_build_the_listeners(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    overrides = no_replay(monkeypatch)
    monkeypatch.setenv("EARFUL_SOURCES__X__BEARER_TOKEN", "env-token-xyz")
    monkeypatch.setenv("EARFUL_SOURCES__REDDIT__CLIENT_ID", "id")
    monkeypatch.setenv("EARFUL_SOURCES__REDDIT__CLIENT_SECRET", "env-secret-xyz")
    settings = load_settings(DEMO, overrides)
    assert "env-token-xyz" not in repr(settings) and "env-secret-xyz" not in repr(settings)
    plan = build_listeners(settings, engine)
    ids = [lis.source_id for lis in plan.listeners]
    assert "reddit:r/acmeoutdoor" in ids and "x:search:acme" in ids and plan.skipped == []


def test_an_unknown_topic_name_is_a_config_error(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(DEMO, {"sources": {"x": {"topics": {"acme-prodcts": ["acme"]}}}})
    with pytest.raises(ConfigError, match="acme-prodcts"):
        build_listeners(settings, engine)


def test_the_demo_replays_reddit_and_x_through_the_real_clients(engine: Engine) -> None:
    plan = build_listeners(load_settings(DEMO), engine)
    social = {lis.source_id: lis for lis in plan.listeners if lis.source_kind in ("reddit", "x")}
    assert set(social) == {
        "reddit:r/acmeoutdoor",
        "reddit:search:acme",
        "reddit:search:nordpeak",
        "x:search:acme",
        "x:search:nordpeak",
    }
    results = {sid: listener.fetch(None) for sid, listener in social.items()}
    assert all(not r.item_errors for r in results.values())
    texts = [m.title + m.text for r in results.values() for m in r.mentions]
    assert any("Stiefel" in t for t in texts) and any("پوتین" in t for t in texts) and any("kängor" in t for t in texts)
    x_acme = results["x:search:acme"]
    assert any(m.extra.get("retweet_of") for m in x_acme.mentions)  # the demo links retweets
    assert any(m.extra.get("author_unavailable") for m in x_acme.mentions)  # and has a suspended author
    # a second batch from the returned cursors finds nothing new
    assert all(not social[sid].fetch(r.cursor).mentions for sid, r in results.items())


def test_without_tokens_mastodon_reads_hashtags_only_and_bluesky_the_public_appview(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EARFUL_SOURCES__BLUESKY__APP_PASSWORD", raising=False)
    monkeypatch.delenv("EARFUL_SOURCES__MASTODON__INSTANCES__SOCIAL__ACCESS_TOKEN", raising=False)
    overrides = {"sources": {"mastodon": {"replay": None}, "bluesky": {"replay": None}}}
    plan = build_listeners(load_settings(DEMO, overrides), engine)
    ids = {lis.source_id for lis in plan.listeners if lis.source_kind in ("mastodon", "bluesky")}
    assert "mastodon:social:tag:acme" in ids and not any(":search:" in i for i in ids if i.startswith("mastodon"))
    assert "bluesky:search:acme" in ids
    lines = " ".join(plan.skipped)
    assert (
        "EARFUL_SOURCES__MASTODON__INSTANCES__SOCIAL__ACCESS_TOKEN" in lines
        and "EARFUL_SOURCES__BLUESKY__APP_PASSWORD" in lines
    )
    monkeypatch.setenv("EARFUL_SOURCES__MASTODON__INSTANCES__SOCIAL__ACCESS_TOKEN", "env-masto-xyz")
    settings = load_settings(DEMO, overrides)
    assert "env-masto-xyz" not in repr(settings)
    assert "mastodon:social:search:acme" in {lis.source_id for lis in build_listeners(settings, engine).listeners}


def test_the_demo_replays_mastodon_and_bluesky_through_the_real_clients(engine: Engine) -> None:
    plan = build_listeners(load_settings(DEMO), engine)
    social = {lis.source_id: lis for lis in plan.listeners if lis.source_kind in ("mastodon", "bluesky")}
    assert set(social) == {
        "mastodon:social:tag:acme",
        "mastodon:social:tag:nordpeak",
        "mastodon:social:search:acme",
        "mastodon:norden:tag:acme",
        "mastodon:norden:tag:nordpeak",
        "mastodon:norden:search:acme",
        "bluesky:search:acme",
        "bluesky:search:nordpeak",
    }
    results = {sid: listener.fetch(None) for sid, listener in social.items()}
    assert all(not r.item_errors for r in results.values())
    mentions = [m for r in results.values() for m in r.mentions]
    hints = {m.extra.get("language_hint") for m in mentions}
    assert {"en", "de", "fa", "it", "fr", "sv"} <= hints
    social_acme = {m.id for m in results["mastodon:social:tag:acme"].mentions}
    norden_acme = {m.id for m in results["mastodon:norden:tag:acme"].mentions}
    assert len(social_acme & norden_acme) == 3  # federated copies read through both instances are one mention each
    assert any(m.extra.get("links") for m in results["bluesky:search:acme"].mentions)
    assert all(m.url.startswith("https://bsky.app/profile/did:") for m in results["bluesky:search:acme"].mentions)
    assert all(not social[sid].fetch(r.cursor).mentions for sid, r in results.items())
    plan.close()
