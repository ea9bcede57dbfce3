"""The attacks of issue 16, one test per row, against the served app (uvicorn on 127.0.0.1, httpx) on SQLite and
PostgreSQL. Each failed before sessions moved to the database, sign-in got a persisted per-client and per-account
delay, the four-eyes rule was checked on the events, and every input got a limit.

Several clients are simulated with X-Forwarded-For from 127.0.0.1, which the test app trusts as its proxy
(web.trusted_proxies). The app's clock is a FakeClock: timeouts and delays pass when a test moves it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from earful_complaints.register import get_events, get_record
from earful_complaints.sessions import token_hash
from earful_complaints.tables import complaint_sessions
from earful_complaints.users import get_user, set_user
from earful_complaints.web.security import CSP, SESSION_COOKIE
from tests.complaints.web_fixtures import PASSWORDS, WebApp, running_app, serve, web_settings


@pytest.fixture
def web(engine, settings) -> Iterator[WebApp]:
    with running_app(engine, settings) as app:
        yield app


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def client(web: WebApp, address: str = "192.0.2.1") -> httpx.Client:
    """A browser at `address` (behind the trusted proxy)."""
    return httpx.Client(base_url=web.url, follow_redirects=False, timeout=10, headers={"X-Forwarded-For": address})


def try_sign_in(c: httpx.Client, user: str, password: str) -> httpx.Response:
    token = _token(c.get("/login").text)
    return c.post("/login", data={"csrf_token": token, "username": user, "password": password, "next": "/"})


def signed_in(web: WebApp, user: str, address: str = "192.0.2.1") -> httpx.Client:
    c = client(web, address)
    response = try_sign_in(c, user, PASSWORDS[user])
    assert response.status_code == 303, response.text
    return c


def note(c: httpx.Client, ref: str, text: str = "a note") -> httpx.Response:
    token = _token(c.get(f"/complaints/{ref}").text)
    return c.post(f"/complaints/{ref}/actions/note", data={"csrf_token": token, "version": "1", "note": text})


def act(c: httpx.Client, ref: str, action: str, values: dict[str, str]) -> httpx.Response:
    page = c.get(f"/complaints/{ref}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    return c.post(
        f"/complaints/{ref}/actions/{action}", data={"csrf_token": _token(page.text), "version": version, **values}
    )


def reads(c: httpx.Client) -> bool:
    return c.get("/").status_code == 200


# ---- sessions ------------------------------------------------------------------------------------------------------


def test_sign_out_ends_the_session_on_the_server(web: WebApp) -> None:
    ref = web.refs["plain"]
    dana = signed_in(web, "dana")
    old_cookie = dana.cookies[SESSION_COOKIE]
    old_token = _token(dana.get(f"/complaints/{ref}").text)
    assert dana.post("/logout", data={"csrf_token": old_token}).status_code == 303
    # An attacker who kept the pre-sign-out cookie (and a page's CSRF token) gets nothing.
    replay = client(web)
    replay.cookies.set(SESSION_COOKIE, old_cookie)
    assert replay.get("/").status_code == 303
    assert replay.get(f"/complaints/{ref}").status_code == 303
    saved = replay.post(
        f"/complaints/{ref}/actions/note", data={"csrf_token": old_token, "version": "1", "note": "after sign-out"}
    )
    assert saved.status_code == 401
    assert [e["action"] for e in get_events(web.engine, ref)] == ["receive"]


def test_cookie_holds_only_a_random_id_and_the_database_only_its_hash(web: WebApp) -> None:
    dana = signed_in(web, "dana")
    cookie = dana.cookies[SESSION_COOKIE]
    assert "dana" not in cookie and re.fullmatch(r"[A-Za-z0-9_-]{40,}", cookie)
    with web.engine.connect() as conn:
        stored = conn.execute(sa.select(complaint_sessions.c.token_hash, complaint_sessions.c.username)).all()
    assert [(h, u) for h, u in stored] == [(token_hash(cookie), "dana")]
    assert cookie not in {h for h, _ in stored}
    again = signed_in(web, "dana")  # a new id at every sign-in
    assert again.cookies[SESSION_COOKIE] != cookie


def test_password_role_and_active_changes_end_sessions(web: WebApp) -> None:
    ivan, ivan_elsewhere, dana = signed_in(web, "ivan"), signed_in(web, "ivan", "192.0.2.9"), signed_in(web, "dana")
    # What `earful complaints users set ivan --password` does:
    set_user(web.engine, "ivan", password="a-brand-new-passphrase")
    assert not reads(ivan) and not reads(ivan_elsewhere) and reads(dana)
    # An admin changes dana's role in the web app: her sessions end at once.
    ada = signed_in(web, "ada")
    token = _token(ada.get("/users").text)
    assert (
        ada.post(
            "/users", data={"csrf_token": token, "op": "set", "username": "dana", "role": "viewer", "active": "1"}
        ).status_code
        == 303
    )
    assert not reads(dana)
    # Saving the form without a change leaves sessions alone; deactivating ends them.
    vera = signed_in(web, "vera")
    ada.post("/users", data={"csrf_token": token, "op": "set", "username": "vera", "role": "viewer", "active": "1"})
    assert reads(vera)
    ada.post("/users", data={"csrf_token": token, "op": "set", "username": "vera", "role": "viewer", "active": "0"})
    assert not reads(vera)
    assert reads(ada)


def test_idle_and_absolute_timeouts(web: WebApp) -> None:
    idle, absolute = web.settings.web.session_idle_minutes, web.settings.web.session_max_age_minutes
    dana = signed_in(web, "dana")
    web.clock.advance(minutes=idle - 1)
    assert reads(dana)  # in use: the idle timer starts again
    web.clock.advance(minutes=idle - 1)
    assert reads(dana)
    web.clock.advance(minutes=idle)
    assert not reads(dana)
    busy = signed_in(web, "ivan")
    used = 0
    while used + idle - 1 < absolute:
        web.clock.advance(minutes=idle - 1)
        used += idle - 1
        assert reads(busy)
    web.clock.advance(minutes=idle - 1)
    assert not reads(busy)  # always in use, still over the absolute lifetime


# ---- sign-in throttling ----------------------------------------------------------------------------------------------


def test_nobody_can_lock_an_account_out(web: WebApp) -> None:
    attacker = client(web, "203.0.113.66")
    for _ in range(5):
        assert try_sign_in(attacker, "ada", "guess").status_code in (401, 429)
    assert try_sign_in(attacker, "ada", PASSWORDS["ada"]).status_code == 429  # the attacker's client waits
    assert try_sign_in(client(web, "198.51.100.7"), "ada", PASSWORDS["ada"]).status_code == 303  # ada does not


def test_password_spraying_from_one_client_is_slowed_exponentially(web: WebApp) -> None:
    free = web.settings.web.signin.free_failures
    sprayer = client(web, "203.0.113.5")
    codes = [try_sign_in(sprayer, f"user{i:02d}", "Summer2026!").status_code for i in range(30)]
    assert codes[:free] == [401] * free and set(codes[free:]) == {429}
    refused = try_sign_in(sprayer, "user99", "x")
    waits = [int(refused.headers["Retry-After"])]
    for _ in range(3):  # once the delay has passed, one more try, then twice the delay
        web.clock.advance(seconds=waits[-1])
        assert try_sign_in(sprayer, "userxx", "x").status_code == 401
        waits.append(int(try_sign_in(sprayer, "userxx", "x").headers["Retry-After"]))
    assert waits[1:] == [2 * waits[0], 4 * waits[0], 8 * waits[0]]
    assert try_sign_in(client(web, "198.51.100.8"), "dana", PASSWORDS["dana"]).status_code == 303


def test_guessing_one_account_from_many_clients_is_slowed_for_them_only(web: WebApp) -> None:
    free = web.settings.web.signin.free_failures
    guessers = [client(web, f"203.0.113.{i}") for i in range(10, 11 + free)]
    for guesser in guessers:
        assert try_sign_in(guesser, "dana", "guess").status_code == 401  # one try each: no client delay
    assert try_sign_in(guessers[0], "dana", PASSWORDS["dana"]).status_code == 429  # the account's delay
    assert try_sign_in(guessers[0], "ivan", PASSWORDS["ivan"]).status_code == 303  # other accounts are fine
    assert try_sign_in(client(web, "198.51.100.9"), "dana", PASSWORDS["dana"]).status_code == 303


def test_throttling_survives_a_restart(engine, settings) -> None:
    from earful_complaints.web.app import create_app

    with running_app(engine, settings) as web:
        for i in range(web.settings.web.signin.free_failures):
            try_sign_in(client(web, "203.0.113.77"), f"x{i}", "guess")
        clock = web.clock
    with serve(create_app(engine, web_settings(settings), clock=clock)) as url:
        restarted = httpx.Client(base_url=url, timeout=10, headers={"X-Forwarded-For": "203.0.113.77"})
        assert try_sign_in(restarted, "dana", PASSWORDS["dana"]).status_code == 429


class CountingHasher(PasswordHasher):
    """argon2, counting what sign-in makes it do."""

    def __init__(self) -> None:
        super().__init__()
        self.verified: list[str] = []
        self.hashed = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashed += 1
        return super().hash(password, salt=salt)


def _params(argon2_hash: str) -> str:
    return argon2_hash.split("$")[1:4].__str__()  # variant, version, m/t/p


def test_unknown_and_known_users_cost_the_same(engine, settings) -> None:
    hasher = CountingHasher()
    with running_app(engine, settings, hasher=hasher) as web:
        hasher.hashed = 0
        for name, address in (("nobody-here", "192.0.2.50"), ("dana", "192.0.2.51")):
            hasher.verified.clear()
            assert try_sign_in(client(web, address), name, "wrong-password").status_code == 401
            assert len(hasher.verified) == 1, name  # exactly one argon2 verify ...
            assert hasher.hashed == 0, name  # ... and no hashing on the way
            assert _params(hasher.verified[0]) == _params(PasswordHasher().hash("x"))  # with the same parameters


class SlowHasher(PasswordHasher):
    """argon2 whose verify waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        self.entered.set()
        assert self.release.wait(30)
        return super().verify(hash, password)


