"""Settings inside an Airflow task: the earful YAML file located by a Variable or the environment, secrets from
Airflow Connections (or the environment, which wins).

Connections map onto the settings' own keys, so the rest of earful never knows where a secret came from:

| conn id         | fields used                                         | settings keys                                  |
|-----------------|-----------------------------------------------------|------------------------------------------------|
| `earful_reddit` | login = client id, password = client secret         | sources.reddit.client_id / client_secret       |
| `earful_x`      | password = bearer token                             | sources.x.bearer_token                         |
| `earful_mastodon_<name>` | password = access token                    | sources.mastodon.instances.<name>.access_token |
| `earful_bluesky`| login = identifier (handle), password = app password | sources.bluesky.identifier / app_password      |
| `earful_es`     | host (+ schema, port) = URL, login / password       | index.url, index.username / password           |
| `earful_smtp`   | host, port, login, password                         | every `email` channel under alerts.channels    |
| `earful_records`| the whole URI (e.g. postgresql+psycopg://...)        | records.url                                    |

Secret values are never logged: they go straight into `SecretStr` fields.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from earful.settings import Settings, load_settings

CONFIG_VARIABLE = "earful_config"
CONFIG_ENV = "EARFUL_CONFIG"
DEFAULT_CONFIG_PATH = "config/earful.yaml"


class ConnectionLike(Protocol):
    """The fields of an Airflow Connection that earful reads."""

    conn_type: str | None
    host: str | None
    schema: str | None
    login: str | None
    password: str | None
    port: int | None

    def get_uri(self) -> str: ...


ConnectionLookup = Callable[[str], ConnectionLike | None]


def config_path(variable: Callable[[str], str | None]) -> Path:
    """The YAML file: Airflow Variable `earful_config`, else $EARFUL_CONFIG, else config/earful.yaml."""
    return Path(variable(CONFIG_VARIABLE) or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)


def connection_overrides(lookup: ConnectionLookup, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings overrides from the connections that exist; `config` is the parsed YAML (to find email channels)."""
    overrides: dict[str, Any] = {}
    if (reddit := lookup("earful_reddit")) is not None and reddit.login and reddit.password:
        _put(overrides, ("sources", "reddit"), client_id=reddit.login, client_secret=reddit.password)
    if (x := lookup("earful_x")) is not None and x.password:
        _put(overrides, ("sources", "x"), bearer_token=x.password)
    instances = (((config or {}).get("sources") or {}).get("mastodon") or {}).get("instances") or {}
    for name in instances if isinstance(instances, dict) else ():
        if (mastodon := lookup(f"earful_mastodon_{name}")) is not None and mastodon.password:
            _put(overrides, ("sources", "mastodon", "instances", name), access_token=mastodon.password)
    if (bluesky := lookup("earful_bluesky")) is not None and bluesky.password:
        login = {"app_password": bluesky.password} | ({"identifier": bluesky.login} if bluesky.login else {})
        _put(overrides, ("sources", "bluesky"), **login)
    if (es := lookup("earful_es")) is not None and es.host:
        scheme = es.schema or "https"
        url = es.host if "://" in es.host else f"{scheme}://{es.host}{f':{es.port}' if es.port else ''}"
        values: dict[str, Any] = {"url": url}
        if es.login and es.password:
            values |= {"username": es.login, "password": es.password}
        _put(overrides, ("index",), **values)
    if (records := lookup("earful_records")) is not None:
        _put(overrides, ("records",), url=records.get_uri())
    if (smtp := lookup("earful_smtp")) is not None:
        channels = ((config or {}).get("alerts") or {}).get("channels") or {}
        for name, channel in channels.items():
            if isinstance(channel, dict) and channel.get("type") == "email":
                server: dict[str, Any] = {k: v for k, v in (("host", smtp.host), ("port", smtp.port)) if v}
                if smtp.login and smtp.password:
                    server |= {"username": smtp.login, "password": smtp.password}
                _put(overrides, ("alerts", "channels", name), **server)
    return overrides


def _put(tree: dict[str, Any], path: tuple[str, ...], **values: object) -> None:
    node = tree
    for key in path:
        node = node.setdefault(key, {})
    node.update(values)


def load_task_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The settings of one Airflow task (called inside the task, never at DAG parse time)."""
    import yaml
    from airflow.sdk import Connection, Variable

    def variable(key: str) -> str | None:
        return Variable.get(key, default=None)

    def connection(conn_id: str) -> ConnectionLike | None:
        try:
            return Connection.get(conn_id)
        except Exception:  # noqa: BLE001 - not defined: the environment (or nothing) provides that secret
            return None

    path = config_path(variable)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        raw = {}  # load_settings reports the problem with the file itself
    merged = connection_overrides(connection, raw if isinstance(raw, dict) else {})
    for key, value in (overrides or {}).items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return load_settings(path, merged)
