"""The Airflow DAGs, for real: DagBag imports, fast light imports, and `dag.test()` runs of the listening DAG
against feeds served on 127.0.0.1, the Reddit/X replay fixtures (real praw/tweepy clients), a noida-db index
and a SQLite (and PostgreSQL, when configured) records database.

All Airflow tests live in this one module: Airflow's metadata database (SQLite in a temporary AIRFLOW_HOME) is
migrated once, and the first `dag.test()` pays Airflow's start-up once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests.helpers.feeds import item, rss
from tests.helpers.http_server import Route, ScriptedServer, scripted_server

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
DAG_IDS = {"earful_listening", "earful_complaint_deadlines", "earful_complaints_report", "earful_housekeeping"}
# A manual run at this date covers the day before it (a data-interval timetable: [date - 1 day, date)), which
# holds every replay fixture (2026-11-19) and the feed items of that day.
LOGICAL_DATE = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A throw-away AIRFLOW_HOME with a migrated SQLite metadata database (set before Airflow is imported)."""
    home = tmp_path_factory.mktemp("airflow")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "EARFUL_LISTENING_INTERVAL_MINUTES": "1440",  # a day: the fixtures' day is one interval
        "EARFUL_TASK_RETRIES": "0",  # retries wait minutes; the failing source must fail now
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        from airflow.utils import db

        db.initdb()
        yield home


@pytest.fixture(scope="module")
def feeds() -> Iterator[ScriptedServer]:
    """One good feed (items on 2026-11-18 and 2026-11-19) and one that answers 503."""
    with scripted_server() as srv:
        srv.routes["/good"] = Route(
            body=rss(
                [
                    item(9, "Acme boots recall announced for the winter line"),
                    item(10, "Acme jacket review: warm and dry"),
                    item(11, "The weather is grey today"),  # off topic
                    {**item(12, "Acme trail shoes from the day before"), "pubDate": "Wed, 18 Nov 2026 12:00:00 GMT"},
                ]
            )
        )
        srv.routes["/broken"] = Route(status=503)
        yield srv


def write_config(folder: Path, es_url: str, feeds: ScriptedServer, records_url: str | None = None) -> Path:
    """An earful config for one test: its own data folder, index alias and (optionally) records database."""
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "data_dir": str(folder / "data"),
        "index": {"url": es_url, "alias": f"t-{uuid.uuid4().hex[:10]}"},
        "nlp": {"enabled": False},
        "privacy": {"retention_days": 365, "author_secret": "dag-test-secret"},
        "topics": [{"name": "acme", "query": "acme"}, {"name": "nordpeak", "query": "nordpeak"}],
        "sources": {
            "rss": {
                "connect_timeout": 2,
                "read_timeout": 2,
                "feeds": [{"name": "good", "url": feeds.url("/good")}, {"name": "broken", "url": feeds.url("/broken")}],
            },
            "reddit": {
                "replay": str(REPO / "config/fixtures/reddit"),
                "on_rate_limit": "defer",
                "topics": {"acme": {"subreddits": ["AcmeOutdoor"], "search": ["acme"]}},
            },
            "x": {"replay": str(REPO / "config/fixtures/x"), "topics": {"acme": ["acme"], "nordpeak": ["nordpeak"]}},
            "mastodon": {
                "replay": str(REPO / "config/fixtures/mastodon"),
                "instances": {"social": {"url": "https://mastodon.social"}},
                "topics": {"acme": {"hashtags": ["acme"]}},
            },
            "bluesky": {"replay": str(REPO / "config/fixtures/bluesky"), "topics": {"nordpeak": "auto"}},
        },
        "alerts": {
            "channels": {"console": {"type": "console"}},
            "routes": [{"channels": ["console"]}],
            "rules": [{"name": "crisis", "type": "crisis_query", "query": "recall*"}],
        },
    }
    if records_url:
        data["records"] = {"url": records_url}
    path = folder / "earful.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def dagbag(airflow_home: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


# ---- helpers -----------------------------------------------------------------------------------------------------


def load(config: Path) -> Any:
    from earful.settings import load_settings

    return load_settings(config)


def indexed(settings: Any) -> dict[str, dict[str, Any]]:
    from earful_indexer.client import make_client

    es = make_client(settings.index)
    try:
        es.indices.refresh(index=settings.index.alias)
        resp = es.search(index=settings.index.alias, size=1000, query={"match_all": {}})
        return {hit["_id"]: hit["_source"] for hit in resp["hits"]["hits"]}
    finally:
        es.close()


