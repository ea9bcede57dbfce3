"""The web app as an attacker and as each role would meet it, over real HTTP (uvicorn on 127.0.0.1, httpx)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from earful_complaints.register import get_record
from earful_complaints.users import set_user
from tests.complaints.web_fixtures import HOSTILE, PASSWORDS, WebApp, running_app


@pytest.fixture
def web(engine, settings) -> Iterator[WebApp]:
    with running_app(engine, settings) as app:
        yield app


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def signed_in(web: WebApp, user: str) -> httpx.Client:
    client = httpx.Client(base_url=web.url, follow_redirects=False, timeout=10)
    token = _token(client.get("/login").text)
    response = client.post(
        "/login", data={"csrf_token": token, "username": user, "password": PASSWORDS[user], "next": "/"}
    )
    assert response.status_code == 303, response.text
    return client


def test_pages_need_sign_in(web: WebApp) -> None:
    with httpx.Client(base_url=web.url) as client:
        for path in ("/", f"/complaints/{web.refs['plain']}", "/reports", "/reports.csv", "/users", "/new"):
            response = client.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
        assert client.post(f"/complaints/{web.refs['plain']}/actions/note", data={"note": "x"}).status_code in (
            401,
            403,
        )


def test_session_cookie_and_headers(web: WebApp) -> None:
    with httpx.Client(base_url=web.url) as client:
        response = client.get("/login")
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_sign_in_needs_csrf_and_the_right_password(web: WebApp) -> None:
    with httpx.Client(base_url=web.url) as client:
        token = _token(client.get("/login").text)
        assert client.post("/login", data={"username": "dana", "password": PASSWORDS["dana"]}).status_code == 403
        assert (
            client.post("/login", data={"csrf_token": token, "username": "dana", "password": "wrong"}).status_code
            == 401
        )
        assert (
            client.post("/login", data={"csrf_token": token, "username": "nobody", "password": "wrong"}).status_code
            == 401
        )
        for _ in range(5):
            client.post("/login", data={"csrf_token": token, "username": "ivan", "password": "guess"})
        throttled = client.post("/login", data={"csrf_token": token, "username": "ivan", "password": PASSWORDS["ivan"]})
        assert throttled.status_code == 429


def test_no_open_redirect_after_sign_in(web: WebApp) -> None:
    with httpx.Client(base_url=web.url) as client:
        token = _token(client.get("/login").text)
        response = client.post(
            "/login",
            data={"csrf_token": token, "username": "dana", "password": PASSWORDS["dana"], "next": "//evil.example/x"},
        )
        assert response.headers["location"] == "/"


def test_posts_without_a_valid_csrf_token_are_refused(web: WebApp) -> None:
    ref = web.refs["plain"]
    client = signed_in(web, "dana")
    page = client.get(f"/complaints/{ref}")
    version = get_record(web.engine, ref)["version"]
    values = {"ack_channel": "email", "ack_text": "Thanks", "version": str(version)}
    missing = client.post(f"/complaints/{ref}/actions/acknowledge", data=values)
    wrong = client.post(f"/complaints/{ref}/actions/acknowledge", data={**values, "csrf_token": "forged"})
    assert missing.status_code == wrong.status_code == 403 and "CSRF" in missing.text
    assert get_record(web.engine, ref)["status"] == "received"
    ok = client.post(f"/complaints/{ref}/actions/acknowledge", data={**values, "csrf_token": _token(page.text)})
    assert ok.status_code == 303 and get_record(web.engine, ref)["status"] == "acknowledged"


def test_viewer_reads_but_cannot_change_anything(web: WebApp) -> None:
    ref = web.refs["plain"]
    client = signed_in(web, "vera")
    page = client.get(f"/complaints/{ref}")
    assert page.status_code == 200 and 'id="next-steps"' not in page.text and "action-acknowledge" not in page.text
    token = _token(page.text)
    response = client.post(
        f"/complaints/{ref}/actions/acknowledge",
        data={"csrf_token": token, "version": "1", "ack_channel": "email", "ack_text": "x"},
    )
    assert response.status_code == 403 and "may read records but not change them" in response.text
    assert client.post("/new", data={"csrf_token": token, "channel": "phone", "description": "x"}).status_code == 403
    assert client.get("/users").status_code == 403
    assert client.get("/reports").status_code == 200
    assert get_record(web.engine, ref)["status"] == "received"


def test_only_admins_manage_users(web: WebApp) -> None:
    quality = signed_in(web, "dana")
    token = _token(quality.get("/").text)
    assert quality.get("/users").status_code == 403
    assert (
        quality.post("/users", data={"csrf_token": token, "op": "set", "username": "vera", "role": "admin"}).status_code
        == 403
    )
    admin = signed_in(web, "ada")
    token = _token(admin.get("/users").text)
    assert (
        admin.post(
            "/users",
            data={
                "csrf_token": token,
                "op": "add",
                "username": "new.person",
                "password": "long-enough-passphrase",
                "role": "viewer",
            },
        ).status_code
        == 303
    )
    assert "new.person" in admin.get("/users").text


def test_deactivated_user_is_signed_out_at_the_next_request(web: WebApp) -> None:
    client = signed_in(web, "ivan")
    assert client.get("/").status_code == 200
    set_user(web.engine, "ivan", active=False)
    assert client.get("/").status_code == 303


def test_user_content_is_rendered_as_text(web: WebApp) -> None:
    client = signed_in(web, "dana")
    html = client.get(f"/complaints/{web.refs['hostile']}").text
    assert "<script>document.title" not in html and "<img src=x" not in html
    assert "&lt;script&gt;document.title" in html
    assert 'href="javascript:' not in html  # a javascript: URL in a post is never a link
    queue = client.get("/").text
    assert "<script>" not in queue and HOSTILE[:10] not in queue


def test_stale_form_is_refused_with_a_clear_message(web: WebApp) -> None:
    ref = web.refs["plain"]
    first, second = signed_in(web, "dana"), signed_in(web, "ivan")
    t1, t2 = _token(first.get(f"/complaints/{ref}").text), _token(second.get(f"/complaints/{ref}").text)
    form = {"version": "1", "ack_channel": "email", "ack_text": "from dana"}
    assert first.post(f"/complaints/{ref}/actions/acknowledge", data={**form, "csrf_token": t1}).status_code == 303
    response = second.post(
        f"/complaints/{ref}/actions/reject", data={"version": "1", "rejection_reason": "spam", "csrf_token": t2}
    )
    assert response.status_code == 409 and "changed by someone else" in response.text
    assert get_record(web.engine, ref)["ack_text"] == "from dana"


def test_refused_transition_names_the_rule(web: WebApp) -> None:
    ref = web.refs["plain"]
    client = signed_in(web, "dana")
    token = _token(client.get(f"/complaints/{ref}").text)
    response = client.post(
        f"/complaints/{ref}/actions/close", data={"version": "1", "closure_reason": "x", "csrf_token": token}
    )
    assert response.status_code == 422 and "legal-transition" in response.text


def test_report_pages(web: WebApp) -> None:
    client = signed_in(web, "vera")
    page = client.get("/reports")
    assert page.status_code == 200 and "<svg" in page.text and "By channel" in page.text
    csv_text = client.get("/reports.csv").text
    assert csv_text.startswith("section,key,value") and "volume,received,4" in csv_text
