"""Configuration of the records database."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr


class RecordsSettings(BaseModel):
    """Where the records database lives; None means a SQLite file in the data folder."""

    model_config = ConfigDict(extra="forbid")

    url: SecretStr | None = None

    def resolved_url(self, data_dir: str) -> str:
        """The SQLAlchemy URL to use, defaulting to `<data_dir>/records.db`."""
        if self.url is not None:
            return self.url.get_secret_value()
        return f"sqlite:///{data_dir}/records.db"
