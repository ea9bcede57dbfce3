"""The ``nlp:`` section of earful's configuration."""

from __future__ import annotations

import pathlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from earful_nlp.runtime import Bf16Setting

Task = Literal["sentiment", "complaint"]


class NlpSettings(BaseModel):
    """Sentiment and complaint classification settings; an empty section uses the bundled default model."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    default_model: pathlib.Path | None = Field(
        None, description="Directory of earful multi-head weights (None = the bundled nlp/models/default)"
    )
    sentiment_model: pathlib.Path | None = Field(
        None, description="A Hugging Face sequence-classification model directory replacing the default sentiment head"
    )
    complaint_model: pathlib.Path | None = Field(
        None, description="A Hugging Face sequence-classification model directory replacing the default complaint head"
    )
    label_map: dict[Task, dict[str, str]] = Field(
        default_factory=dict, description="Per task: the configured model's label names -> ours"
    )
    batch_size: int = Field(64, ge=1, le=2048)
    max_length: int = Field(
        128, ge=8, le=512, description="Tokens per post (including the two specials); the rest is cut"
    )
    threads: int | None = Field(None, ge=1, description="torch threads (None = the CPUs this process may use)")
    quantize_int8: bool = Field(
        False,
        description="int8 dynamic quantization of the encoder's linear layers: faster, but costs 1-3 macro-F1 "
        "points and makes a post's scores depend on its batch-mates",
    )
    bf16: Bf16Setting = Field(
        "auto",
        description="Run the encoder in bfloat16 autocast: 'auto' does so where the CPU has bf16 instructions "
        "(AVX512-BF16 or AMX), where it is about twice as fast as fp32",
    )
    complaint_threshold: float = Field(0.5, ge=0.0, le=1.0)
    undetermined_min_letters: int = Field(
        12, ge=0, description="A post whose language is 'und' needs this many letters to be classified"
    )
