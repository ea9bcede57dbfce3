"""Configuration of the mention index (Elasticsearch, or the embedded noida-db server when no URL is set)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class IndexSettings(BaseModel):
    """Where mentions are indexed. Without `url`, earful starts a local Elasticsearch-API server (noida-db)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="e.g. https://es.example.org:9200; None = embedded")
    alias: str = Field(default="earful-mentions", pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    username: str | None = None
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    ca_certs: Path | None = None
    verify_certs: bool = True
    request_timeout: float = Field(default=30.0, gt=0)
    shards: int = Field(default=1, ge=1)
    replicas: int = Field(default=0, ge=0)
    bulk_chunk_size: int = Field(default=500, ge=1)
    embedded_start_timeout: float = Field(default=30.0, gt=0)
    embedded_idle_stop: float = Field(
        default=0.0,
        ge=0,
        description="seconds the shared embedded server stays up after its last user leaves (0: stop at once)",
    )

    @field_validator("url")
    @classmethod
    def _usable_url(cls, url: str | None) -> str | None:
        """The client's own URL rule, checked on load (a bad URL is a configuration error, not a crash later)."""
        if url is None:
            return None
        from elastic_transport.client_utils import url_to_node_config

        try:
            node = url_to_node_config(url)
        except ValueError:
            raise ValueError("not a usable URL; give scheme, host and port, e.g. https://es.example.org:9200") from None
        if node.scheme not in ("http", "https"):
            raise ValueError(f"scheme {node.scheme!r} is not http or https")
        return url

    @model_validator(mode="after")
    def _auth_pairs(self) -> IndexSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both 'username' and 'password' for basic auth, or neither")
        if self.api_key is not None and self.username is not None:
            raise ValueError("give either 'api_key' or 'username'/'password', not both")
        return self
