"""earful's multi-head model: one e5 encoder pass feeds every classification head.

``EarfulMultiHeadModel`` is an ordinary ``PreTrainedModel`` (config ``model_type = "earful_multihead"``),
registered with ``AutoConfig``/``AutoModel`` by :func:`register_auto_classes`. The repository ships only
its *delta* (the fine-tuned top encoder layers and the heads, see :mod:`nlp.model_store`); the full
directory is assembled in the models cache from the rebuilt encoder plus that delta.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import BertConfig, BertModel, PretrainedConfig, PreTrainedModel

MODEL_TYPE = "earful_multihead"


class EarfulConfig(PretrainedConfig):
    """Encoder hyper-parameters plus the heads: ``heads = {task: {"labels": [...], "hidden": int}}``."""

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
        **kwargs,
    ) -> None:
        self.encoder = dict(encoder or {})
        self.heads = dict(heads or {})
        self.tuned_layers = tuned_layers
        self.text_prefix = text_prefix
        self.max_tokens = max_tokens
        self.encoder_name = encoder_name
        self.encoder_sha256 = encoder_sha256
        self.version = version
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
        self.encoder = encoder if encoder is not None else BertModel(BertConfig(**config.encoder), add_pooling_layer=False)
        size = self.encoder.config.hidden_size
        self.heads = nn.ModuleDict(
            {task: ClassificationHead(size, spec["hidden"], len(spec["labels"])) for task, spec in config.heads.items()}
        )
        self.post_init()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: object) -> dict[str, torch.Tensor]:
        """Logits per task for a batch of token ids."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = mean_pool(hidden, attention_mask)
        return {task: head(pooled) for task, head in self.heads.items()}


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
        labels = config.heads[task]["labels"]
        self.config.id2label = dict(enumerate(labels))
        self.config.label2id = {label: i for i, label in enumerate(labels)}
        self.config.num_labels = len(labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: object):
        from transformers.modeling_outputs import SequenceClassifierOutput

        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return SequenceClassifierOutput(logits=self.head(mean_pool(hidden, attention_mask)))
