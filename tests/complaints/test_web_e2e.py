"""End to end in a real headless Chromium (Debian's `chromium`, driven by playwright): sign in, work a complaint
from received to closed, see a forged cross-site post refused, a viewer refused, hostile text shown as text,
right-to-left text displayed right to left, and a signed-out session's cookie refused. Screenshots of the main
pages go to test-artifacts/complaints/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from earful_complaints.audit import verify
from earful_complaints.register import get_record
from tests.complaints.web_fixtures import PASSWORDS, PERSIAN, WebApp, running_app
from tests.helpers.http_server import Route, scripted_server

CHROMIUM = Path(os.environ.get("EARFUL_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "complaints"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def web(engine, settings) -> Iterator[WebApp]:
    with running_app(engine, settings) as app:
        yield app


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, web: WebApp, user: str) -> None:
    page.goto(f"{web.url}/")
    assert "/login" in page.url
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORDS[user])
    page.click("#login button[type=submit]")
    page.wait_for_url(f"{web.url}/")


def act(page, action: str, fields: dict[str, str]) -> None:
    form = page.locator(f"#action-{action}")
    for name, value in fields.items():
        control = form.locator(f"[name={name}]")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        elif control.get_attribute("type") == "checkbox":
            control.check()
        else:
            control.fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_work_a_complaint_from_received_to_closed(page, web: WebApp) -> None:
    page.goto(f"{web.url}/")
    shot(page, "01-sign-in")
    sign_in(page, web, "dana")
    assert page.locator("#queue tbody tr").count() == 4
    shot(page, "02-queue")
    ref = web.refs["plain"]
    page.click(f"text={ref}")
    assert page.locator("#status").inner_text() == "received"
    shot(page, "03-record-received")
    act(page, "acknowledge", {"ack_channel": "public_reply", "ack_text": "Sorry! We are looking into it."})
    assert page.locator("#status").inner_text() == "acknowledged"
    act(
        page,
        "assess",
        {
            "severity": "high",
            "impact": "medium",
            "complexity": "low",
            "urgency": "high",
            "category": "product",
            "safety": "on",
        },
    )
    # The investigator is chosen from the registered users who may change records (no viewer, no typed name).
    options = page.locator("#action-assign select[name=investigator] option").all_inner_texts()
    assert set(options) == {"", "ada", "dana", "ivan"}
    act(page, "assign", {"investigator": "ivan"})
    # Only the assigned investigator records findings.
    findings = {"root_cause": "weak packaging", "evidence": "courier photos", "investigation_depth": "full"}
    act(page, "investigate", findings)
    assert "findings-by-investigator" in page.locator("#error").inner_text()
    page.click("nav button[type=submit]")
    sign_in(page, web, "ivan")
    page.goto(f"{web.url}/complaints/{ref}")
    act(page, "investigate", findings)
    # The investigator may not decide.
    act(page, "decide", {"decision": "Replace it", "resolution": "Free replacement"})
    assert "decider-not-investigator" in page.locator("#error").inner_text()
    shot(page, "04-guard-refused")
    page.click("nav button[type=submit]")
    sign_in(page, web, "dana")
    page.goto(f"{web.url}/complaints/{ref}")
    act(page, "decide", {"decision": "Replace it", "resolution": "Free replacement"})
    act(page, "communicate", {"communicated_channel": "direct_message", "communication_text": "A new one is coming."})
    act(page, "close", {"closure_reason": "Replacement delivered", "complainant_accepted": "yes"})
    assert page.locator("#status").inner_text() == "closed"
    # 8 steps and the safety alert the assessment raised (linked to the record)
    assert page.locator("#events tbody tr").count() == 9
    shot(page, "05-record-closed")
    record = get_record(web.engine, ref)
    assert record["decided_by"] == "dana" and record["investigator"] == "ivan" and record["closed_by"] == "dana"
    assert verify(web.engine).ok
    page.goto(f"{web.url}/reports")
    assert page.locator("svg.chart").count() >= 4
    shot(page, "06-report")
    assert not page.dialogs


def test_forged_cross_site_post_is_refused(page, web: WebApp) -> None:
    ref = web.refs["plain"]
    sign_in(page, web, "dana")
    forged = (
        f'<html><body><form id="f" method="post" action="{web.url}/complaints/{ref}/actions/reject">'
        '<input name="version" value="1"><input name="rejection_reason" value="forged">'
        '<button type="submit">win a prize</button></form></body></html>'
    )
    with scripted_server() as evil:
        evil.routes["/"] = Route(body=forged.encode(), headers={"Content-Type": "text/html"})
        page.goto(evil.url("/"))
        page.click("#f button")
        page.wait_for_load_state()
        shot(page, "07-csrf-refused")
        assert "CSRF" in page.locator("#error").inner_text()
    # And a post from the signed-in browser's own cookie jar, without the token:
    response = page.context.request.post(
        f"{web.url}/complaints/{ref}/actions/reject", form={"version": "1", "rejection_reason": "no token"}
    )
    assert response.status == 403
    assert get_record(web.engine, ref)["status"] == "received"


def test_viewer_is_refused(page, web: WebApp) -> None:
    ref = web.refs["plain"]
    sign_in(page, web, "vera")
    assert page.locator("text=New complaint").count() == 0
    page.goto(f"{web.url}/complaints/{ref}")
    assert page.locator("#next-steps").count() == 0
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.context.request.post(
        f"{web.url}/complaints/{ref}/actions/acknowledge",
        form={"csrf_token": token, "version": "1", "ack_channel": "email", "ack_text": "viewer was here"},
    )
    assert response.status == 403
    page.goto(f"{web.url}/new")
    assert "may read records but not change them" in page.locator("#error").inner_text()
    shot(page, "08-viewer-refused")
    assert get_record(web.engine, ref)["status"] == "received"


def test_hostile_and_right_to_left_posts_are_shown_as_text(page, web: WebApp) -> None:
    sign_in(page, web, "dana")
    page.goto(f"{web.url}/complaints/{web.refs['hostile']}")
    post = page.locator("#post")
    assert post.inner_text().startswith('<script>document.title="pwned"')
    assert post.locator("script, img").count() == 0
    assert page.title() != "pwned" and not page.dialogs
    assert page.locator("a.source-link").count() == 0  # javascript: URL not turned into a link
    shot(page, "09-hostile-post")
    page.goto(f"{web.url}/complaints/{web.refs['persian']}")
    post = page.locator("#post")
    assert post.inner_text() == PERSIAN
    assert post.evaluate("e => getComputedStyle(e).direction") == "rtl"
    shot(page, "10-persian-post")


def test_signed_out_browser_cookie_no_longer_works(page, web: WebApp) -> None:
    """Sign out, then put the pre-sign-out cookie back (as someone who copied it would): the server refuses it."""
    sign_in(page, web, "dana")
    kept = page.context.cookies()
    assert any(c["name"] == "earful_session" and c["httpOnly"] and c["sameSite"] == "Strict" for c in kept)
    page.click("nav button[type=submit]")
    page.wait_for_url(f"{web.url}/login")
    page.context.add_cookies(kept)
    page.goto(f"{web.url}/complaints/{web.refs['plain']}")
    assert "/login" in page.url
    shot(page, "11-signed-out-cookie-refused")