def outbox(settings: Any) -> list[dict[str, Any]]:
    from earful_records.db import make_engine

    engine = make_engine(settings.records_url())
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text("SELECT id, kind, rule, title FROM alerts")).mappings()]
    finally:
        engine.dispose()


def cursors(settings: Any) -> dict[str, Any]:
    from earful_records.cursors import all_cursors
    from earful_records.db import make_engine

    engine = make_engine(settings.records_url())
    try:
        return all_cursors(engine)
    finally:
        engine.dispose()


def run_listening(dagbag: Any, monkeypatch: pytest.MonkeyPatch, config: Path, **kwargs: Any) -> dict[str, Any]:
    """One `dag.test()` run of the listening DAG; returns task states and XCom values by task (and map index)."""
    monkeypatch.setenv("EARFUL_CONFIG", str(config))
    dag = dagbag.get_dag("earful_listening")
    run = dag.test(logical_date=LOGICAL_DATE, **kwargs)
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    states: dict[str, str] = {}
    values: dict[str, Any] = {}
    with create_session() as session:
        tis = session.scalars(
            sa.select(TaskInstance).where(TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == run.run_id)
        ).all()
        for ti in tis:
            key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
            states[key] = str(ti.state)
        for row in session.scalars(
            sa.select(XComModel).where(XComModel.dag_id == dag.dag_id, XComModel.run_id == run.run_id)
        ).all():
            key = row.task_id if row.map_index < 0 else f"{row.task_id}[{row.map_index}]"
            values[key] = XComModel.deserialize_value(row)
    return {"states": states, "xcom": values, "run": run}


# ---- tests -------------------------------------------------------------------------------------------------------


def test_every_dag_imports_without_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert DAG_IDS <= set(dagbag.dag_ids)
    listening = dagbag.get_dag("earful_listening")
    assert {t.task_id for t in listening.tasks} == {"list_sources", "listen", "alerts"}
    assert listening.get_task("alerts").trigger_rule == "all_done"
    assert listening.max_active_runs == 1
    every_task = [task for dag_id in DAG_IDS for task in dagbag.get_dag(dag_id).tasks]
    assert [t.task_id for t in every_task if t.multiple_outputs] == []  # one XCom per task, not one per key


def test_listening_runs_have_real_data_intervals(dagbag: Any) -> None:
    """Scheduled and manual runs cover [start, end) of one interval (1440 minutes in these tests)."""
    from airflow.sdk import DeltaDataIntervalTimetable
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    dag = dagbag.get_dag("earful_listening")
    assert isinstance(dag.timetable, DeltaDataIntervalTimetable)
    core = coerce_to_core_timetable(dag.timetable)  # what the scheduler runs
    manual = core.infer_manual_data_interval(run_after=LOGICAL_DATE)
    assert (manual.start, manual.end) == (datetime(2026, 11, 19, tzinfo=UTC), LOGICAL_DATE)

    nxt = core.next_dagrun_info(
        last_automated_data_interval=DataInterval(manual.start, manual.end),
        restriction=TimeRestriction(earliest=None, latest=None, catchup=True),
    )
    assert nxt is not None and nxt.data_interval.start == LOGICAL_DATE
    assert nxt.data_interval.end - nxt.data_interval.start == timedelta(days=1)


