"""The demo's burst, found by the spike rules of the bundled configuration: the samples and fixtures carry a
few mentions a day of acme-products from 16 November 2026 and a burst day on 19 November (26 mentions)."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import yaml

from earful.runner import run_batch
from earful.services import open_services
from earful.settings import load_settings
from earful_alerts.rules import spike_findings

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_configuration_finds_the_demo_burst_and_nothing_else(tmp_path: Path) -> None:
    shutil.copytree(REPO / "config", tmp_path / "config")
    path = tmp_path / "config" / "earful.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["nlp"] = {"enabled": False}  # volume only; the classifier is tested on its own
    data["data_dir"] = str(tmp_path / "data")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    settings = load_settings(path)
    run_batch(settings)  # the demo batch: bundled feeds and replayed Reddit / X fixtures into the embedded index

    def fired(moment: datetime) -> dict[tuple[str, str], str]:
        found = spike_findings(services.es, services.alias, settings.alerts.rules, moment)
        return {(f.rule.name, f.topic): f.reason for f in found}

    with open_services(settings) as services:
        burst = fired(datetime(2026, 11, 20, tzinfo=UTC))  # the day of the burst just ended
        before = fired(datetime(2026, 11, 19, tzinfo=UTC))
        after = fired(datetime(2026, 11, 23, tzinfo=UTC))
    assert set(burst) == {("volume-spike-daily", "acme-products")}, burst
    # acme-service's first mentions are on the burst day: no history, so no spike (the warm-up guard)
    # The count grows with the bundled sources (RSS, Reddit, X, Mastodon, Bluesky); the wording and the scale do not.
    reason = burst[("volume-spike-daily", "acme-products")]
    assert re.fullmatch(
        r"\d+ mentions in the last day \(to Fri 20 Nov 00:00 UTC\), about \d+x the usual 0\.7 per day; "
        r"chance of this by normal variation: less than 1 in a million",
        reason,
    ), reason
    assert int(reason.split()[0]) >= 20
    assert before == {} and after == {}
