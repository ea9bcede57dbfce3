"""Every configuration the project ships validates (secrets from the environment, as in production)."""

from __future__ import annotations

from pathlib import Path

import pytest

from earful.settings import load_settings
from earful_common.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "path",
    [REPO / "config" / "earful.yaml", *sorted((REPO / "config" / "examples").glob("*.yaml"))],
    ids=lambda p: p.name,
)
def test_shipped_configs_validate(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if path.parent.name == "examples":  # production examples take their secrets from the environment
        monkeypatch.setenv("EARFUL_INDEX__PASSWORD", "from-the-environment")
        monkeypatch.setenv("EARFUL_ALERTS__CHANNELS__QUALITY_MAIL__PASSWORD", "from-the-environment")
    settings = load_settings(path)
    assert settings.topics
    assert settings.index.password is None or settings.index.password.get_secret_value() == "from-the-environment"


def test_production_example_needs_its_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EARFUL_INDEX__PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="index: give both 'username' and 'password'"):
        load_settings(REPO / "config" / "examples" / "production.yaml")


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("index: {alias: from-file}\nprivacy: {retention_days: 30}\n")
    monkeypatch.setenv("EARFUL_INDEX__ALIAS", "from-env")
    settings = load_settings(config)
    assert settings.index.alias == "from-env" and settings.privacy.retention_days == 30
