"""CPU runtime choices: bf16 only where the CPU has the instructions (unless forced), never with int8."""

from __future__ import annotations

import pytest

from earful_nlp.runtime import native_bf16, use_bf16


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("fpu sse avx2 avx512f avx512bw", False),
        ("fpu avx512f avx512_bf16 avx512_vnni", True),
        ("fpu amx_bf16 amx_tile", True),
    ],
)
def test_native_bf16_reads_cpu_flags(tmp_path, flags, expected):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    assert native_bf16(cpuinfo) is expected


def test_no_cpuinfo_means_no_bf16(tmp_path):
    assert native_bf16(tmp_path / "missing") is False


def test_on_and_off_override_the_cpu(monkeypatch):
    monkeypatch.setattr("earful_nlp.runtime.native_bf16", lambda: False)
    assert (use_bf16("on"), use_bf16("off"), use_bf16("auto")) == (True, False, False)
    monkeypatch.setattr("earful_nlp.runtime.native_bf16", lambda: True)
    assert (use_bf16("on"), use_bf16("off"), use_bf16("auto")) == (True, False, True)


def test_int8_turns_bf16_off(models_cache):
    from earful_nlp.classifier import MentionClassifier
    from earful_nlp.config import NlpSettings

    assert MentionClassifier.load(NlpSettings(bf16="on", quantize_int8=True), models_cache).bf16 is False


def test_unknown_bf16_setting_is_a_config_error():
    from pydantic import ValidationError

    from earful_nlp.config import NlpSettings

    with pytest.raises(ValidationError, match="bf16"):
        NlpSettings(bf16="sometimes")
