"""Issue 17 end to end in a real headless Chromium: a complaint taken in by hand with contact details, acknowledged
and answered by e-mail from the register (a real SMTP server), assessed as a safety issue, investigated to the
depth its severity needs, given a corrective action, refused closing as "not accepted" until the recourse offered
is recorded, then closed with a satisfaction score. Screenshots of the queue, the record and the report at
1,366 px and 390 px go to test-artifacts/complaints/ (iso-*.png)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from earful_complaints.audit import verify
from earful_complaints.clock import now_utc
from earful_complaints.communications import get_communications
from earful_complaints.register import get_record
from tests.alerts.conftest import smtp_server  # noqa: F401 - the real SMTP server fixture
from tests.complaints.test_web_e2e import CHROMIUM, browser, shot, sign_in  # noqa: F401 - shared browser set-up
from tests.complaints.web_fixtures import WebApp, running_app_with_mail

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Debian's chromium at {CHROMIUM}"),
]
WIDE, NARROW = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


@pytest.fixture
def web(engine, settings, smtp_server) -> Iterator[WebApp]:
    with running_app_with_mail(engine, settings, smtp_server) as app:
        yield app


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport=WIDE)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


def fill(form, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        control = form.locator(f"[name={name}]")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        elif control.get_attribute("type") == "checkbox":
            control.check()
        else:
            control.fill(value)


def step(page, name: str, fields: dict[str, str], *, form_id: str | None = None) -> None:
    """Fill and submit a step's form, unfolding it first when it is a secondary step."""
    form = page.locator(f"#{form_id or 'action-' + name}")
    folded = page.locator(f"details#more-{name if form_id is None else form_id}:not([open]) > summary")
    if folded.count():
        folded.click()
    fill(form, fields)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def both_widths(page, name: str) -> None:
    """Screenshots at 1,366 px and 390 px; at both, nothing sticks out of the page sideways."""
    for label, size in (("1366", WIDE), ("390", NARROW)):
        page.set_viewport_size(size)
        shot(page, f"iso-{name}-{label}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name} at {label} px is {overflow} px wider than the window"
    page.set_viewport_size(WIDE)


def sign_out(page) -> None:
    page.click("nav button[type=submit]")
    page.wait_for_load_state()


def test_a_complaint_from_receipt_to_closing_through_the_new_forms(page, web: WebApp) -> None:
    sign_in(page, web, "dana")
    page.goto(f"{web.url}/new")
    fill(
        page.locator("#new"),
        {
            "channel": "email",
            "description": "The kettle's lid flew off while boiling and scalded my hand. I want a refund.",
            "complainant_name": "Kim Example",
            "complainant_email": "kim@example.org",
            "product_service": "Kettle K2 (1.7 litre, brushed steel, limited autumn edition)",
            "immediate_action": "Told Kim to stop using the kettle.",
        },
    )
    page.click("#new button[type=submit]")
    page.wait_for_load_state()
    ref = page.locator("h1 .nowrap").inner_text()
    assert page.locator("#status").inner_text() == "received"
    assert page.locator("#action-acknowledge.primary").count() == 1  # one primary next step
    # The acknowledgement goes out by e-mail from the register and acknowledges the record.
    step(
        page,
        "send",
        {"purpose": "acknowledgement", "text": "Dear Kim, we received your complaint and are on it."},
        form_id="send",
    )
    assert page.locator("#status").inner_text() == "acknowledged"
    assert web.smtp.messages[-1]["To"] == "kim@example.org"
    step(
        page,
        "assess",
        {
            "severity": "medium",
            "impact": "high",
            "complexity": "medium",
            "urgency": "high",
            "category": "safety",
            "safety": "on",
        },
    )
    assert page.locator("#safety").count() == 1
    record = get_record(web.engine, ref)
    critical = web.settings.targets["critical"].respond_hours
    assert record["due_response"] - record["received_at"] == timedelta(hours=critical)  # the safety deadline
    step(page, "assign", {"investigator": "ivan"})
    sign_out(page)
    sign_in(page, web, "ivan")
    page.goto(f"{web.url}/complaints/{ref}")
    step(page, "investigate", {"root_cause": "Lid hinge cracks when hot", "investigation_depth": "standard"})
    sign_out(page)
    sign_in(page, web, "dana")
    page.goto(f"{web.url}/complaints/{ref}")
    # A safety issue needs a full investigation with evidence before a decision.
    step(page, "decide", {"decision": "Refund and recall the batch.", "resolution": "Full refund"})
    assert "investigation-depth" in page.locator("#error").inner_text()
    sign_out(page)
    sign_in(page, web, "ivan")
    page.goto(f"{web.url}/complaints/{ref}")
    step(page, "investigate", {"evidence": "Hinge photos, lab test", "investigation_depth": "full"})
    sign_out(page)
    sign_in(page, web, "dana")
    page.goto(f"{web.url}/complaints/{ref}")
    step(page, "decide", {"decision": "Refund and recall the batch.", "resolution": "Full refund"})
    assert page.locator("#status").inner_text() == "decided"
    due = (now_utc() + timedelta(days=30)).date().isoformat()
    step(page, "plan_corrective", {"corrective_action": "Stronger hinge from batch 12", "corrective_due": due})
    step(
        page,
        "send",
        {"purpose": "decision", "text": "We refund the kettle in full and recall the batch."},
        form_id="send",
    )
    assert page.locator("#status").inner_text() == "communicated"
    # Not accepted and no recourse recorded: refused, and what was typed is still there.
    reason = "Kim wants compensation for the burn as well."
    step(page, "close", {"closure_reason": reason, "complainant_accepted": "no"})
    assert "recourse-offered" in page.locator("#error").inner_text()
    assert page.locator("#action-close textarea[name=closure_reason]").input_value() == reason
    step(page, "close", {"recourse_offered": "iso_10003_provider", "satisfaction_score": "2"})
    assert page.locator("#status").inner_text() == "closed"
    record = get_record(web.engine, ref)
    assert record["recourse_offered"] == "iso_10003_provider" and record["satisfaction_score"] == 2
    assert [c["delivery"] for c in get_communications(web.engine, record["id"])] == ["sent", "sent"]
    # History: human labels, minutes, the record's own numbering.
    history = page.locator("#events").inner_text()
    assert "Plan a corrective action" in history and "Corrective action (ISO 9001 10.2)" in history
    assert page.locator("#events tbody tr td").first.inner_text() == "1"
    both_widths(page, "record")
    page.goto(f"{web.url}/")
    # References and dates stay on one line; the summary is shown, not cut off, at 1,366 px.
    first = page.locator("#queue tbody tr").first
    for cell in first.locator("td.nowrap").all():
        # the height of the text itself (the cell is as tall as its row)
        lines = cell.evaluate(
            "e => { const r = document.createRange(); r.selectNodeContents(e);"
            " return r.getBoundingClientRect().height / (parseFloat(getComputedStyle(e).lineHeight) || 20); }"
        )
        assert lines < 1.6, f"{cell.inner_text()!r} wraps onto {lines:.1f} lines"
    summary = first.locator("td.summary")
    assert summary.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert summary.bounding_box()["x"] + summary.bounding_box()["width"] <= 1366
    both_widths(page, "queue")
    page.goto(f"{web.url}/reports")
    # Charts have value axes and values, and no label runs past its chart.
    assert page.locator("svg.chart line.axis").count() >= 4 and page.locator("svg.chart text.value").count() >= 4
    for svg in page.locator("svg.chart-hbar").all():
        width = float(svg.get_attribute("viewBox").split()[2])
        right = svg.evaluate(
            "s => Math.max(...[...s.querySelectorAll('text')].map(t => t.getBBox().x + t.getBBox().width))"
        )
        assert right <= width + 0.5, f"a label of {svg.get_attribute('aria-label')} is clipped ({right} > {width})"
    assert page.locator("#safety-issues").inner_text() == "1" and page.locator("#satisfaction").inner_text() == "2.0"
    both_widths(page, "report")
    page.goto(f"{web.url}/verify")
    assert "Intact." in page.locator("#verify-result").inner_text()
    assert verify(web.engine).ok and not page.dialogs
