"""The dashboard's parts without a browser: the comms role, chart geometry, period bounds, intake from a mention
under concurrency, and the corrected-labels file."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from earful_complaints.errors import NotAuthorized
from earful_complaints.mention_intake import open_from_mention, record_of_mention
from earful_complaints.users import add_user, require_writer
from earful_complaints.web.charts import share_chart, volume_chart
from earful_complaints.web.dash_deps import period_bounds
from earful_complaints.web.deps import BadInput
from tests.complaints.conftest import make_mention

T = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_comms_may_not_change_records_from_the_command_line_either(engine) -> None:
    user = add_user(engine, "cora", "a-long-comms-password-1", "comms")
    assert user.can_act_on_dashboard and not user.can_write and not user.is_admin
    with pytest.raises(NotAuthorized, match="may not change records"):
        require_writer(engine, "cora")


def test_volume_chart_marks_the_bar_in_which_the_spike_window_starts() -> None:
    step = timedelta(hours=1)
    points = [(T + i * step, n) for i, n in enumerate([1, 2, 30, 4])]
    chart = volume_chart(points, step, [(T + 2 * step + timedelta(minutes=10), "spike", "/alerts/a")])
    assert len(chart.markers) == 1
    bar = chart.bars[2]
    assert bar.x <= chart.markers[0].x <= bar.x + bar.w
    assert bar.title.endswith(": 30 mentions") and chart.bars[0].title.endswith(": 1 mention")
    assert max(b.h for b in chart.bars) == bar.h
    empty = volume_chart([], step, [])
    assert empty.bars == [] and empty.markers == []


def test_share_chart_shares_add_up() -> None:
    chart = share_chart([("acme", 3), ("rival", 1)])
    assert [round(b.share, 2) for b in chart.bars] == [0.75, 0.25]
    assert chart.bars[0].title == "acme: 3 (75.0 %)"


def test_periods() -> None:
    start, end = period_bounds("24h", "", "", T)
    assert end == datetime(2026, 3, 2, 10, tzinfo=UTC) and end - start == timedelta(hours=24)
    start, end = period_bounds("custom", "2026-02-01", "2026-02-03", T)
    assert (start.day, end.day) == (1, 4)
    for args, message in (
        (("week", "", ""), "period must be one of"),
        (("custom", "2026-02-03", ""), "needs both"),
        (("custom", "2026-02-03", "2026-02-01"), "must not be before"),
        (("custom", "2020-01-01", "2026-01-01"), "at most 366 days"),
    ):
        with pytest.raises(BadInput, match=message):
            period_bounds(*args, T)


def test_two_people_opening_a_record_for_one_mention_get_the_same_one(engine, settings) -> None:
    mention = make_mention(7)
    refs: list[tuple[str, bool]] = []
    barrier = threading.Barrier(4)

    def open_it() -> None:
        barrier.wait()
        refs.append(open_from_mention(engine, settings, mention, {"description": "broken"}, actor="cora"))

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({ref for ref, _ in refs}) == 1 and sum(created for _, created in refs) == 1
    assert record_of_mention(engine, "m0007") == refs[0][0]


def test_corrections_replace_per_mention_and_read_as_training_data(tmp_path) -> None:
    from earful_nlp.corrections import corrections_of, record_correction
    from earful_nlp.datasets import read_labeled_csv
    from earful_nlp.errors import TrainingDataError

    for mention_id, label in (("m1", "negative"), ("m2", "positive"), ("m1", "neutral")):
        record_correction(
            tmp_path, "sentiment", mention_id=mention_id, text=f"text {mention_id}", lang="en", label=label, by="cora"
        )
    record_correction(tmp_path, "complaint", mention_id="m1", text="text m1", lang="en", label="complaint", by="dana")
    data = read_labeled_csv(tmp_path / "sentiment.csv", ("negative", "neutral", "positive"))
    assert sorted(zip(data.texts, data.labels, strict=True)) == [("text m1", "neutral"), ("text m2", "positive")]
    found = corrections_of(tmp_path, "m1")
    assert found["sentiment"].label == "neutral" and found["complaint"].corrected_by == "dana"
    with pytest.raises(TrainingDataError, match="task must be one of"):
        record_correction(tmp_path, "topic", mention_id="m1", text="t", lang="en", label="x", by="cora")
    with pytest.raises(TrainingDataError, match="no text"):
        record_correction(tmp_path, "sentiment", mention_id="m3", text=" ", lang="en", label="neutral", by="cora")
