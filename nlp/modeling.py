"""earful's multi-head model: one e5 encoder pass feeds every classification head.

``EarfulMultiHeadModel`` is an ordinary ``PreTrainedModel`` (config ``model_type = "earful_multihead"``),
registered with ``AutoConfig``/``AutoModel`` by :func:`register_auto_classes`. The repository ships only
its *delta* (fine-tuned top encoder layers or LoRA factors, and the heads, see :mod:`nlp.model_store`); the full
directory is assembled in the models cache from the rebuilt encoder plus that delta.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import BertConfig, BertModel, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

MODEL_TYPE = "earful_multihead"


class EarfulConfig(PretrainedConfig):
    """Encoder hyper-parameters plus the heads: ``heads = {task: {"labels": [...], "hidden": int}}``, and the
    encoder's LoRA adapters if any (``lora``)."""

    model_type = MODEL_TYPE

    def __init__(
        self,
        encoder: dict | None = None,
        heads: dict[str, dict] | None = None,
        tuned_layers: int = 0,
        text_prefix: str = "query: ",
        max_tokens: int = 128,
        encoder_name: str = "",
        encoder_sha256: str = "",
        version: str = "0",
        lora: dict | None = None,
        **kwargs: object,
    ) -> None:
        self.encoder = dict(encoder or {})
        self.heads = dict(heads or {})
        self.tuned_layers = tuned_layers
        self.text_prefix = text_prefix
        self.max_tokens = max_tokens
        self.encoder_name = encoder_name
        self.encoder_sha256 = encoder_sha256
        self.version = version
        self.lora = dict(lora or {})  # LoRA adapters over the encoder (see nlp.lora); merged when a delta loads
        super().__init__(**kwargs)


class ClassificationHead(nn.Module):
    """Pooled sentence vector -> dropout -> dense -> GELU -> dropout -> class logits."""

    def __init__(self, size: int, hidden: int, n_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(size, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, n_labels)
        )

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.net(pooled)


class LinearHead(nn.Module):
    """Standardized features -> linear class logits (a logistic regression fitted by scikit-learn)."""

    def __init__(self, size: int, n_labels: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(size))
        self.register_buffer("scale", torch.ones(size))
        self.linear = nn.Linear(size, n_labels)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.linear((pooled - self.mean) * self.scale)


def head_layers(spec: dict) -> list[int]:
    """Which hidden states (negative indices, -1 = last layer) a head pools and concatenates."""
    return list(spec.get("layers", [-1]))


def make_head(spec: dict, hidden_size: int) -> nn.Module:
    """The head module a config entry describes (``kind`` "mlp" or "linear")."""
    size = hidden_size * len(head_layers(spec))
    if spec.get("kind", "mlp") == "linear":
        return LinearHead(size, len(spec["labels"]))
    return ClassificationHead(size, spec["hidden"], len(spec["labels"]))


def pooled_inputs(hidden_states: tuple[torch.Tensor, ...], attention_mask: torch.Tensor, specs: dict) -> dict:
    """Per task, the concatenated mean-pools of the layers its head reads (each layer pooled once)."""
    pools: dict[int, torch.Tensor] = {}
    out = {}
    for task, spec in specs.items():
        layers = head_layers(spec)
        for layer in layers:
            if layer not in pools:
                pools[layer] = mean_pool(hidden_states[layer], attention_mask)
        out[task] = torch.cat([pools[layer] for layer in layers], dim=-1)
    return out


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors that the mask keeps (e5's sentence embedding before normalization)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def additive_attention_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[batch, 1, 1, length] mask to add to attention scores (0 keeps a token, a large negative drops it)."""
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def run_layers(layers: nn.ModuleList, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Run a slice of ``BertLayer`` modules over ``hidden`` (used to train on cached lower-layer outputs)."""
    extended = additive_attention_mask(attention_mask, hidden.dtype)
    for layer in layers:
        hidden = layer(hidden, extended)
    return hidden


class EarfulMultiHeadModel(PreTrainedModel):
    """A ``BertModel`` encoder and one classification head per task, sharing one encoder pass."""

    config_class = EarfulConfig
    base_model_prefix = "earful"
    main_input_name = "input_ids"

    def __init__(self, config: EarfulConfig, encoder: BertModel | None = None) -> None:
        super().__init__(config)
        self.encoder = (
            encoder if encoder is not None else BertModel(BertConfig(**config.encoder), add_pooling_layer=False)
        )
        size = self.encoder.config.hidden_size
        self.heads = nn.ModuleDict({task: make_head(spec, size) for task, spec in config.heads.items()})
        self.post_init()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: object) -> dict[str, torch.Tensor]:
        """Logits per task for a batch of token ids (one encoder pass for all heads)."""
        hidden_states = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        ).hidden_states
        specs = {task: self.config.heads[task] for task in self.heads}
        inputs = pooled_inputs(hidden_states, attention_mask, specs)
        return {task: head(inputs[task]) for task, head in self.heads.items()}


def register_auto_classes() -> None:
    """Let ``AutoConfig``/``AutoModel.from_pretrained`` open earful model directories."""
    from transformers import AutoConfig, AutoModel

    try:
        AutoConfig.register(MODEL_TYPE, EarfulConfig)
        AutoModel.register(EarfulConfig, EarfulMultiHeadModel)
    except ValueError:
        pass  # already registered in this process


class EarfulForSequenceClassification(PreTrainedModel):
    """One task of a multi-head model as a standard sequence classifier (returns ``.logits``).

    Lets generic tooling such as ``transformers.pipeline("text-classification")`` run one head.
    """

    config_class = EarfulConfig
    base_model_prefix = "earful"

    def __init__(self, config: EarfulConfig, multi_head: EarfulMultiHeadModel | None = None, task: str = "") -> None:
        super().__init__(config)
        multi_head = multi_head if multi_head is not None else EarfulMultiHeadModel(config)
        self.encoder = multi_head.encoder
        self.head = multi_head.heads[task]
        self.spec = config.heads[task]
        labels = config.heads[task]["labels"]
        self.config.id2label = dict(enumerate(labels))
        self.config.label2id = {label: i for i, label in enumerate(labels)}
        self.config.num_labels = len(labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: object) -> SequenceClassifierOutput:
        hidden_states = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        ).hidden_states
        pooled = pooled_inputs(hidden_states, attention_mask, {"task": self.spec})["task"]
        return SequenceClassifierOutput(logits=self.head(pooled))
