"""Placeholder until the NLP package defines its settings."""

from pydantic import BaseModel, ConfigDict


class NlpSettings(BaseModel):
    """NLP settings."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