@pytest.mark.parametrize("dag_file", sorted(p.name for p in DAGS.glob("*.py")))
def test_dag_files_import_fast_and_load_nothing_heavy(dag_file: str, tmp_path: Path) -> None:
    """Each DAG file, in a fresh interpreter after Airflow itself: under 2 s, no torch/transformers/elasticsearch."""
    probe = (
        "import importlib.util, json, sys, time\n"
        "import airflow.sdk\n"
        f"spec = importlib.util.spec_from_file_location('dagfile', {str(DAGS / dag_file)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "start = time.perf_counter(); spec.loader.exec_module(module); took = time.perf_counter() - start\n"
        "heavy = [m for m in ('torch', 'transformers', 'elasticsearch', 'nlp', 'listeners') if m in sys.modules]\n"
        "print(json.dumps({'took': took, 'heavy': heavy}))\n"
    )
    env = {"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    assert result["took"] < 2.0, result


def test_listening_dag_window_run_then_rerun_adds_nothing(
    dagbag: Any, feeds: ScriptedServer, es_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, es_url, feeds)
    settings = load(config)
    first = run_listening(dagbag, monkeypatch, config)
    states = first["states"]
    sources = first["xcom"]["list_sources"]
    assert "rss:good" in sources and "rss:broken" in sources
    assert any(s.startswith("reddit:") for s in sources) and any(s.startswith("x:") for s in sources)
    # Mastodon and Bluesky are mapped tasks like the others, with no change to the DAG
    assert "mastodon:social:tag:acme" in sources and "bluesky:search:nordpeak" in sources
    by_source = {v["source"]: v for k, v in first["xcom"].items() if k.startswith("listen[")}
    broken_index = sources.index("rss:broken")
    assert states[f"listen[{broken_index}]"] == "failed"  # the failing source fails alone
    assert set(by_source) == set(sources) - {"rss:broken"}
    assert all(states[f"listen[{i}]"] == "success" for i, s in enumerate(sources) if s != "rss:broken")
    assert states["alerts"] == "success"

    docs = indexed(settings)
    good = {d["native_id"] for d in docs.values() if d["source"] == "rss:good"}
    assert good == {"guid-9", "guid-10"}  # the 2026-11-18 item is outside the interval; item 11 is off topic
    run = first["run"]
    assert (run.data_interval_start, run.data_interval_end) == (datetime(2026, 11, 19, tzinfo=UTC), LOGICAL_DATE)
    assert sum(v["new"] for v in by_source.values()) == len(docs)
    assert {d["source_kind"] for d in docs.values()} == {"rss", "reddit", "x", "mastodon", "bluesky"}
    for mention_id in by_source["rss:good"]["mention_ids"]:
        assert mention_id in docs
    assert all("text" not in v and "title" not in v for v in first["xcom"].values() if isinstance(v, dict))
    assert first["xcom"]["alerts"]["found"] == first["xcom"]["alerts"]["mentions"] == len(docs)
    assert "mentions from an unfinished batch" not in first["xcom"]["alerts"]  # all of them are this run's
    assert set(first["xcom"]) == {"list_sources", "alerts"} | {
        f"listen[{i}]" for i in range(len(sources)) if sources[i] != "rss:broken"
    }
    assert all(
        set(v)
        == {
            "source",
            "fetched",
            "new",
            "already_seen",
            "near_duplicates",
            "off_topic",
            "errors",
            "awaiting_index",
            "cursor_committed",
            "mention_ids",
        }
        for k, v in first["xcom"].items()
        if k.startswith("listen[")
    )
    alerts = outbox(settings)
    recalls = [d for d in docs.values() if "recall" in f"{d.get('title', '')} {d.get('text', '')}".lower()]
    assert alerts and {a["rule"] for a in alerts} == {"crisis"} and len(alerts) == len(recalls)
    assert first["xcom"]["alerts"]["alerts raised"] == len(alerts)
    assert cursors(settings) == {}  # a past interval leaves the live cursors alone

    second = run_listening(dagbag, monkeypatch, config)
    again = {v["source"]: v for k, v in second["xcom"].items() if k.startswith("listen[")}
    assert sum(v["new"] for v in again.values()) == 0
    assert again["rss:good"]["already_seen"] == 2
    assert indexed(settings).keys() == docs.keys()
    assert len(outbox(settings)) == len(alerts)

    # A live (cursor) run: reads everything the sources list now, commits cursors, doubles nothing.
    live = run_listening(dagbag, monkeypatch, config, run_conf={"mode": "cursor"})
    live_results = {v["source"]: v for k, v in live["xcom"].items() if k.startswith("listen[")}
    after = indexed(settings)
    assert docs.keys() <= after.keys()
    assert {d["native_id"] for d in after.values() if d["source"] == "rss:good"} == {"guid-9", "guid-10", "guid-12"}
    assert sum(v["new"] for v in live_results.values()) == len(after) - len(docs)
    assert set(cursors(settings)) == set(sources) - {"rss:broken"}


def test_listening_dag_on_postgresql(
    dagbag: Any, feeds: ScriptedServer, es_url: str, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, es_url, feeds, records_url=pg_url)
    settings = load(config)
    first = run_listening(dagbag, monkeypatch, config)
    new = sum(v["new"] for k, v in first["xcom"].items() if k.startswith("listen["))
    assert new > 0 and len(indexed(settings)) == new
    assert outbox(settings) and {a["rule"] for a in outbox(settings)} == {"crisis"}
    second = run_listening(dagbag, monkeypatch, config)
    assert sum(v["new"] for k, v in second["xcom"].items() if k.startswith("listen[")) == 0


def run_dag(
    dagbag: Any, monkeypatch: pytest.MonkeyPatch, config: Path, dag_id: str, logical_date: datetime
) -> dict[str, Any]:
    """One `dag.test()` of any DAG; returns task states and XCom values by task id."""
    monkeypatch.setenv("EARFUL_CONFIG", str(config))
    dag = dagbag.get_dag(dag_id)
    run = dag.test(logical_date=logical_date)
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        states = {
            ti.task_id: str(ti.state)
            for ti in session.scalars(
                sa.select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
            )
        }
        values = {
            row.task_id: XComModel.deserialize_value(row)
            for row in session.scalars(
                sa.select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == run.run_id)
            )
        }
    return {"states": states, "xcom": values}


