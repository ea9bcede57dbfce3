"""LoRA adapters over every encoder layer, trained with peft and shipped as their low-rank factors.

A delta holds, per adapted ``nn.Linear`` of the encoder, ``lora.<module path>.A`` ([rank, in]) and
``lora.<module path>.B`` ([out, rank]); loading merges ``scale * B @ A`` into the weight once, so
classification runs a plain ``BertModel`` at full speed, and a full export is an ordinary model directory.
Merging all 12 layers' full weights instead would make the delta about 42 MB; the factors are about 3 MB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peft import PeftModel
    from transformers import BertModel

# Every Linear of a BertLayer: attention q/k/v and output, feed-forward in and out.
TARGETS = ["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense"]
PREFIX = "lora."


def attach(encoder: BertModel, rank: int, alpha: int, dropout: float = 0.1) -> PeftModel:
    """Wrap ``encoder`` with trainable LoRA adapters (in place); only the adapters require gradients."""
    import warnings

    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=TARGETS, bias="none")
    with warnings.catch_warnings():  # peft calls a transformers method that warns about its own rename
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(encoder, config)


def detach(peft_encoder: PeftModel) -> tuple[BertModel, dict]:
    """The original encoder (adapters removed, weights untouched) and the trained factors by module path."""
    factors = {}
    for name, module in peft_encoder.named_modules():
        if "default" in getattr(module, "lora_A", {}):
            path = name.removeprefix("base_model.model.")
            factors[f"{PREFIX}{path}.A"] = module.lora_A["default"].weight.detach().clone()
            factors[f"{PREFIX}{path}.B"] = module.lora_B["default"].weight.detach().clone()
    return peft_encoder.unload(), factors


def merge(encoder: BertModel, factors: dict, scale: float) -> None:
    """Add ``scale * B @ A`` to each adapted weight of ``encoder`` (in place)."""
    import torch

    with torch.no_grad():
        for key in sorted(k for k in factors if k.endswith(".A")):
            path = key[len(PREFIX) : -len(".A")]
            module = encoder.get_submodule(path)
            a, b = factors[key].float(), factors[f"{PREFIX}{path}.B"].float()
            module.weight += scale * (b @ a)


def average(factor_sets: list[dict]) -> dict:
    """Factors whose delta is the mean of the given adapters' deltas (all of one rank and scale).

    ``mean_i(B_i @ A_i)`` is ``[B_1 / n, ..., B_n / n] @ [A_1; ...; A_n]``: the A factors are stacked, the B
    factors stacked and divided by n, so the result is exact, has rank n times the rank, and the same scale.
    """
    import torch

    count = len(factor_sets)
    averaged = {}
    for key in factor_sets[0]:
        parts = [factors[key] for factors in factor_sets]
        averaged[key] = torch.cat(parts, 0) if key.endswith(".A") else torch.cat(parts, 1) / count
    return averaged


def spec(rank: int, alpha: int) -> dict:
    """The config entry describing the adapters of a model (``EarfulConfig.lora``)."""
    return {"rank": rank, "alpha": alpha, "scale": alpha / rank, "targets": TARGETS}