def test_password_checks_do_not_stall_the_app(engine, settings) -> None:
    hasher = SlowHasher()
    with running_app(engine, settings, hasher=hasher) as web:
        results: list[int] = []
        worker = threading.Thread(
            target=lambda: results.append(try_sign_in(client(web), "dana", PASSWORDS["dana"]).status_code)
        )
        worker.start()
        try:
            assert hasher.entered.wait(10)
            # A password is being checked right now; the app still answers (a blocked event loop would not).
            with httpx.Client(base_url=web.url, timeout=5) as other:
                assert other.get("/healthz").text == "ok"
                assert other.get("/login").status_code == 200
        finally:
            hasher.release.set()
            worker.join(30)
        assert results == [303]


def test_weak_passwords_are_refused(web: WebApp) -> None:
    ada = signed_in(web, "ada")
    token = _token(ada.get("/users").text)
    for weak in ("aaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaa", "Password2026!!!!!", "qwertyuiopasdfgh", "new-admin-new-admin"):
        response = ada.post(
            "/users",
            data={"csrf_token": token, "op": "add", "username": "new-admin", "password": weak, "role": "admin"},
        )
        assert response.status_code == 422, weak
        assert "password" in response.text and weak not in response.text
    assert get_user(web.engine, "new-admin") is None
    ok = ada.post(
        "/users",
        data={
            "csrf_token": token,
            "op": "add",
            "username": "new-admin",
            "password": "pale orange kettle on a quiet shelf",
            "role": "admin",
        },
    )
    assert ok.status_code == 303 and get_user(web.engine, "new-admin") is not None


