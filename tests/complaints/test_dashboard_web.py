"""The listening dashboard over HTTP (real uvicorn, real noida-db, real records database): what each role may
see and do, the overview's figures, filters, search_after paging, the mention page and its two actions, the
alerts page and retry, and bad input answered with one line."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import sqlalchemy as sa

from earful_alerts.tables import alert_deliveries
from earful_complaints.register import get_record
from tests.complaints.dash_fixtures import PASSWORDS_ALL, DashApp, running_dashboard
from tests.complaints.web_fixtures import HOSTILE


@pytest.fixture
def dash(sqlite_engine, settings, es_url, tmp_path) -> Iterator[DashApp]:
    with running_dashboard(sqlite_engine, settings, es_url, tmp_path) as app:
        yield app


@contextmanager
def client_for(dash: DashApp, user: str) -> Iterator[httpx.Client]:
    """An HTTP client signed in as `user`."""
    with httpx.Client(base_url=dash.url, follow_redirects=False, timeout=30) as client:
        token = csrf(client, "/login")
        form = {"username": user, "password": PASSWORDS_ALL[user], "csrf_token": token, "next": "/"}
        resp = client.post("/login", data=form)
        assert resp.status_code == 303, resp.text
        yield client


def csrf(client: httpx.Client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def test_every_role_reads_the_dashboard_and_only_comms_quality_admin_act(dash: DashApp) -> None:
    for user in ("cora", "vera", "dana", "ada"):
        with client_for(dash, user) as c:
            for path in ("/dashboard", "/mentions", "/mentions/dm0202", "/alerts", f"/alerts/{dash.parked_id}"):
                assert c.get(path).status_code == 200, (user, path)
    with client_for(dash, "vera") as viewer:
        token = csrf(viewer, "/mentions/dm0202")
        assert "open-complaint" not in viewer.get("/mentions/dm0202").text
        for path, data in (
            ("/mentions/dm0202/complaint", {"description": "x"}),
            ("/mentions/dm0202/label", {"task": "sentiment", "label": "positive"}),
            (f"/alerts/{dash.parked_id}/retry", {}),
        ):
            resp = viewer.post(path, data={**data, "csrf_token": token})
            assert resp.status_code == 403 and "may read the dashboard but not act on it" in resp.text


def test_comms_start_on_the_dashboard_and_quality_staff_on_the_queue(dash: DashApp) -> None:
    for user, landing in (("cora", "/dashboard"), ("dana", "/")):
        with httpx.Client(base_url=dash.url, follow_redirects=False, timeout=30) as client:
            form = {"username": user, "password": PASSWORDS_ALL[user], "csrf_token": csrf(client, "/login")}
            assert client.post("/login", data={**form, "next": "/"}).headers["location"] == landing
    with httpx.Client(base_url=dash.url, follow_redirects=False, timeout=30) as client:
        form = {"username": "cora", "password": PASSWORDS_ALL["cora"], "csrf_token": csrf(client, "/login")}
        assert client.post("/login", data={**form, "next": "/alerts"}).headers["location"] == "/alerts"


def test_comms_may_not_change_a_record_nor_open_one_by_hand(dash: DashApp) -> None:
    with client_for(dash, "cora") as c:
        ref = dash.engine.connect().execute(sa.text("SELECT ref FROM complaints ORDER BY id LIMIT 1")).scalar()
        page = c.get(f"/complaints/{ref}")
        assert page.status_code == 200 and "/actions/" not in page.text
        token = csrf(c, f"/complaints/{ref}")
        resp = c.post(f"/complaints/{ref}/actions/acknowledge", data={"csrf_token": token, "version": "1"})
        assert resp.status_code == 403 and "may read records but not change them" in resp.text
        assert c.get("/new").status_code == 403


def test_overview_counts_come_from_the_index_and_mark_the_alerted_spike(dash: DashApp) -> None:
    with client_for(dash, "cora") as c:
        page = c.get("/dashboard", params={"topic": "acme", "period": "24h"}).text
        total = int(re.search(r'<b id="total">(\d+)</b>', page).group(1))
        expected = dash.es.count(
            index=dash.alias,
            query={"bool": {"filter": [{"term": {"topics": "acme"}}, {"range": {"published_at": {"gte": "now-24h"}}}]}},
        )["count"]
        assert abs(total - expected) <= 1  # the period ends at the next full hour, the count at now
        assert f'href="/alerts/{dash.spike_id}" class="spike"' in page  # the marker on the volume chart
        assert "<title>" in page and "mentions</title>" in page  # hover text per bar
        assert 'id="sov-table"' in page and ">rival<" in page  # share of voice shows the other topic too
        assert "<script" not in page
        week = c.get("/dashboard", params={"period": "7d"}).text
        assert int(re.search(r'<b id="total">(\d+)</b>', week).group(1)) == dash.es.count(index=dash.alias)["count"]
        custom = c.get("/dashboard", params={"period": "custom", "start": "2020-01-01", "end": "2020-01-31"})
        assert custom.status_code == 200 and '<b id="total">0</b>' in custom.text
        bad = c.get("/dashboard", params={"period": "custom", "start": "2020-13-01", "end": "2020-01-31"})
        assert bad.status_code == 400 and "start must be a date like 2026-03-02" in bad.text
        nope = c.get("/dashboard", params={"topic": "nope"})
        assert nope.status_code == 200 and '<b id="total">0</b>' in nope.text


def test_mentions_filters_query_language_and_search_after_paging(dash: DashApp) -> None:
    with client_for(dash, "cora") as c:
        page = c.get("/mentions", params={"q": "kettle AND broke*", "sentiment": "negative"}).text
        assert '<small id="total">20 match</small>' in page
        page = c.get("/mentions", params={"lang": "fa"}).text
        assert '<small id="total">1 match</small>' in page and 'dir="auto" lang="fa"' in page
        page = c.get("/mentions", params={"alerted": "1"}).text
        assert '<small id="total">1 match</small>' in page and "dm0201" in page
        page = c.get("/mentions", params={"min_complaint": "0.5", "source": "rss:news"}).text
        assert "reddit:acme" not in page.split('id="mentions"')[1]
        # Paging: every mention exactly once, in reach order, following the next links.
        seen, reaches, params = [], [], {"sort": "reach"}
        while True:
            html = c.get("/mentions", params=params).text
            rows = re.findall(r'href="/mentions/(dm\d+)"', html.split('id="mentions"')[1])
            seen += rows
            reaches += [int(r) for r in re.findall(r'<td class="num">(\d+)</td>', html)]
            nxt = re.search(r'after=([A-Za-z0-9_-]+)" id="next-page"', html)
            if not nxt:
                break
            params = {"sort": "reach", "after": nxt.group(1)}
        assert len(seen) == len(set(seen)) == dash.es.count(index=dash.alias)["count"]
        assert reaches == sorted(reaches, reverse=True)
        bad = c.get("/mentions", params={"q": "acme AND (", "sort": "time"})
        assert bad.status_code == 400 and 'id="error"' in bad.text
        assert c.get("/mentions", params={"after": "not-a-token"}).status_code == 400
        token = re.search(r'after=([A-Za-z0-9_-]+)"', c.get("/mentions", params={"sort": "time"}).text).group(1)
        other = c.get("/mentions", params={"sort": "reach", "after": token})
        assert other.status_code in (200, 400) and "Traceback" not in other.text
        assert c.get("/mentions", params={"min_complaint": "7"}).status_code == 400


def test_mention_page_shows_text_as_text_labels_duplicates_and_alerts(dash: DashApp) -> None:
    with client_for(dash, "cora") as c:
        listed = c.get("/mentions", params={"q": "kettle AND exploded"}).text
        assert "dm0200" in listed and "<script>document.title" not in listed and "<img src=x" not in listed
        hostile = c.get("/mentions/dm0200").text
        assert "<script>document.title" not in hostile and "&lt;script&gt;" in hostile
        persian = c.get("/mentions/dm0201").text
        assert 'id="post" dir="auto" lang="fa"' in persian
        assert "Model: earful-heads, version 3" in persian
        assert f'href="/alerts/{dash.parked_id}"' in persian
        example = c.get("/mentions/dm0100").text  # an example of the spike alert
        assert f'href="/alerts/{dash.spike_id}"' in example.split('id="mention-alerts"')[1]
        dup = c.get("/mentions/dm0203").text
        assert 'href="/mentions/dm0202"' in dup.split('id="duplicates"')[1]
        assert "/mentions/dm0203" in c.get("/mentions/dm0202").text.split('id="duplicates"')[1]
        assert c.get("/mentions/nope").status_code == 404


def test_open_a_complaint_from_a_mention_once(dash: DashApp) -> None:
    with client_for(dash, "cora") as c:
        token = csrf(c, "/mentions/dm0202")
        form = {"csrf_token": token, "description": "Refund request unanswered", "product_service": "kettle K2"}
        first = c.post("/mentions/dm0202/complaint", data=form)
        assert first.status_code == 303
        ref = first.headers["location"].rsplit("/", 1)[1]
        again = c.post("/mentions/dm0202/complaint", data=form)
        assert again.headers["location"] == first.headers["location"]  # idempotent per mention
        record = get_record(dash.engine, ref)
        assert record["origin"] == "social_listening" and record["status"] == "received"
        assert record["mention_snapshot"]["id"] == "dm0202" and record["product_service"] == "kettle K2"
        assert f'href="/complaints/{ref}"' in c.get("/mentions/dm0202").text
        bad = c.post("/mentions/dm0203/complaint", data={"csrf_token": token, "description": "x", "category": "nope"})
        assert bad.status_code == 422 and "category must be one of" in bad.text


def test_label_is_wrong_goes_into_the_training_csv(dash: DashApp) -> None:
    from earful_nlp.datasets import read_labeled_csv

    with client_for(dash, "cora") as c:
        token = csrf(c, "/mentions/dm0202")
        for label in ("positive", "neutral"):  # a second correction replaces the first
            resp = c.post("/mentions/dm0202/label", data={"csrf_token": token, "task": "sentiment", "label": label})
            assert resp.status_code == 303
        assert "Corrected sentiment: <b>neutral</b> by cora" in c.get("/mentions/dm0202").text
        bad = c.post("/mentions/dm0202/label", data={"csrf_token": token, "task": "sentiment", "label": "angry"})
        assert bad.status_code == 422 and "label must be one of" in bad.text
    data = read_labeled_csv(dash.labels_dir / "sentiment.csv", ("negative", "neutral", "positive"))
    assert data.labels == ["neutral"] and data.texts == ["acme support never answers my refund request"]
    with open(dash.labels_dir / "sentiment.csv", encoding="utf-8") as handle:
        assert next(csv.DictReader(handle))["corrected_by"] == "cora"


def test_alerts_page_shows_why_and_retries_a_parked_delivery(dash: DashApp) -> None:
    with client_for(dash, "cora") as c:
        page = c.get("/alerts", params={"state": "parked"}).text
        assert f'href="/alerts/{dash.parked_id}"' in page and dash.spike_id not in page
        assert "complaint probability 0.90" in page
        detail = c.get(f"/alerts/{dash.parked_id}").text
        assert "SMTP 451 try again later" in detail and 'id="retry"' in detail
        resp = c.post(f"/alerts/{dash.parked_id}/retry", data={"csrf_token": csrf(c, "/alerts")})
        assert resp.status_code == 303
        assert "1 parked delivery queued again" in c.get(resp.headers["location"]).text
        status = (
            dash.engine.connect()
            .execute(sa.select(alert_deliveries.c.status).where(alert_deliveries.c.alert_id == dash.parked_id))
            .scalar()
        )
        assert status == "pending"
        spike = c.get(f"/alerts/{dash.spike_id}").text
        assert 'id="history"' in spike and "this alert" in spike and "baseline_mean" in spike
        assert c.get("/alerts", params={"state": "bogus"}).status_code == 400


def test_without_an_index_the_dashboard_says_so(sqlite_engine, settings) -> None:
    from earful_complaints.web.app import create_app
    from tests.complaints.web_fixtures import seed, serve

    seed(sqlite_engine, settings)
    with serve(create_app(sqlite_engine, settings)) as url:
        dash = DashApp(url, sqlite_engine, settings, None, "", None, None, "", "")  # type: ignore[arg-type]
        with client_for(dash, "dana") as c:
            resp = c.get("/dashboard")
            assert resp.status_code == 503 and "started without an index" in resp.text
            assert c.get("/").status_code == 200  # the register works without it
    assert HOSTILE
