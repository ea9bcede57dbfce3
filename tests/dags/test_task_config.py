"""How a task finds its configuration and secrets, and which runs read a window instead of the cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from earful.airflow_settings import config_path, connection_overrides
from earful.window import Window, run_window


@dataclass
class Conn:
    conn_type: str | None = None
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None

    def get_uri(self) -> str:
        return f"postgresql+psycopg://{self.login}:{self.password}@{self.host}:{self.port}/{self.schema}"


def test_connections_map_onto_settings_keys() -> None:
    conns = {
        "earful_reddit": Conn(login="cid", password="csecret"),
        "earful_x": Conn(password="bearer"),
        "earful_es": Conn(host="es.example", port=9200, login="elastic", password="pw"),
        "earful_smtp": Conn(host="smtp.example", port=587, login="u", password="p"),
    }
    config = {"alerts": {"channels": {"mail": {"type": "email"}, "chat": {"type": "slack"}}}}
    out = connection_overrides(conns.get, config)
    assert out["sources"]["reddit"] == {"client_id": "cid", "client_secret": "csecret"}
    assert out["sources"]["x"] == {"bearer_token": "bearer"}
    assert out["index"] == {"url": "https://es.example:9200", "username": "elastic", "password": "pw"}
    assert out["alerts"]["channels"] == {
        "mail": {"host": "smtp.example", "port": 587, "username": "u", "password": "p"}
    }
    assert connection_overrides(lambda _id: None) == {}


def test_mastodon_and_bluesky_connections_map_onto_settings_keys(tmp_path) -> None:
    from earful.settings import load_settings

    conns = {
        "earful_mastodon_social": Conn(password="masto-token"),
        "earful_bluesky": Conn(login="reader.bsky.social", password="app-pass-1234"),
    }
    config = {
        "sources": {
            "mastodon": {
                "instances": {"social": {"url": "https://mastodon.social"}, "other": {"url": "https://other.example"}}
            }
        }
    }
    out = connection_overrides(conns.get, config)
    assert out["sources"]["mastodon"] == {"instances": {"social": {"access_token": "masto-token"}}}
    assert out["sources"]["bluesky"] == {"app_password": "app-pass-1234", "identifier": "reader.bsky.social"}
    path = tmp_path / "earful.yaml"
    path.write_text("sources:\n  mastodon:\n    instances:\n      social: {url: 'https://mastodon.social'}\n")
    settings = load_settings(path, out)
    assert settings.sources.mastodon.instances["social"].url == "https://mastodon.social"
    assert settings.sources.mastodon.instances["social"].access_token.get_secret_value() == "masto-token"
    assert "masto-token" not in repr(settings) and "app-pass-1234" not in repr(settings)


def test_connection_secrets_reach_settings_but_the_environment_wins(tmp_path, monkeypatch) -> None:
    from earful.settings import load_settings

    path = tmp_path / "earful.yaml"
    path.write_text("data_dir: data\n")
    overrides = connection_overrides({"earful_x": Conn(password="from-connection")}.get)
    assert load_settings(path, overrides).sources.x.bearer_token.get_secret_value() == "from-connection"
    assert "from-connection" not in repr(load_settings(path, overrides))
    monkeypatch.setenv("EARFUL_SOURCES__X__BEARER_TOKEN", "from-env")
    assert load_settings(path, overrides).sources.x.bearer_token.get_secret_value() == "from-env"


def test_config_path_variable_then_environment(monkeypatch) -> None:
    monkeypatch.setenv("EARFUL_CONFIG", "/env/earful.yaml")
    assert str(config_path(lambda _k: "/var/earful.yaml")) == "/var/earful.yaml"
    assert str(config_path(lambda _k: None)) == "/env/earful.yaml"


NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("mode", "run_type", "start", "end", "windowed"),
    [
        ("auto", "scheduled", NOW - timedelta(minutes=15), NOW, False),  # the current interval: the cursor
        ("auto", "scheduled", NOW - 2 * DAY, NOW - DAY, True),  # a re-run of a past interval
        ("auto", "backfill", NOW - timedelta(minutes=30), NOW - timedelta(minutes=15), True),
        ("cursor", "backfill", NOW - 2 * DAY, NOW - DAY, False),
        ("window", "manual", NOW - timedelta(minutes=15), NOW, True),
        ("auto", "manual", None, None, False),
    ],
)
def test_which_runs_read_a_window(mode: str, run_type: str, start, end, windowed: bool) -> None:
    assert (run_window(mode, run_type, start, end, NOW) is not None) == windowed


def test_a_manual_run_with_a_logical_date_reads_one_interval_from_it() -> None:
    day = datetime(2026, 11, 19, tzinfo=UTC)
    assert run_window("auto", "manual", day, day, NOW, length=DAY) == Window(day, day + DAY)
    with pytest.raises(ValueError):
        run_window("window", "manual", None, None, NOW)
    with pytest.raises(ValueError):
        Window(day, day)
