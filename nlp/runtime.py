"""CPU runtime settings for classification: thread count and optional int8 dynamic quantization."""

from __future__ import annotations

import contextlib
import os
import pathlib
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from torch import nn

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
Bf16Setting = Literal["auto", "on", "off"]  # the nlp.bf16 setting and the --bf16 options


def available_cpus() -> int:
    """CPUs this process may run on (respects affinity masks and container CPU sets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def configure_threads(threads: int | None) -> int:
    """Set torch's intra-op threads to ``threads`` (default: the available CPUs); return the number used."""
    import torch

    count = threads or available_cpus()
    torch.set_num_threads(count)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already fixed once parallel work started in this process
    return count


def quantize_linear_int8(module: nn.Module) -> nn.Module:
    """int8 dynamic quantization of every ``nn.Linear`` in ``module``, in place (no copy of the embeddings).

    torch marks torch.ao.quantization deprecated in favour of torchao's ``quantize_``; this stays on it on
    purpose: on CPU, torchao's int8 dynamic quantization runs eagerly at 3x the time of fp32 and needs
    torch.compile (about a minute per input shape) to match what quantize_dynamic's fbgemm kernels do at once
    (docs/lint.md has the measurement). torch is pinned, so the API cannot vanish under us; the deprecation
    notices are silenced here only.
    """
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings(
            "ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_per_channel", category=UserWarning
        )
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def native_bf16(cpuinfo: pathlib.Path = pathlib.Path("/proc/cpuinfo")) -> bool:
    """True when the CPU has bfloat16 instructions (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slower."""
    try:
        flags = cpuinfo.read_text(errors="replace").split()
    except OSError:
        return False
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def use_bf16(setting: Bf16Setting) -> bool:
    """Resolve the ``nlp.bf16`` setting ("auto", "on", "off") for this machine."""
    return setting == "on" or (setting == "auto" and native_bf16())


def compute_context(bf16: bool) -> AbstractContextManager[object]:
    """The context to run a model's forward pass in: bfloat16 autocast, or plain fp32."""
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
