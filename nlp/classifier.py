"""Sentiment and complaint labels for mentions: the object the batch runner calls.

One encoder pass per batch feeds every head of the default model; a task configured with its own
Hugging Face model (``nlp.sentiment_model`` / ``nlp.complaint_model``) uses that model instead. All
loading and label-mapping problems surface in :meth:`MentionClassifier.load` as ``ModelLoadError``.
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import numpy as np

from earful_nlp.config import NlpSettings
from earful_nlp.labels import COMPLAINT, SENTIMENT, SENTIMENT_LABELS
from earful_nlp.runtime import compute_context, use_bf16
from earful_nlp.text_prep import letter_count, prepare

if TYPE_CHECKING:
    from earful_nlp.config import Task
    from earful_nlp.modeling import EarfulMultiHeadModel
    from earful_nlp.spm_ids import SentencePieceIds

UNDETERMINED = "und"
DEFAULT_MODEL_NAME = "earful-default"


class MentionClassifier:
    """Labels posts with sentiment (and its probabilities) and complaint probability."""

    def __init__(
        self,
        settings: NlpSettings,
        default_model: EarfulMultiHeadModel | None = None,
        default_tokenizer: SentencePieceIds | None = None,
        byo: dict | None = None,
        default_name: str = DEFAULT_MODEL_NAME,
        default_version: str = "",
    ) -> None:
        self.settings = settings
        self.default_model = default_model
        self.default_tokenizer = default_tokenizer
        self.byo = dict(byo or {})
        self.default_name = default_name
        self.default_version = default_version
        self.model_name, self.model_version = self._identity()
        self.bf16 = use_bf16(settings.bf16) and not settings.quantize_int8

    @classmethod
    def load(cls, settings: NlpSettings, cache_dir: pathlib.Path) -> MentionClassifier:
        """Build/load the encoder and heads, or the configured models; raise ``ModelLoadError`` if unusable."""
        from earful_nlp import model_store
        from earful_nlp.byo_model import load_sequence_classifier
        from earful_nlp.errors import ModelLoadError
        from earful_nlp.runtime import configure_threads, quantize_linear_int8

        configure_threads(settings.threads)
        byo = {}
        configured: list[tuple[Task, pathlib.Path | None]] = [
            (SENTIMENT, settings.sentiment_model),
            (COMPLAINT, settings.complaint_model),
        ]
        for task, path in configured:
            if path is not None:
                byo[task] = load_sequence_classifier(task, path, settings.label_map.get(task), settings.max_length)
                if settings.quantize_int8:
                    byo[task].model = quantize_linear_int8(byo[task].model)
        model = tokenizer = None
        version = ""
        if len(byo) < 2:
            delta = settings.default_model or model_store.DEFAULT_MODEL_DIR
            config = model_store.read_delta_config(delta)
            missing = [t for t in (SENTIMENT, COMPLAINT) if t not in byo and t not in config.heads]
            if missing:
                raise ModelLoadError(
                    f"{delta} has no head for {missing}; train one or configure nlp.{missing[0]}_model"
                )
            encoder, tokenizer = model_store.load_encoder(pathlib.Path(cache_dir), tokenizer="sentencepiece")
            model = model_store.load_delta(delta, encoder)
            for task in list(model.heads):
                if task in byo:
                    del model.heads[task]
            if settings.quantize_int8:
                model.encoder = quantize_linear_int8(model.encoder)
            model.eval()
            version = model_store.delta_version(delta)
        return cls(settings, model, tokenizer, byo, default_version=version)

    def _identity(self) -> tuple[str, str]:
        """Model name and version recorded with each label (per task when the tasks use different models)."""
        parts = {}
        for task in (SENTIMENT, COMPLAINT):
            if task in self.byo:
                parts[task] = (self.byo[task].name, self.byo[task].version)
            else:
                parts[task] = (self.default_name, self.default_version)
        if parts[SENTIMENT] == parts[COMPLAINT]:
            return parts[SENTIMENT]
        name = ";".join(f"{task}={parts[task][0]}" for task in (SENTIMENT, COMPLAINT))
        version = ";".join(f"{task}={parts[task][1]}" for task in (SENTIMENT, COMPLAINT))
        return name, version

    def is_classifiable(self, text: str | None, lang: str | None) -> bool:
        """False for empty text, and for text of undetermined language with too few letters."""
        if not text or not text.strip():
            return False
        if (lang or UNDETERMINED) == UNDETERMINED:
            return letter_count(text) >= self.settings.undetermined_min_letters
        return letter_count(text) > 0 or any(not ch.isspace() for ch in text)

    def classify(self, texts: list[str], langs: list[str]) -> list[dict | None]:
        """One result per text (None when it gets no label); see the module docs for the keys."""
        if len(texts) != len(langs):
            raise ValueError("texts and langs must have the same length")
        keep = [i for i, (t, lang) in enumerate(zip(texts, langs, strict=True)) if self.is_classifiable(t, lang)]
        results: list[dict | None] = [None] * len(texts)
        if not keep:
            return results
        prepared = [prepare(texts[i], self.settings.max_length) for i in keep]
        probs = self._probabilities(prepared)
        factors = self._language_temperatures()
        if factors:
            from earful_nlp.calibration import apply_language_temperatures

            probs[SENTIMENT] = apply_language_temperatures(probs[SENTIMENT], [langs[i] for i in keep], factors)
        threshold = self.settings.complaint_threshold
        for row, index in enumerate(keep):
            sentiment = probs[SENTIMENT][row]
            complaint_p = float(probs[COMPLAINT][row][1])
            results[index] = {
                "sentiment": SENTIMENT_LABELS[int(np.argmax(sentiment))],
                "sentiment_scores": {
                    label: round(float(p), 4) for label, p in zip(SENTIMENT_LABELS, sentiment, strict=True)
                },
                "complaint": complaint_p >= threshold,
                "complaint_probability": round(complaint_p, 4),
                "model": self.model_name,
                "model_version": self.model_version,
            }
        return results

    def _language_temperatures(self) -> dict[str, float]:
        """The default sentiment head's per-language calibration factors (none for a configured model)."""
        if self.default_model is None or SENTIMENT in self.byo:
            return {}
        return dict(self.default_model.config.heads[SENTIMENT].get("temperature_by_language") or {})

    def _probabilities(self, texts: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        if self.default_model is not None:
            out.update(self._default_probabilities(texts))
        for task, backend in self.byo.items():
            out[task] = backend.probabilities(texts, self.settings.batch_size, bf16=self.bf16)
        return out

    def _default_probabilities(self, texts: list[str]) -> dict[str, np.ndarray]:
        """All default heads' probabilities from one encoder pass per length-sorted batch."""
        import torch

        model, tokenizer = self.default_model, self.default_tokenizer
        if model is None or tokenizer is None:
            return {}
        config = model.config
        max_length = min(self.settings.max_length, config.max_tokens or self.settings.max_length)
        encoded = tokenizer.encode([config.text_prefix + t for t in texts], max_length)
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        pad_id = tokenizer.pad_token_id
        out = {
            task: np.zeros((len(texts), len(spec["labels"])), np.float32)
            for task, spec in config.heads.items()
            if task in model.heads
        }
        size = self.settings.batch_size
        with torch.inference_mode(), compute_context(self.bf16):
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                width = max(len(encoded[i]) for i in batch)
                input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, index in enumerate(batch):
                    input_ids[row, : len(encoded[index])] = torch.tensor(encoded[index])
                    mask[row, : len(encoded[index])] = 1
                for task, logits in model(input_ids=input_ids, attention_mask=mask).items():
                    out[task][batch] = torch.softmax(logits.float(), -1).numpy()
        return out
