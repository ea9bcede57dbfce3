"""The post-index hook as the batch runs it: real services (records DB, noida-db), real complaint register."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml
from rich.console import Console

from earful.hooks import BatchContext, post_index_hooks
from earful.services import open_services
from earful.settings import load_settings
from earful_listeners.mention import Mention
from tests.alerts.conftest import bulk_index, mention_doc


def test_hook_raises_routes_sends_and_opens_complaints_once(tmp_path, es_url, receiver):
    alias = f"hook-{tmp_path.name[-8:].lower().replace('_', '-')}"
    config = tmp_path / "earful.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(tmp_path / "data"),
                "index": {"url": es_url, "alias": alias},
                "alerts": {
                    "channels": {"hook": {"type": "webhook", "url": receiver.url, "secret": "s"}},
                    "routes": [{"channels": ["hook"]}],
                    "rules": [
                        {"name": "complaints", "type": "complaint", "min_probability": 0.8, "open_complaint": True},
                        {"name": "volume", "type": "volume_spike", "window": "1h", "baseline_windows": 24},
                    ],
                },
            }
        )
    )
    settings = load_settings(config)
    now = datetime.now(UTC)
    docs = [
        mention_doc(
            i,
            topic="acme",
            at=now - timedelta(minutes=30),
            complaint=0.9 if i == 0 else 0.1,
            title="Refund refused @here" if i == 0 else "",
        )
        for i in range(30)
    ]
    mentions = [Mention(**{k: v for k, v in d.items()}) for d in docs]
    # A day of history (2 an hour) first: a topic's very first hour is no spike (the warm-up guard).
    history = [
        mention_doc(f"h{h}-{j}", topic="acme", at=now - timedelta(hours=h + 0.5, minutes=10 * j))
        for h in range(1, 25)
        for j in range(2)
    ]
    with open_services(settings) as services:
        bulk_index(services.es, services.alias, history + docs)
        hooks = dict(post_index_hooks(services))
        ctx = BatchContext(services=services, new_mentions=mentions, started_at=now, console=Console(record=True))
        counts = hooks["alerts"](ctx)
        assert counts["alerts raised"] == 2 and counts["alerts sent"] == 2
        assert counts["complaints opened"] == 1
        again = hooks["alerts"](ctx)  # the same batch again: nothing new is sent or opened
        assert again["alerts raised"] == 0 and again["alerts sent"] == 0 and "complaints opened" not in again
    kinds = sorted(r.json()["kind"] for r in receiver.requests)
    assert kinds == ["complaint", "volume_spike"]