# ---- four eyes -----------------------------------------------------------------------------------------------------


def _to_assessed(c: httpx.Client, ref: str) -> None:
    assert act(c, ref, "acknowledge", {"ack_channel": "email", "ack_text": "on it"}).status_code == 303
    assert (
        act(
            c,
            ref,
            "assess",
            {"severity": "high", "impact": "low", "complexity": "low", "urgency": "low", "category": "product"},
        ).status_code
        == 303
    )


def test_investigators_and_owners_are_registered_users(web: WebApp) -> None:
    ref = web.refs["plain"]
    dana = signed_in(web, "dana")
    _to_assessed(dana, ref)
    page = dana.get(f"/complaints/{ref}").text
    select = re.search(r'<select name="investigator">(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"', select) == ["", "ada", "dana", "ivan"]  # no viewer
    for typed in ("QA1", "ghost-user", "vera", "DANA"):
        response = act(dana, ref, "assign", {"investigator": typed})
        assert response.status_code == 422 and "registered-user" in response.text, typed
    assert act(dana, ref, "assign", {"investigator": "ivan", "owner": "ghost"}).status_code == 422
    assert get_record(web.engine, ref)["status"] == "assessed"


def test_only_the_investigator_records_findings_and_never_decides(web: WebApp) -> None:
    ref = web.refs["plain"]
    dana, ivan, ada = signed_in(web, "dana"), signed_in(web, "ivan"), signed_in(web, "ada")
    _to_assessed(dana, ref)
    assert act(dana, ref, "assign", {"investigator": "ivan"}).status_code == 303
    refused = act(dana, ref, "investigate", {"root_cause": "dana's own finding"})
    assert refused.status_code == 422 and "findings-by-investigator" in refused.text
    findings = {"root_cause": "packaging", "evidence": "photos", "investigation_depth": "full"}  # severity high
    assert act(ivan, ref, "investigate", findings).status_code == 303
    # Re-assigning before the decision does not let the person who investigated decide.
    assert act(dana, ref, "assign", {"investigator": "ada"}).status_code == 303
    decided = act(ivan, ref, "decide", {"decision": "ok", "resolution": "refund"})
    assert decided.status_code == 422 and "decider-not-investigator" in decided.text
    assert act(ada, ref, "decide", {"decision": "ok", "resolution": "refund"}).status_code == 422  # investigator now
    assert act(dana, ref, "decide", {"decision": "Refund it.", "resolution": "refund"}).status_code == 303
    actors = [(e["action"], e["actor"]) for e in get_events(web.engine, ref)]
    assert ("investigate", "ivan") in actors and actors[-1] == ("decide", "dana")
    assert get_record(web.engine, ref)["decided_by"] == "dana"


