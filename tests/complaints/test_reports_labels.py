"""Clause 8 report figures and the label export, on records worked through the register."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

from earful_complaints.clock import now_utc
from earful_complaints.labels import write_labels
from earful_complaints.register import apply_action
from earful_complaints.reports import build_report, charts, nice_ticks, period_bounds, render_csv, render_html, wrap
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
    # trend, product/service, category, channel, severity, language, backlog age, recurring root causes
    assert page.count("<svg") == 8 and "http" not in page.replace("http://www.w3.org/2000/svg", "")


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


def test_root_causes_grouped_ignoring_case_and_spacing_and_recurring_means_two(engine, settings) -> None:
    refs = [open_one(engine, settings, i) for i in range(4)]
    for ref, cause in zip(refs, ["Late delivery", "  late   DELIVERY ", "broken seal", "Late delivery"], strict=True):
        work_to(engine, settings, ref, 3)
        findings = {"root_cause": cause, "evidence": "e", "investigation_depth": "full"}
        apply_action(engine, settings, ref, "investigate", findings, actor="ivan")
    today = now_utc().date()
    rep = build_report(engine, settings, *period_bounds(today, today))
    assert rep.root_causes == [("Late delivery", 3), ("broken seal", 1)]
    assert rep.recurring_root_causes == [("Late delivery", 3)]
    rows = list(csv.reader(render_csv(rep).splitlines()))
    assert ["recurring_root_cause", "Late delivery", "3"] in rows
    assert not any(r[:2] == ["recurring_root_cause", "broken seal"] for r in rows)


def test_satisfaction_product_backlog_and_workload(engine, settings) -> None:
    refs = [open_one(engine, settings, i) for i in range(3)]
    for ref, score in zip(refs[:2], ["4", "2"], strict=True):
        work_to(engine, settings, ref, len(HAPPY_PATH) - 1)
        values = {"closure_reason": "done", "complainant_accepted": "yes", "satisfaction_score": score}
        apply_action(engine, settings, ref, "close", values, actor="dana")
    work_to(engine, settings, refs[2], 3)  # open, investigating: owner dana, investigator ivan
    today = now_utc().date()
    rep = build_report(engine, settings, *period_bounds(today, today))
    assert rep.satisfaction == [4, 2] or rep.satisfaction == [2, 4]
    assert rep.satisfaction_average == 3.0
    assert dict(rep.by["product_service"]) == {"kettle K2": 3}
    assert rep.backlog == 1 and rep.backlog_age[0] == ("0-2 days", 1)
    people = {w.person: (w.owned, w.investigating) for w in rep.workload}
    assert people == {"dana": (1, 0), "ivan": (0, 1)}
    rows = list(csv.reader(render_csv(rep).splitlines()))
    assert ["satisfaction", "average", "3.00"] in rows and ["workload_owned", "dana", "1"] in rows
    page = render_html(rep)
    assert 'id="satisfaction">3.0<' in page and 'id="workload"' in page


def test_charts_have_axes_values_and_unclipped_labels() -> None:
    assert (
        nice_ticks(7) == [0, 2, 4, 6, 8] and nice_ticks(1) == [0, 1] and nice_ticks(230) == [0, 50, 100, 150, 200, 250]
    )
    long = "Courier left the parcel outside in the rain at the wrong address twice"
    assert " ".join(wrap(long, 30)) == long and all(len(line) <= 30 for line in wrap(long, 30))
    from earful_complaints.reports import Report, _hbar

    chart = _hbar("Root causes", [(long, 3), ("short", 1)])
    bar = chart.bars[0]
    assert " ".join(text for _, text in bar.lines) == long  # nothing cut
    assert all(len(text) * 6.4 <= chart.plot[2] - chart.plot[0] for _, text in bar.lines)  # fits the width
    assert [v for _, v in chart.grid] == ["0", "1", "2", "3"]
    assert chart.bars[1].lines[0][0] > bar.y + bar.h  # the next label starts below this bar
    assert (
        len(
            charts(
                Report(
                    start=None,
                    end=None,
                    by={k: [] for k in ("category", "channel", "severity", "language", "product_service")},
                )
            )
        )
        == 8
    )
