"""Averaging sentiment runs into one model: exact mean of the LoRA deltas and of the heads, and it reloads."""

from __future__ import annotations

import torch

from earful_nlp import lora, model_store
from earful_nlp.default_recipe import average_runs
from earful_nlp.labels import SENTIMENT, SENTIMENT_LABELS
from earful_nlp.modeling import make_head
from earful_nlp.training import TrainOptions

QUERY = "encoder.layer.3.attention.self.query"


def _fake_run(models_cache, seed: int):
    """A model as a run leaves it: random rank-2 factors on every target, merged, and a trained-looking head."""
    encoder, _ = model_store.load_encoder(models_cache, show_progress=False)
    spec = TrainOptions(task=SENTIMENT).head_spec(SENTIMENT_LABELS)
    model = model_store.new_model(encoder, {SENTIMENT: spec}, 0, 128)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(13)  # every run starts from one head initialisation ...
    model.heads[SENTIMENT] = make_head(spec, 384)
    with torch.no_grad():  # ... and training moves it
        for param in model.heads[SENTIMENT].parameters():
            param += 0.01 * torch.randn(param.shape, generator=generator)
    factors = {}
    for name, module in model.encoder.named_modules():
        if isinstance(module, torch.nn.Linear) and any(name.endswith(t) for t in lora.TARGETS):
            factors[f"{lora.PREFIX}{name}.A"] = 0.05 * torch.randn(2, module.in_features, generator=generator)
            factors[f"{lora.PREFIX}{name}.B"] = 0.05 * torch.randn(module.out_features, 2, generator=generator)
    model.config.lora = lora.spec(2, 4)
    lora.merge(model.encoder, factors, 2.0)
    model.lora_factors = factors
    return model


def test_the_averaged_model_is_the_mean_of_the_runs_and_reloads_as_one_delta(models_cache, tmp_path) -> None:
    runs = [_fake_run(models_cache, seed) for seed in (1, 2, 3)]
    base, _ = model_store.load_encoder(models_cache, show_progress=False)
    base_query = base.get_submodule(QUERY).weight.detach().clone()
    fresh, _ = model_store.load_encoder(models_cache, show_progress=False)
    averaged = average_runs(runs, fresh)

    mean_query = sum(run.encoder.get_submodule(QUERY).weight for run in runs) / 3
    assert torch.allclose(averaged.encoder.get_submodule(QUERY).weight, mean_query, atol=1e-5)
    assert not torch.allclose(mean_query, base_query, atol=1e-3)  # the deltas were not nothing
    for name, value in averaged.heads[SENTIMENT].state_dict().items():
        expected = sum(run.heads[SENTIMENT].state_dict()[name] for run in runs) / 3
        assert torch.allclose(value, expected, atol=1e-6), name
    assert averaged.config.lora["rank"] == 6 and averaged.config.lora["scale"] == 2.0

    out = model_store.save_delta(averaged, tmp_path / "averaged")
    encoder, tokenizer = model_store.load_encoder(models_cache, show_progress=False)
    reloaded = model_store.load_delta(out, encoder)
    batch = tokenizer(["query: the parcel never came"], return_tensors="pt")
    with torch.inference_mode():
        before = averaged(**batch)[SENTIMENT]
        after = reloaded(**batch)[SENTIMENT]
    assert torch.allclose(before, after, atol=2e-3)  # factors are stored in fp16
