"""Configuration of the mention index (Elasticsearch, or the embedded noida-db server when no URL is set)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


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

    @model_validator(mode="after")
    def _auth_pairs(self) -> "IndexSettings":
        if (self.username is None) != (self.password is None):
            raise ValueError("give both 'username' and 'password' for basic auth, or neither")
        if self.api_key is not None and self.username is not None:
            raise ValueError("give either 'api_key' or 'username'/'password', not both")
        return self
