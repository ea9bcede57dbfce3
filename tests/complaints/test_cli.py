"""`earful complaints ...` as people and scripts run it: real processes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
import yaml

from earful_records.db import make_engine

EARFUL = Path(sys.executable).with_name("earful")


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "earful.yaml"
    if not config.exists():
        config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}), encoding="utf-8")
    full_env = {**os.environ, "EARFUL_CONFIG": str(config), "COLUMNS": "200", **(env or {})}
    full_env.pop("EARFUL_COMPLAINTS_ACTOR", None) if "EARFUL_COMPLAINTS_ACTOR" not in (env or {}) else None
    return subprocess.run([str(EARFUL), "complaints", *args], capture_output=True, text=True, env=full_env, timeout=120)


def test_cli_flow_verify_and_tampering(tmp_path: Path) -> None:
    pw = {"EARFUL_COMPLAINTS_PASSWORD": "a-long-password"}
    assert _run(tmp_path, "users", "add", "dana", "--role", "quality", env=pw).returncode == 0
    assert _run(tmp_path, "users", "add", "vera", "--role", "viewer", env=pw).returncode == 0
    created = _run(tmp_path, "new", "--channel", "email", "--description", "Refund never came", "--as", "dana")
    assert created.returncode == 0, created.stderr
    ref = created.stdout.strip()
    refused = _run(tmp_path, "close", ref, "--reason", "x", "--as", "dana")
    assert refused.returncode == 1 and "legal-transition" in refused.stderr and "Traceback" not in refused.stderr
    viewer = _run(tmp_path, "ack", ref, "--channel", "email", "--text", "hi", "--as", "vera")
    assert viewer.returncode == 1 and "may not change records" in viewer.stderr
    acked = _run(
        tmp_path,
        "ack",
        ref,
        "--channel",
        "email",
        "--text",
        "We are on it",
        "--expect-version",
        "1",
        env={"EARFUL_COMPLAINTS_ACTOR": "dana"},
    )
    assert acked.returncode == 0, acked.stderr
    stale = _run(tmp_path, "reject", ref, "--reason", "late", "--expect-version", "1", "--as", "dana")
    assert stale.returncode == 1 and "changed by someone else" in stale.stderr
    listed = _run(tmp_path, "list", "--json")
    assert [json.loads(x)["status"] for x in listed.stdout.splitlines()] == ["acknowledged"]
    assert _run(tmp_path, "verify").returncode == 0

    engine = make_engine(f"sqlite:///{tmp_path}/data/records.db")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE complaint_events SET actor = 'mallory' WHERE seq = 2"))
    engine.dispose()
    tampered = _run(tmp_path, "verify")
    assert tampered.returncode == 1 and "TAMPERED" in tampered.stdout and "event 2" in tampered.stdout


def test_cli_report_and_usage_errors(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = _run(tmp_path, "report", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "html", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "<svg" in out.read_text(encoding="utf-8")
    csv_run = _run(tmp_path, "report", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "csv")
    assert csv_run.stdout.startswith("section,key,value")
    bad = _run(tmp_path, "report", "--from", "2026-02-01", "--to", "2026-01-01")
    assert bad.returncode == 2
    assert _run(tmp_path, "check-deadlines").returncode == 0


def test_cli_iso_steps(tmp_path: Path) -> None:
    """Contact details, immediate action, internal escalation, a logged call and retention from the command line."""
    pw = {"EARFUL_COMPLAINTS_PASSWORD": "a-long-password"}
    for name in ("dana", "erik"):
        assert _run(tmp_path, "users", "add", name, "--role", "quality", env=pw).returncode == 0
    created = _run(
        tmp_path, "new", "--channel", "phone", "--description", "Lid flew off", "--email", "kim@example.org",
        "--immediate-action", "Told Kim to stop using it", "--as", "dana",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    ref = created.stdout.strip()
    bad = _run(tmp_path, "contact", ref, "--email", "not-an-address", "--as", "dana")
    assert bad.returncode == 1 and "valid-value" in bad.stderr and "Traceback" not in bad.stderr
    assert _run(tmp_path, "contact", ref, "--phone", "+49 30 1234", "--as", "dana").returncode == 0
    assert _run(tmp_path, "ack", ref, "--channel", "phone", "--text", "On it", "--as", "dana").returncode == 0
    up = _run(tmp_path, "escalate-internal", ref, "--to", "erik", "--reason", "Safety", "--as", "dana")
    assert up.returncode == 0, up.stderr
    logged = _run(tmp_path, "log-communication", ref, "Kim called again", "--with", "+49 30 1234", "--as", "erik")
    assert logged.returncode == 0, logged.stderr
    no_mail = _run(tmp_path, "send-email", ref, "--subject", "s", "--text", "t", "--as", "erik")
    assert no_mail.returncode == 1 and "complaints.email_channel" in no_mail.stderr
    shown = json.loads(_run(tmp_path, "show", ref, "--json").stdout)
    assert shown["owner"] == "erik" and shown["complainant_phone"] == "+49 30 1234"
    kept = _run(tmp_path, "retention")
    assert kept.returncode == 0 and "0 record(s)" in kept.stdout
    assert _run(tmp_path, "verify").returncode == 0
