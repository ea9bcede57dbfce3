"""Clause 8 report figures and the label export, on records worked through the register."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

from earful_complaints.clock import now_utc
from earful_complaints.labels import write_labels
from earful_complaints.register import apply_action
from earful_complaints.reports import build_report, period_bounds, render_csv, render_html
from tests.complaints.conftest import HAPPY_PATH, open_one, work_to


def test_report_counts_times_reopens_and_root_causes(engine, settings, tmp_path) -> None:
    refs = [open_one(engine, settings, i, language=lang) for i, lang in enumerate(["en", "de", "fa", "en"])]
    for ref in refs[:2]:
        work_to(engine, settings, ref, len(HAPPY_PATH))  # both closed, root cause "packaging"
    apply_action(engine, settings, refs[0], "reopen", {"reopen_reason": "again"}, actor="dana")
    apply_action(engine, settings, refs[2], "reject", {"rejection_reason": "a joke"}, actor="dana")
    today = now_utc().date()
    rep = build_report(engine, settings, *period_bounds(today - timedelta(days=6), today))
    assert rep.total == 4
    assert dict(rep.by["language"]) == {"en": 2, "de": 1, "fa": 1}
    assert dict(rep.by["status"]) == {"reopened": 1, "closed": 1, "not_a_complaint": 1, "received": 1}
    ack = next(t for t in rep.timings if t.step == "acknowledge")
    assert ack.done == 2 and ack.within_target == 2 and ack.share_within == 1.0
    assert rep.reopened == 1 and rep.closed_once == 2 and rep.reopen_rate == 0.5
    assert rep.recurring_root_causes == [("packaging", 2)]
    assert rep.rejected_from_listening == 1 and rep.confirmed_from_listening == 2
    assert sum(r for _, r, _ in rep.trend) == 4 and rep.trend_unit == "day"
    text = render_csv(rep)
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["section", "key", "value"] and ["reopen", "rate", "0.5000"] in rows
    assert ["root_cause", "packaging", "2"] in rows
    page = render_html(rep)
    assert page.count("<svg") == 5 and "http" not in page.replace("http://www.w3.org/2000/svg", "")


def test_csv_defuses_formulas(sqlite_engine, settings) -> None:
    ref = open_one(sqlite_engine, settings)
    work_to(sqlite_engine, settings, ref, 3)
    apply_action(sqlite_engine, settings, ref, "investigate", {"root_cause": '=HYPERLINK("x")'}, actor="ivan")
    today = now_utc().date()
    text = render_csv(build_report(sqlite_engine, settings, *period_bounds(today, today)))
    assert "root_cause,\"'=HYPERLINK" in text


def test_export_labels(engine, settings, tmp_path) -> None:
    confirmed, rejected, _pending = (open_one(engine, settings, i) for i in range(3))
    work_to(engine, settings, confirmed, 1)
    apply_action(engine, settings, rejected, "reject", {"rejection_reason": "asks for opening hours"}, actor="erik")
    counts = write_labels(engine, tmp_path / "labels.csv")
    assert counts == {"complaint": 1, "not_complaint": 1}
    rows = list(csv.DictReader((tmp_path / "labels.csv").open(encoding="utf-8")))
    by_label = {r["label"]: r for r in rows}
    assert list(rows[0])[:3] == ["text", "label", "lang"]  # what nlp's training reads
    assert by_label["not_complaint"]["reason"] == "asks for opening hours"
    assert by_label["not_complaint"]["labeled_by"] == "erik" and by_label["complaint"]["labeled_by"] == "dana"
    assert by_label["complaint"]["mention_id"] == "m0000" and by_label["complaint"]["model_probability"] == "0.93"
    write_labels(engine, tmp_path / "labels.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(x["label"] for x in lines) == ["complaint", "not_complaint"]