# ---- validation and errors ------------------------------------------------------------------------------------------


def _has_security_headers(response: httpx.Response) -> bool:
    return (
        response.headers.get("content-security-policy") == CSP
        and response.headers.get("x-frame-options") == "DENY"
        and response.headers.get("x-content-type-options") == "nosniff"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/?page=10^20",
        "/?page=100000000000000000000",
        "/?page=0",
        "/?page=-3",
        "/reports?end=0001-01-01",
        "/reports?end=9999-12-31",
        "/reports?start=9999-12-31",
        "/reports?start=1900-01-01&end=1900-02-01",
        "/reports?start=yesterday",
        "/reports.csv?end=9999-12-31",
    ],
)
def test_bad_query_parameters_answer_400_with_the_headers(web: WebApp, path: str) -> None:
    response = signed_in(web, "vera").get(path)
    assert response.status_code == 400, response.text
    assert _has_security_headers(response) and 'id="error"' in response.text


def test_every_error_response_carries_the_security_headers(web: WebApp) -> None:
    dana = signed_in(web, "dana")
    ref = web.refs["plain"]
    token = _token(dana.get(f"/complaints/{ref}").text)
    responses = {
        404: dana.get("/no/such/page"),
        405: dana.put("/login"),
        413: dana.post(
            f"/complaints/{ref}/actions/note", data={"csrf_token": token, "version": "1", "note": "x" * 900_000}
        ),
        415: dana.post(f"/complaints/{ref}/actions/note", json={"note": "x"}),
        403: dana.post(f"/complaints/{ref}/actions/note", data={"version": "1", "note": "x"}),
        401: client(web).post(f"/complaints/{ref}/actions/note", data={"note": "x"}),
    }
    for status, response in responses.items():
        assert response.status_code == status, (status, response.text[:200])
        assert _has_security_headers(response), status
    assert dana.get("/complaints/C-2026-999999").status_code == 404


def test_notes_and_records_have_size_limits(engine, settings) -> None:
    settings = settings.model_copy(update={"limits": settings.limits.model_copy(update={"record_chars": 20_000})})
    with running_app(engine, settings) as web:
        ref = web.refs["plain"]
        dana = signed_in(web, "dana")
        too_long = note(dana, ref, "x" * (settings.limits.long_text_chars + 1))
        assert too_long.status_code == 422 and "field-size" in too_long.text
        responses = [note(dana, ref, f"{i} " + "y" * 4000) for i in range(8)]
        assert responses[0].status_code == 303 and responses[-1].status_code == 422
        assert "record-size" in responses[-1].text
        used = sum(len(e["note"] or "") for e in get_events(engine, ref))
        assert used <= 20_000


@pytest.mark.parametrize(
    "field,value,rule",
    [
        ("received_at", "2001-01-01", "more than 30 days ago"),
        ("received_at", "2999-01-01T00:00", "cannot be in the future"),
        ("received_at", "last tuesday", "ISO date-time"),
        ("language", "klingon-long-code-xx", "ISO 639-1"),
        ("language", "xx", "ISO 639-1"),
        ("description", "z" * 10_001, "field-size"),
        ("complainant_ref", "c" * 301, "field-size"),
    ],
)
def test_manual_intake_refuses_bad_fields(web: WebApp, field: str, value: str, rule: str) -> None:
    dana = signed_in(web, "dana")
    token = _token(dana.get("/new").text)
    form = {"csrf_token": token, "channel": "phone", "description": "Refund never came", field: value}
    response = dana.post("/new", data=form)
    assert response.status_code == 422 and rule in response.text
    assert _has_security_headers(response)
    ok = dana.post("/new", data={**form, field: {"received_at": "", "language": "de"}.get(field, "fine")})
    assert ok.status_code == 303


def test_an_unexpected_failure_is_a_plain_500_with_the_headers(sqlite_engine, settings) -> None:
    with running_app(sqlite_engine, settings) as web:
        dana = signed_in(web, "dana")
        with sqlite_engine.begin() as conn:  # the database breaks under the running app
            conn.execute(sa.text("ALTER TABLE complaint_events RENAME TO complaint_events_gone"))
        response = dana.get(f"/complaints/{web.refs['plain']}")
        assert response.status_code == 500 and _has_security_headers(response)
        assert "Traceback" not in response.text and "complaint_events" not in response.text
