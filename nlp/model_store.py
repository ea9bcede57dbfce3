"""Saving and loading earful multi-head models.

Two forms of the same model:
- a *delta* directory (what the repository ships in ``nlp/models/default``): ``config.json`` of an
  ``EarfulConfig``, ``model.safetensors`` with only the heads, the fine-tuned top encoder layers and
  the LoRA factors if any (encoder parts in fp16), ``README.md`` (model card) and ``metrics.json``;
  it is applied on top of the rebuilt encoder;
- a *full* Hugging Face directory (``export_full``), loadable anywhere with
  ``AutoModel.from_pretrained(path)`` once :func:`nlp.modeling.register_auto_classes` ran.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from typing import TYPE_CHECKING

from earful_nlp import lora
from earful_nlp.encoder_build import ENCODER_NAME, TENSORS_SHA256, ensure_encoder
from earful_nlp.errors import ModelLoadError

if TYPE_CHECKING:
    import torch
    from transformers import BertModel, PreTrainedTokenizerBase

    from earful_nlp.modeling import EarfulConfig, EarfulMultiHeadModel
    from earful_nlp.spm_ids import SentencePieceIds

DEFAULT_MODEL_DIR = pathlib.Path(__file__).with_name("models") / "default"
WEIGHTS_FILE = "model.safetensors"


def delta_keys(state: dict, tuned_layers: int, num_layers: int) -> list[str]:
    """State-dict keys that belong in a delta: every head, and the tuned top encoder layers."""
    prefixes = ["heads."] + [f"encoder.encoder.layer.{i}." for i in range(num_layers - tuned_layers, num_layers)]
    return sorted(k for k in state if any(k.startswith(p) for p in prefixes))


def save_delta(model: EarfulMultiHeadModel, directory: pathlib.Path) -> pathlib.Path:
    """Write the delta of ``model`` (config + safetensors) into ``directory``."""
    from safetensors.torch import save_file

    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = model.config
    state = model.state_dict()
    keys = delta_keys(state, config.tuned_layers, model.encoder.config.num_hidden_layers)
    tensors = {k: _stored(k, state[k]) for k in keys}
    tensors.update({k: _stored(k, v) for k, v in getattr(model, "lora_factors", {}).items()})
    save_file(tensors, str(directory / WEIGHTS_FILE), metadata={"format": "pt", "earful": "delta"})
    config.save_pretrained(str(directory))
    return directory


def _stored(key: str, tensor: torch.Tensor) -> torch.Tensor:
    """Encoder layers and LoRA factors are stored in fp16 (half the size, no measurable loss); heads stay fp32."""
    tensor = tensor.detach().to("cpu")
    return (tensor.half() if key.startswith(("encoder.", lora.PREFIX)) else tensor.float()).contiguous()


def delta_version(directory: pathlib.Path) -> str:
    """Short content hash of a delta's weights and config: the ``model_version`` recorded with labels."""
    digest = hashlib.sha256()
    for name in ("config.json", WEIGHTS_FILE):
        digest.update((pathlib.Path(directory) / name).read_bytes())
    return digest.hexdigest()[:12]


def read_delta_config(directory: pathlib.Path) -> EarfulConfig:
    """The ``EarfulConfig`` of a delta directory, or a ``ModelLoadError`` naming the problem."""
    from earful_nlp.modeling import EarfulConfig

    directory = pathlib.Path(directory)
    if not (directory / "config.json").is_file() or not (directory / WEIGHTS_FILE).is_file():
        raise ModelLoadError(f"{directory} is not an earful model directory (needs config.json and {WEIGHTS_FILE})")
    try:
        config = EarfulConfig.from_pretrained(str(directory))
    except (OSError, ValueError, TypeError) as exc:
        raise ModelLoadError(f"{directory}/config.json cannot be read: {exc}") from exc
    if config.model_type != "earful_multihead" or not config.heads:
        raise ModelLoadError(f"{directory} has no earful heads in its config.json")
    if config.encoder_sha256 and config.encoder_sha256 != TENSORS_SHA256:
        raise ModelLoadError(
            f"{directory} was trained on a different encoder build ({config.encoder_sha256[:12]}); retrain it"
        )
    return config