def test_complaints_dags_raise_overdue_alerts_and_send_the_weekly_report(
    dagbag: Any, feeds: ScriptedServer, es_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from earful.services import open_records
    from earful_complaints.intake import open_manual

    config = write_config(tmp_path, es_url, feeds)
    settings = load(config)
    engine = open_records(settings)
    try:
        # A fixed receipt date, however long ago the suite runs (manual intake refuses older ones by default).
        register = settings.complaints.model_copy(
            update={"limits": settings.complaints.limits.model_copy(update={"intake_max_age_days": 36_500})}
        )
        ref = open_manual(
            engine,
            register,
            {
                "channel": "phone",
                "description": "Rang about boots that fell apart",
                "received_at": "2026-11-10T09:00:00+00:00",
            },
            actor="dana",
        )
    finally:
        engine.dispose()
    deadlines = run_dag(dagbag, monkeypatch, config, "earful_complaint_deadlines", datetime(2026, 11, 20, tzinfo=UTC))
    assert deadlines["states"] == {"check_deadlines": "success"}
    assert deadlines["xcom"]["check_deadlines"]["refs"] == [ref]
    overdue = [a for a in outbox(settings) if a["kind"] == "complaint_overdue"]
    assert overdue and all(ref in a["title"] for a in overdue)
    again = run_dag(dagbag, monkeypatch, config, "earful_complaint_deadlines", datetime(2026, 11, 20, 1, tzinfo=UTC))
    assert again["xcom"]["check_deadlines"]["overdue"] == 0  # a recorded deadline is not reported twice

    report = run_dag(dagbag, monkeypatch, config, "earful_complaints_report", datetime(2026, 11, 16, 6, tzinfo=UTC))
    assert report["states"] == {"weekly_report": "success"}
    result = report["xcom"]["weekly_report"]
    assert result["complaints"] == 1 and result["sent"] >= 1
    assert (settings.data_dir / "reports" / result["report"]).is_file()  # the week of 2026-11-09
    reports = [a for a in outbox(settings) if a["kind"] == "complaints_report"]
    assert len(reports) == 1 and "2026-11-09" in reports[0]["title"]


def test_housekeeping_dag_runs_every_task(
    dagbag: Any, feeds: ScriptedServer, es_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, es_url, feeds)
    run = run_dag(dagbag, monkeypatch, config, "earful_housekeeping", datetime(2026, 11, 20, tzinfo=UTC))
    assert run["states"] == {"retention": "success", "rollover": "success", "outbox_retries": "success"}
    assert run["xcom"]["retention"]["mentions_deleted"] == 0
    assert run["xcom"]["rollover"]["rolled_over"] is False
    assert run["xcom"]["outbox_retries"]["failed"] == 0


def test_dag_files_do_not_shadow_earful_packages() -> None:
    """Airflow puts the DAG folder on sys.path: a DAG file named like one of earful's packages would hide it."""
    import tomllib

    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    top_level = {name.split(".")[0] for name in packages}
    dag_files = {path.stem for path in (REPO / "dags").glob("*.py")}
    assert not dag_files & top_level, f"DAG files named like packages: {sorted(dag_files & top_level)}"
