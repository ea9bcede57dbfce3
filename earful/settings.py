"""The root configuration: one YAML file, each package owning its section, environment variables on top.

Environment variables override the file, for secrets: `EARFUL_<SECTION>__<KEY>`, e.g.
`EARFUL_PRIVACY__AUTHOR_SECRET` or `EARFUL_INDEX__PASSWORD`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

from earful.housekeeping_config import HousekeepingSettings
from earful_alerts.config import AlertsSettings
from earful_common.errors import ConfigError
from earful_complaints.config import ComplaintsSettings
from earful_indexer.config import IndexSettings
from earful_listeners.config import (
    ListeningSettings,
    PrivacySettings,
    SourcesSettings,
    TopicSettings,
    require_unique_names,
)
from earful_nlp.config import NlpSettings
from earful_records.config import RecordsSettings

DEFAULT_CONFIG = Path("config/earful.yaml")
ENV_PREFIX = "EARFUL_"


class Settings(BaseSettings):
    """Everything earful reads from configuration."""

    model_config = SettingsConfigDict(
        extra="forbid", env_prefix=ENV_PREFIX, env_nested_delimiter="__", nested_model_default_partial_update=True
    )

    data_dir: Path = Path("data")
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    records: RecordsSettings = Field(default_factory=RecordsSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)
    topics: list[TopicSettings] = Field(default_factory=list)
    listening: ListeningSettings = Field(default_factory=ListeningSettings)
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    complaints: ComplaintsSettings = Field(default_factory=ComplaintsSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    housekeeping: HousekeepingSettings = Field(default_factory=HousekeepingSettings)

    @field_validator("topics")
    @classmethod
    def _unique_topics(cls, topics: list[TopicSettings]) -> list[TopicSettings]:
        return require_unique_names(topics, "topic")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],  # noqa: ARG003 - pydantic-settings passes these by name
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file (init = the parsed YAML), so secrets never need to be in the file.
        return (env_settings, init_settings)

    def records_url(self) -> str:
        """The records database URL (a SQLite file in the data folder unless configured)."""
        return self.records.resolved_url(str(self.data_dir))


def _location(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """A dotted key path; list items are named by their `name` where they have one (topics[acme].query)."""
    parts: list[str] = []
    node: Any = data
    for key in loc:
        if isinstance(key, int):
            name = (
                node[key].get("name")
                if isinstance(node, list) and key < len(node) and isinstance(node[key], dict)
                else None
            )
            parts[-1:] = [f"{parts[-1] if parts else ''}[{name if name else key}]"]
        else:
            parts.append(str(key))
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts)


def _format_errors(source: str, exc: ValidationError, data: dict[str, Any]) -> str:
    """One line per problem, each blamed on the file or on the environment variable that set the value; a single
    problem is a single line."""
    from earful.env_overrides import blame

    problems = []
    for err in exc.errors(include_url=False, include_input=False):
        where = _location(err["loc"], data) or "(top level)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; unknown keys are not ignored)"
        variable = blame(err["loc"], os.environ)
        problems.append((f"environment variable {variable} ({where})" if variable else where, message))
    if len(problems) == 1:
        where, message = problems[0]
        return f"{where}: {message}" if where.startswith("environment") else f"{source}: {where}: {message}"
    lines = [f"{source}: invalid configuration ({len(problems)} problems)"]
    lines.extend(f"  {where}: {message}" for where, message in problems)
    return "\n".join(lines)


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read, validate and return the settings; raises ConfigError naming the file, the key path and the problem."""
    path = path or Path(os.environ.get("EARFUL_CONFIG", DEFAULT_CONFIG))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, not {type(data).__name__}")
    data = _deep_merge(data, overrides or {})
    from earful.env_overrides import misspelt_variables, parse_error_line

    misspelt = misspelt_variables(Settings, os.environ)
    if misspelt:
        raise ConfigError("\n".join(misspelt))
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(str(path), exc, data)) from None
    except SettingsError as exc:  # an environment value that cannot be decoded (e.g. not JSON)
        field = str(exc).split('"')[1] if str(exc).count('"') >= 2 else ""
        raise ConfigError(parse_error_line(field, os.environ)) from None
    return _resolve_paths(settings, path.parent)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve_paths(settings: Settings, config_dir: Path) -> Settings:
    """Relative paths in the file are relative to the file (data folder, feed files, replays), so a command gives
    the same result from any working directory; a relative EARFUL_DATA_DIR is relative to the working directory,
    as paths on a command line are."""
    if not settings.data_dir.is_absolute():
        base = Path.cwd() if os.environ.get(f"{ENV_PREFIX}DATA_DIR") else config_dir
        settings.data_dir = (base / settings.data_dir).resolve()
    for feed in settings.sources.rss.feeds:
        if feed.path is not None and not feed.path.is_absolute():
            feed.path = (config_dir / feed.path).resolve()
    sources = settings.sources
    for social in (sources.reddit, sources.x, sources.mastodon, sources.bluesky):
        if social.replay is not None and not social.replay.is_absolute():
            social.replay = (config_dir / social.replay).resolve()
    return settings
