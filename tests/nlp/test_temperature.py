"""Temperature scaling: fitted from data, folded into a head's last layer without changing its labels."""

from __future__ import annotations

import numpy as np
import torch

from earful_nlp.calibration import fit_temperature, tempered, top_label_ece
from earful_nlp.modeling import make_head
from earful_nlp.training import fold_temperature


def test_fitted_temperature_undoes_overconfidence() -> None:
    rng = np.random.default_rng(3)
    true_logits = rng.normal(0, 1.5, size=(4000, 3))
    gold = np.array([rng.choice(3, p=p) for p in tempered(true_logits, 1.0)])
    overconfident = true_logits * 2.5  # what a model that is too sure of itself outputs
    temperature = fit_temperature(overconfident, gold)
    assert 2.2 < temperature < 2.8
    assert top_label_ece(tempered(overconfident, temperature), gold) < top_label_ece(tempered(overconfident, 1.0), gold)


def test_folded_temperature_divides_the_logits_and_keeps_every_label() -> None:
    torch.manual_seed(0)
    for spec in ({"labels": ["a", "b", "c"], "hidden": 16, "kind": "mlp"}, {"labels": ["a", "b"], "kind": "linear"}):
        head = make_head(spec, 8).eval()
        x = torch.randn(50, 8)
        with torch.no_grad():
            before = head(x)
            fold_temperature(head, 2.0)
            after = head(x)
        assert torch.allclose(after, before / 2.0, atol=1e-5)
        assert torch.equal(after.argmax(1), before.argmax(1))
