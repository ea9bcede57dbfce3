"""The listening dashboard in a real headless Chromium: a communication person signs in, reads the overview,
filters the mentions, opens one, opens a complaint record from it, marks a label wrong, finds a parked alert and
retries it, and is refused a change to the record. Hostile post text stays text (no script runs, no dialog).
Screenshots of every page at 1,366 px and 390 px go to test-artifacts/dashboard/, and no page is wider than
the phone's screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.complaints.dash_fixtures import PASSWORDS_ALL, DashApp, running_dashboard
from tests.complaints.test_web_e2e import CHROMIUM, browser  # noqa: F401 - the shared browser fixture

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]


@pytest.fixture
def dash(sqlite_engine, settings, es_url, tmp_path) -> Iterator[DashApp]:
    with running_dashboard(sqlite_engine, settings, es_url, tmp_path) as app:
        yield app


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


def shoot(page, name: str, *, check_width: bool = True) -> None:
    """Screenshots at both widths; at 390 px nothing may stick out sideways (wide tables scroll in their box)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width + 1 or not check_width, f"{name} is {overflow} px wide at {width} px ({label})"
    page.set_viewport_size({"width": 1366, "height": 900})


def test_comms_works_the_dashboard(page, dash: DashApp) -> None:
    url = dash.url
    page.goto(f"{url}/dashboard")
    assert "/login" in page.url
    page.fill("input[name=username]", "cora")
    page.fill("input[name=password]", PASSWORDS_ALL["cora"])
    page.click("#login button[type=submit]")
    page.wait_for_url(f"{url}/dashboard")

    # Overview: the figures, the spike that alerted, hover text on the bars.
    total = int(page.inner_text("#total"))
    assert total == dash.es.count(index=dash.alias)["count"]
    marker = page.locator("#volume-chart a.spike")
    assert marker.count() == 1 and "Mention volume spike" in marker.locator("title").text_content()
    assert page.locator("#volume-chart rect title").first.text_content().endswith(("mention", "mentions"))
    assert page.locator("#sov-table tbody tr").count() == 2
    shoot(page, "overview")
    page.select_option("#period-form select[name=topic]", "acme")
    page.select_option("#period-form select[name=period]", "24h")
    page.click("#period-form button[type=submit]")
    page.wait_for_url("**/dashboard?topic=acme&period=24h**")
    assert int(page.inner_text("#total")) < total

    # Mentions: the topic query language and filters.
    page.goto(f"{url}/mentions")
    page.fill("#filters input[name=q]", "kettle AND broke*")
    page.select_option("#filters select[name=sentiment]", "negative")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/mentions?q=kettle*")
    assert page.inner_text("#total") == "20 match"
    shoot(page, "mentions")
    page.click("#mentions tbody tr:first-child a")
    page.wait_for_url("**/mentions/dm01*")
    assert "kettle broke again" in page.inner_text("#post")

    # Hostile text is shown as text.
    page.goto(f"{url}/mentions/dm0200")
    assert page.inner_text("#post").startswith('<script>document.title="pwned"')
    assert page.title() != "pwned" and not page.dialogs

    # A Persian post reads right to left.
    page.goto(f"{url}/mentions/dm0201")
    assert page.eval_on_selector("#post", "e => getComputedStyle(e).direction") == "rtl"
    shoot(page, "mention")

    # Open a complaint record from a mention (prefilled), then be refused a change to it.
    page.goto(f"{url}/mentions/dm0202")
    assert "refund request" in page.input_value("#open-complaint textarea[name=description]")
    page.fill("#open-complaint input[name=product_service]", "kettle K2")
    page.click("#open-complaint button[type=submit]")
    page.wait_for_url("**/complaints/C-*")
    ref = page.url.rsplit("/", 1)[1]
    assert page.inner_text("#status") == "received"
    assert page.locator("form[action*='/actions/']").count() == 0  # no state changes offered to comms
    csrf = page.get_attribute("input[name=csrf_token]", "value")
    refused = page.context.request.post(
        f"{url}/complaints/{ref}/actions/acknowledge",
        form={"csrf_token": csrf, "version": "1", "ack_channel": "public_reply", "ack_text": "Sorry"},
    )
    assert refused.status == 403 and "may read records but not change them" in refused.text()
    # The register's record page is the register's (its layout at 390 px is not this test's business).
    shoot(page, "complaint", check_width=False)
    page.goto(f"{url}/mentions/dm0202")
    assert page.inner_text("#record") == f"Opened: {ref}"

    # Label is wrong.
    page.select_option("#correct-sentiment select[name=label]", "positive")
    page.click("#correct-sentiment button[type=submit]")
    page.wait_for_url("**/mentions/dm0202?saved=label")
    assert "stored with the training data" in page.inner_text("#notice")
    assert (dash.labels_dir / "sentiment.csv").read_text(encoding="utf-8").count("dm0202") == 1

    # A parked alert, and its retry.
    page.goto(f"{url}/alerts")
    shoot(page, "alerts")
    page.select_option("#filters select[name=state]", "parked")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/alerts?state=parked**")
    page.click(f"a[href='/alerts/{dash.parked_id}']")
    page.wait_for_url(f"**/alerts/{dash.parked_id}")
    assert page.inner_text("#state") == "parked"
    assert "SMTP 451" in page.inner_text("#deliveries")
    shoot(page, "alert")
    page.click("#retry button")
    page.wait_for_url(f"**/alerts/{dash.parked_id}?retried=1")
    assert "queued again" in page.inner_text("#notice")
    assert page.inner_text("#state") == "pending"
    page.goto(f"{url}/alerts/{dash.spike_id}")
    assert page.locator("#history tbody tr").count() == 1
    assert not page.dialogs