def load_encoder(
    cache_dir: pathlib.Path, show_progress: bool = True, tokenizer: str = "transformers"
) -> tuple[BertModel, PreTrainedTokenizerBase | SentencePieceIds]:
    """(BertModel, tokenizer) of the rebuilt default encoder, building it first if needed.

    ``tokenizer`` "transformers" gives the fast tokenizer (for training and tooling), "sentencepiece"
    the compact :class:`nlp.spm_ids.SentencePieceIds` (for classification).
    """
    from transformers import AutoTokenizer, BertModel

    from earful_nlp.spm_ids import SentencePieceIds

    directory = ensure_encoder(cache_dir, show_progress=show_progress)
    encoder = BertModel.from_pretrained(str(directory), add_pooling_layer=False)
    encoder.eval()
    if tokenizer == "sentencepiece":
        return encoder, SentencePieceIds.from_directory(directory)
    return encoder, AutoTokenizer.from_pretrained(str(directory))


def new_model(
    encoder: BertModel, heads: dict[str, dict], tuned_layers: int, max_length: int, version: str = "0"
) -> EarfulMultiHeadModel:
    """A multi-head model around a loaded encoder with freshly initialised ``heads``."""
    from earful_nlp.modeling import EarfulConfig, EarfulMultiHeadModel

    config = EarfulConfig(
        encoder=encoder.config.to_dict(),
        heads=heads,
        tuned_layers=tuned_layers,
        max_tokens=max_length,
        encoder_name=ENCODER_NAME,
        encoder_sha256=TENSORS_SHA256,
        version=version,
    )
    return EarfulMultiHeadModel(config, encoder=encoder)


def load_delta(directory: pathlib.Path, encoder: BertModel) -> EarfulMultiHeadModel:
    """The model of a delta directory, built on ``encoder`` (whose tuned layers it overwrites and into which
    it merges its LoRA factors)."""
    from safetensors.torch import load_file

    from earful_nlp.modeling import EarfulMultiHeadModel

    config = read_delta_config(directory)
    model = EarfulMultiHeadModel(config, encoder=encoder)
    loaded = {k: v.float() for k, v in load_file(str(pathlib.Path(directory) / WEIGHTS_FILE)).items()}
    factors = {k: v for k, v in loaded.items() if k.startswith(lora.PREFIX)}
    tensors = {k: v for k, v in loaded.items() if k not in factors}
    expected = set(delta_keys(model.state_dict(), config.tuned_layers, encoder.config.num_hidden_layers))
    if set(tensors) != expected or bool(factors) != bool(config.lora):
        missing, extra = sorted(expected - set(tensors)), sorted(set(tensors) - expected)
        lora_state = f"{len(factors)} LoRA tensors, config lora {config.lora or 'none'}"
        raise ModelLoadError(
            f"{directory}/{WEIGHTS_FILE} does not match its config (missing {missing[:3]}, extra {extra[:3]}, {lora_state})"
        )
    model.load_state_dict(tensors, strict=False)
    if factors:
        try:
            lora.merge(model.encoder, factors, float(config.lora["scale"]))
        except (AttributeError, KeyError, RuntimeError) as exc:
            raise ModelLoadError(f"{directory}/{WEIGHTS_FILE}: LoRA factors do not fit the encoder: {exc}") from exc
        model.lora_factors = factors
    model.eval()
    return model


def export_full(
    model: EarfulMultiHeadModel, tokenizer: PreTrainedTokenizerBase, directory: pathlib.Path
) -> pathlib.Path:
    """Save a complete Hugging Face model directory (weights of the whole encoder, heads, tokenizer)."""
    directory = pathlib.Path(directory)
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory


def write_json(path: pathlib.Path, payload: dict) -> None:
    """Write ``payload`` as indented UTF-8 JSON."""
    pathlib.Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
