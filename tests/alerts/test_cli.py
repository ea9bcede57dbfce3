"""`earful alerts list|show|retry|test-channel` as a person runs them (the real command, a real receiver)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from earful.schema import upgrade
from earful_alerts.api import raise_alert
from earful_alerts.channels import build_channels
from earful_alerts.config import AlertsSettings
from earful_alerts.sender import deliver_pending
from earful_records.db import make_engine

EARFUL = [sys.executable, "-m", "earful.cli"]


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env["EARFUL_ALERTS__CHANNELS__HOOK__SECRET"] = "from-the-environment"
    return subprocess.run(
        [*EARFUL, "alerts", *args, "-c", str(config)], capture_output=True, text=True, env=env, timeout=120
    )


def test_list_show_retry_and_test_channel(tmp_path, receiver):
    config = tmp_path / "earful.yaml"
    alerts_section = {
        "channels": {"hook": {"type": "webhook", "url": receiver.url}},
        "routes": [{"channels": ["hook"]}],
        "sender": {"max_attempts": 1},
    }
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "alerts": alerts_section}))
    engine = make_engine(f"sqlite:///{tmp_path}/data/records.db")
    upgrade(engine)
    alert_id = raise_alert(
        engine,
        kind="complaint_overdue",
        dedup_key="C-1:ack",
        severity="warning",
        title="Acknowledgement overdue <b>C-1</b>",
        summary="due yesterday",
    )
    receiver.answer((503, {}, 0))
    settings = AlertsSettings.model_validate(alerts_section)
    assert deliver_pending(engine, settings, build_channels(settings, None)).parked == 1
    engine.dispose()

    listed = run(config, "list", "--failed")
    assert listed.returncode == 0, listed.stderr
    assert alert_id in listed.stdout and "hook:parked" in listed.stdout

    shown = run(config, "show", alert_id[:8])
    assert shown.returncode == 0, shown.stderr
    assert "Acknowledgement overdue <b>C-1</b>" in shown.stdout and "503" in shown.stdout
    assert receiver.url not in shown.stdout + listed.stdout  # the webhook URL is a secret

    receiver.answer((200, {}, 0))
    retried = run(config, "retry", "--all")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert "sent 1" in retried.stdout
    assert run(config, "list", "--failed").stdout.strip() == "no failed deliveries"
    assert receiver.requests[-1].headers["x-earful-signature"].startswith("sha256=")  # secret from the env

    tested = run(config, "test-channel", "hook")
    assert tested.returncode == 0 and "delivered" in tested.stdout
    receiver.answer((404, {}, 0))
    assert run(config, "test-channel", "hook").returncode == 1
    assert run(config, "test-channel", "nope").returncode == 2
    assert run(config, "show", "al-doesnotexist").returncode == 1
    assert run(config, "retry").returncode == 2  # neither id nor --all


SEND_ONCE = """
import sys
from pathlib import Path
from earful_alerts.channels import build_channels
from earful_alerts.sender import deliver_pending
from earful.services import open_records
from earful.settings import load_settings
settings = load_settings(Path(sys.argv[1]))
engine = open_records(settings)
deliver_pending(engine, settings.alerts, build_channels(settings.alerts, None))
"""


def test_a_sender_killed_while_sending_is_listed_as_failed_and_resent_by_the_next_run(tmp_path, receiver):
    import sqlalchemy as sa

    from earful_alerts.tables import alert_attempts, alert_deliveries

    config = tmp_path / "earful.yaml"
    alerts_section = {
        "channels": {"hook": {"type": "webhook", "url": receiver.url}},
        "routes": [{"channels": ["hook"]}],
        "sender": {"max_attempts": 3},
    }
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "alerts": alerts_section}))
    engine = make_engine(f"sqlite:///{tmp_path}/data/records.db")
    upgrade(engine)
    alert_id = raise_alert(
        engine,
        kind="complaint_overdue",
        dedup_key="C-2:ack",
        severity="warning",
        title="Acknowledgement overdue C-2",
        summary="due yesterday",
    )
    receiver.answer((200, {}, 20.0), (200, {}, 0.0))  # the first delivery hangs: the sender is killed in it
    env = {**os.environ, "EARFUL_ALERTS__CHANNELS__HOOK__SECRET": "s"}
    sender = subprocess.Popen([sys.executable, "-c", SEND_ONCE, str(config)], env=env)
    deadline = time.monotonic() + 60
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.requests, "the sender never reached the receiver"
    sender.kill()  # SIGKILL while the delivery is claimed ("sending", 5-minute lease)
    sender.wait()

    listed = run(config, "list", "--failed", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]  # not invisible for five minutes
    assert row["id"] == alert_id and row["deliveries"][0]["status"] == "sending"
    assert row["deliveries"][0]["abandoned"] is True

    settings = AlertsSettings.model_validate(
        {**alerts_section, "channels": {"hook": {"type": "webhook", "url": receiver.url, "secret": "s"}}}
    )
    report = deliver_pending(engine, settings, build_channels(settings, None))  # the next run, at once
    assert (report.recovered, report.sent) == (1, 1)
    with engine.connect() as conn:
        delivery = conn.execute(sa.select(alert_deliveries)).mappings().one()
        log = conn.execute(sa.select(alert_attempts.c.ok, alert_attempts.c.error).order_by(alert_attempts.c.id)).all()
    engine.dispose()
    assert delivery["status"] == "sent" and delivery["attempts"] == 2 and delivery["claimed_by"] is None
    assert not log[0].ok and f"pid {sender.pid}" in log[0].error and log[1].ok  # the lost attempt is on record
    assert [r.headers["x-earful-alert-id"] for r in receiver.requests] == [alert_id, alert_id]
    assert run(config, "list", "--failed").stdout.strip() == "no failed deliveries"
