"""A configured Hugging Face sequence-classification model standing in for one of earful's heads."""

from __future__ import annotations

import dataclasses
import hashlib
import pathlib
from typing import TYPE_CHECKING

import numpy as np

from earful_nlp.errors import ModelLoadError
from earful_nlp.labels import TASK_LABELS, map_model_labels

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


@dataclasses.dataclass
class SequenceClassifierBackend:
    """Model, tokenizer and label mapping of a bring-your-own classifier for one task."""

    task: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    class_to_label: dict[int, str]
    name: str
    version: str
    max_length: int

    def probabilities(self, texts: list[str], batch_size: int, bf16: bool = False) -> np.ndarray:
        """[n, len(our labels)] probabilities, summing the model's classes that map to the same label."""
        import torch

        from earful_nlp.runtime import compute_context

        ours = TASK_LABELS[self.task]
        projection = np.zeros((len(self.class_to_label), len(ours)), np.float32)
        for class_id, label in self.class_to_label.items():
            projection[class_id, ours.index(label)] = 1.0
        out = np.zeros((len(texts), len(ours)), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode(), compute_context(bf16):
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                encoded = self.tokenizer(
                    [texts[i] for i in batch],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                logits = self.model(**encoded).logits
                out[batch] = torch.softmax(logits.float(), -1).numpy() @ projection
        return out


def load_sequence_classifier(
    task: str, directory: pathlib.Path, label_map: dict[str, str] | None, max_length: int
) -> SequenceClassifierBackend:
    """Load ``directory`` offline and map its labels; any problem is a ``ModelLoadError`` naming the setting."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    directory = pathlib.Path(directory).expanduser()
    setting = f"nlp.{task}_model"
    if not (directory / "config.json").is_file():
        raise ModelLoadError(f"{setting}: {directory} is not a Hugging Face model directory (no config.json)")
    try:
        model = AutoModelForSequenceClassification.from_pretrained(str(directory), local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    except Exception as exc:  # transformers raises many types for broken directories
        raise ModelLoadError(f"{setting}: cannot load {directory}: {type(exc).__name__}: {exc}") from exc
    model.eval()
    id2label = dict(getattr(model.config, "id2label", None) or {})
    if len(id2label) != model.config.num_labels:
        raise ModelLoadError(
            f"{setting}: {directory}/config.json has no id2label for its {model.config.num_labels} classes"
        )
    mapping = map_model_labels(task, id2label, label_map)
    limit = min(max_length, getattr(tokenizer, "model_max_length", max_length) or max_length)
    return SequenceClassifierBackend(
        task=task,
        model=model,
        tokenizer=tokenizer,
        class_to_label=mapping,
        name=directory.name,
        version=_directory_version(directory),
        max_length=limit,
    )


def _directory_version(directory: pathlib.Path) -> str:
    """Short hash of config.json and the weight files' names and sizes."""
    digest = hashlib.sha256((directory / "config.json").read_bytes())
    for path in sorted(directory.glob("*.safetensors")) + sorted(directory.glob("*.bin")):
        digest.update(f"{path.name}:{path.stat().st_size}".encode())
    return digest.hexdigest()[:12]
