"""The register's new forms over HTTP against the served app (issue 17): e-mail sent from a record page to a real
SMTP server and logged, a logged phone call, the view log, the queue's search, owner filter, sorting, due-soon mark
and bulk actions, the history as people read it, and typed text kept after a 409 conflict."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from earful_complaints.clock import now_utc
from earful_complaints.intake import open_manual
from earful_complaints.register import get_record
from tests.alerts.conftest import smtp_server  # noqa: F401 - the real SMTP server fixture
from tests.complaints.test_web_attacks import _token, act, signed_in
from tests.complaints.web_fixtures import WebApp, running_app_with_mail


@pytest.fixture
def web(engine, settings, smtp_server) -> Iterator[WebApp]:
    with running_app_with_mail(engine, settings, smtp_server) as app:
        yield app


def _version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def test_email_from_the_record_page_is_sent_and_logged(web: WebApp) -> None:
    ref = web.refs["manual"]
    dana = signed_in(web, "dana")
    assert act(dana, ref, "contact", {"complainant_email": "kim@example.org"}).status_code == 303
    page = dana.get(f"/complaints/{ref}").text
    sent = dana.post(
        f"/complaints/{ref}/send",
        data={
            "csrf_token": _token(page),
            "version": _version(page),
            "purpose": "acknowledgement",
            "subject": f"Your complaint {ref}",
            "text": "We received it and are on it.",
        },
    )
    assert sent.status_code == 303, sent.text
    assert web.smtp.messages[-1]["To"] == "kim@example.org"
    record = get_record(web.engine, ref)
    assert record["status"] == "acknowledged" and record["ack_channel"] == "email"
    page = dana.get(f"/complaints/{ref}").text
    assert "We received it and are on it." in page and ">sent<" in page.replace("<td>sent", ">sent<")
    logged = dana.post(
        f"/complaints/{ref}/communications",
        data={"csrf_token": _token(page), "direction": "in", "channel": "phone", "text": "Kim called back."},
    )
    assert logged.status_code == 303
    assert "Kim called back." in dana.get(f"/complaints/{ref}").text


def test_views_history_and_conflict(web: WebApp) -> None:
    ref = web.refs["plain"]
    dana, ivan = signed_in(web, "dana"), signed_in(web, "ivan")
    ivan.get(f"/complaints/{ref}")
    page = dana.get(f"/complaints/{ref}").text
    assert re.search(r'id="views">Viewed by: dana \(.+?\), ivan', page)
    stale = _version(page)
    assert act(ivan, ref, "acknowledge", {"ack_channel": "email", "ack_text": "ivan was first"}).status_code == 303
    typed = "A long reply I typed carefully"
    conflict = dana.post(
        f"/complaints/{ref}/actions/note",
        data={"csrf_token": _token(page), "version": stale, "note": typed},
    )
    assert conflict.status_code == 409 and typed in conflict.text  # kept in the form
    gone = dana.post(
        f"/complaints/{ref}/actions/acknowledge",
        data={"csrf_token": _token(page), "version": stale, "ack_channel": "email", "ack_text": typed},
    )
    assert gone.status_code == 409 and 'id="unsaved"' in gone.text and typed in gone.text
    page = dana.get(f"/complaints/{ref}").text
    history = page[page.index('id="events"') :]
    assert "Acknowledge (confirm it is a complaint)" in history and "Acknowledgement sent" in history
    assert not re.search(r"\d\d:\d\d:\d\d", history)  # minutes, no seconds or microseconds
    assert re.search(r'<td title="event \d+ of the register\'s chain">2</td>', history)
    assert page.count('class="action primary"') == 1 and 'id="action-assess"' in page


def test_queue_search_owner_sort_due_soon_and_bulk(web: WebApp) -> None:
    dana = signed_in(web, "dana")
    refs = web.refs
    page = dana.get("/", params={"q": "LATE delivery"}).text
    assert refs["manual"] in page and refs["plain"] not in page
    assert "No records match." in dana.get("/", params={"q": "100%_"}).text  # % and _ are literal
    queue = dana.get("/").text
    picks = {
        f"pick:{ref}": re.search(rf'name="pick:{ref}" value="(\d+)"', queue).group(1)
        for ref in (refs["plain"], refs["persian"])
    }
    done = dana.post(
        "/bulk",
        data={
            "csrf_token": _token(queue),
            "bulk_action": "acknowledge",
            "ack_channel": "public_reply",
            "ack_text": "Thanks, we are on it.",
            **picks,
        },
    )
    assert done.status_code == 200 and "2 of 2 records acknowledged." in done.text
    assert {get_record(web.engine, r)["status"] for r in (refs["plain"], refs["persian"])} == {"acknowledged"}
    again = dana.post("/bulk", data={"csrf_token": _token(queue), "bulk_action": "acknowledge", **picks})
    assert again.status_code == 422 and "0 of 2" in again.text  # stale versions: nothing saved twice
    owner = dana.post(
        "/bulk",
        data={"csrf_token": _token(queue), "bulk_action": "set_owner", "owner": "ivan", f"pick:{refs['hostile']}": "1"},
    )
    assert owner.status_code == 200 and get_record(web.engine, refs["hostile"])["owner"] == "ivan"
    ivan = signed_in(web, "ivan")
    mine = ivan.get("/", params={"mine": "1"}).text
    assert refs["hostile"] in mine and refs["plain"] not in mine
    by_ref = dana.get("/", params={"sort": "ref", "dir": "desc"}).text
    order = re.findall(r'<a href="/complaints/([^"]+)">', by_ref)
    assert order == sorted(order, reverse=True)
    # Due soon: received 46 hours ago, its acknowledgement (48 h at intake severity medium) is due in 2 hours.
    ack_hours = web.settings.targets[web.settings.intake_severity].acknowledge_hours
    received = now_utc() - timedelta(hours=ack_hours - 2)
    soon_ref = open_manual(
        web.engine,
        web.settings,
        {"channel": "email", "description": "Soon due", "received_at": received.isoformat()},
        actor="dana",
    )
    soon = dana.get("/", params={"soon": "1"}).text
    assert soon_ref in soon and "due soon" in soon and refs["plain"] not in soon


def test_management_review_improvement_and_verify_in_the_web_app(web: WebApp) -> None:
    dana, vera = signed_in(web, "dana"), signed_in(web, "vera")
    page = dana.get("/reviews").text
    token = _token(page)
    today = now_utc().date()
    refused = dana.post("/reviews", data={"csrf_token": token, "held_on": today.isoformat(), "inputs": "Q3 report"})
    assert refused.status_code == 422 and "decisions is needed" in refused.text and "Q3 report" in refused.text
    review = {
        "csrf_token": token,
        "held_on": today.isoformat(),
        "attendees": "dana, ivan",
        "inputs": "Q3 report: packaging recurring (5 records)",
        "decisions": "Change the box supplier",
        "actions": "Tender for a new supplier",
    }
    assert dana.post("/reviews", data=review).status_code == 303
    action = {
        "csrf_token": token,
        "title": "New box supplier",
        "origin": "recurring root cause: packaging",
        "review_id": "1",
        "owner": "ivan",
        "due": (today + timedelta(days=30)).isoformat(),
    }
    assert dana.post("/improvements", data=action).status_code == 303
    assert dana.post("/improvements", data={**action, "owner": "vera"}).status_code == 422  # a viewer owns nothing
    lazy = dana.post("/improvements/1", data={"csrf_token": token, "status": "effective"})
    assert lazy.status_code == 422 and "effectiveness-checked" in lazy.text
    checked = {"csrf_token": token, "status": "effective", "effectiveness_check": "No packaging complaint in 60 days"}
    assert dana.post("/improvements/1", data=checked).status_code == 303
    page = vera.get("/reviews").text  # viewers read reviews
    assert "Change the box supplier" in page and "No packaging complaint in 60 days" in page
    assert 'id="review-form"' not in page
    assert vera.post("/reviews", data={**review, "csrf_token": _token(page)}).status_code == 403
    verified = dana.get("/verify")
    assert verified.status_code == 200 and "Intact." in verified.text
    assert vera.get("/verify").status_code == 403  # quality staff only
