"""The review web app: sign-in, the queue, record pages with the allowed next steps, users, reports.

Every route checks who is signed in and what their role allows (not only the menu), every form carries a CSRF
token, and everything people or posts wrote is rendered as escaped text.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from importlib.resources import files
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import Engine
from starlette.middleware.sessions import SessionMiddleware

from complaints.clock import now_utc
from complaints.config import SEVERITIES, ComplaintsSettings
from complaints.errors import ComplaintError, RecordNotFound, StaleRecord, TransitionRefused
from complaints.process import STATES, allowed_actions, choices_for
from complaints.users import ROLES, User, add_user, authenticate, get_user, list_users, set_user
from complaints.web.security import CSRF_FIELD, SecurityHeaders, SignInThrottle, csrf_ok, csrf_token, safe_next


class LoginRequired(Exception):
    """No one is signed in."""


class Forbidden(Exception):
    """Signed in, but the role does not allow this, or the CSRF token is missing or wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def create_app(engine: Engine, settings: ComplaintsSettings, *, session_secret: str | None = None) -> FastAPI:
    """The web app bound to one records database."""
    app = FastAPI(title="earful complaints", docs_url=None, redoc_url=None, openapi_url=None)
    secret = session_secret or (settings.web.session_secret.get_secret_value() if settings.web.session_secret
                                else secrets.token_urlsafe(48))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="earful_session",
                       max_age=settings.web.session_max_age_minutes * 60, same_site="strict",
                       https_only=settings.web.cookie_secure)
    app.state.engine = engine
    app.state.settings = settings
    app.state.throttle = SignInThrottle()
    # Autoescape everything: user and post text is only ever rendered as text.
    templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(str(files("complaints").joinpath("templates"))),
                                                autoescape=True))
    app.mount("/static", StaticFiles(directory=str(files("complaints").joinpath("static"))), name="static")

    def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
        context = {"user": getattr(request.state, "user", None), "csrf": csrf_token(request), **context}
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    # ---- who is asking ------------------------------------------------------------------------------------

    def reader(request: Request) -> User:
        username = request.session.get("user")
        user = get_user(engine, username) if username else None
        if user is None or not user.active:
            request.session.clear()
            raise LoginRequired()
        request.state.user = user
        return user

    def writer(user: User = Depends(reader)) -> User:
        if not user.can_write:
            raise Forbidden(f"your role ({user.role}) may read records but not change them")
        return user

    def admin(user: User = Depends(reader)) -> User:
        if not user.is_admin:
            raise Forbidden("only an admin may manage users")
        return user

    async def form_with_csrf(request: Request) -> dict[str, str]:
        form = await request.form()
        if not csrf_ok(request, form.get(CSRF_FIELD)):
            raise Forbidden("the form's security token (CSRF) is missing or wrong; reload the page and try again")
        return {k: v for k, v in form.items() if k != CSRF_FIELD and isinstance(v, str)}

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        if request.method != "GET":
            return PlainTextResponse("sign in first", status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", {"title": "Not allowed", "message": exc.message}, 403)

    @app.exception_handler(RecordNotFound)
    async def _not_found(request: Request, exc: RecordNotFound) -> Response:
        return render(request, "error.html", {"title": "Not found", "message": str(exc)}, 404)

    # ---- sign-in ------------------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002
        return render(request, "login.html", {"next": safe_next(next), "error": None})

    @app.post("/login")
    async def login(request: Request, form: dict[str, str] = Depends(form_with_csrf)) -> Response:
        username = form.get("username", "").strip().lower()
        target = safe_next(form.get("next"))
        throttle: SignInThrottle = app.state.throttle
        if throttle.blocked(username):
            return render(request, "login.html", {"next": target, "error": "Too many failed attempts; wait 15 minutes."},
                          429)
        user = authenticate(engine, username, form.get("password", ""))
        if user is None:
            throttle.failed(username)
            return render(request, "login.html", {"next": target, "error": "Wrong user name or password."}, 401)
        throttle.succeeded(username)
        request.session.clear()  # a fresh session (and CSRF token) at every sign-in
        request.session["user"] = user.username
        return RedirectResponse(target, status_code=303)

    @app.post("/logout")
    async def logout(request: Request, _form: dict[str, str] = Depends(form_with_csrf)) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz() -> str:
        return "ok"

    # ---- queue and records --------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def queue(request: Request, user: User = Depends(reader), status: str = "", overdue: str = "",
              severity: str = "", language: str = "", topic: str = "", channel: str = "", open: str = "",  # noqa: A002
              page: int = 1) -> Response:
        from complaints.register import QueueFilter, distinct_values, list_records

        filters = QueueFilter(status=status or None, overdue=overdue == "1", severity=severity or None,
                              language=language or None, topic=topic or None, channel=channel or None,
                              open_only=open == "1")
        size = settings.web.page_size
        page = max(page, 1)
        rows, total = list_records(engine, filters, limit=size, offset=(page - 1) * size)
        params = {k: v for k, v in dict(status=status, overdue=overdue, severity=severity, language=language,
                                        topic=topic, channel=channel, open=open).items() if v}
        return render(request, "queue.html", {
            "rows": rows, "total": total, "filters": params, "page": page, "pages": max(1, -(-total // size)),
            "query": urlencode(params), "states": STATES, "severities": SEVERITIES,
            "languages": distinct_values(engine, "language"), "topics": distinct_values(engine, "topic"),
            "channels": distinct_values(engine, "channel"),
        })

    def record_page(request: Request, ref: str, *, error: str | None = None, status_code: int = 200,
                    values: dict[str, str] | None = None, failed_action: str | None = None) -> Response:
        from complaints.register import get_events, get_links, get_record

        record = get_record(engine, ref)
        mentions, alerts = get_links(engine, record["id"])
        actions = allowed_actions(record["status"]) if request.state.user.can_write else []
        return render(request, "record.html", {
            "r": record, "events": get_events(engine, ref), "mentions": mentions, "alerts": alerts,
            "actions": actions, "choices": {s.name: choices_for(s, settings) for a in actions for s in a.fields},
            "error": error, "values": values or {}, "failed_action": failed_action,
            "overdue": _is_overdue(record),
        }, status_code)

    @app.get("/complaints/{ref}", response_class=HTMLResponse)
    def record(request: Request, ref: str, _user: User = Depends(reader)) -> Response:
        return record_page(request, ref)

    @app.post("/complaints/{ref}/actions/{action}")
    async def act(request: Request, ref: str, action: str, user: User = Depends(writer),
                  form: dict[str, str] = Depends(form_with_csrf)) -> Response:
        from complaints.register import apply_action

        version = form.pop("version", "")
        if not version.isdigit():
            return record_page(request, ref, error="the form lacks the record version; reload the page", status_code=400)
        try:
            apply_action(engine, settings, ref, action, form, actor=user.username, expected_version=int(version))
        except StaleRecord as exc:
            return record_page(request, ref, error=str(exc), status_code=409, values=form, failed_action=action)
        except TransitionRefused as exc:
            return record_page(request, ref, error=str(exc), status_code=422, values=form, failed_action=action)
        return RedirectResponse(f"/complaints/{quote(ref)}", status_code=303)

    @app.get("/new", response_class=HTMLResponse)
    def new_page(request: Request, _user: User = Depends(writer)) -> Response:
        return render(request, "new.html", {"error": None, "values": {}, "settings": settings})

    @app.post("/new")
    async def new(request: Request, user: User = Depends(writer),
                  form: dict[str, str] = Depends(form_with_csrf)) -> Response:
        from complaints.intake import open_manual

        try:
            ref = open_manual(engine, settings, form, actor=user.username)
        except ComplaintError as exc:
            return render(request, "new.html", {"error": str(exc), "values": form, "settings": settings}, 422)
        return RedirectResponse(f"/complaints/{quote(ref)}", status_code=303)

    # ---- users ----------------------------------------------------------------------------------------------

    @app.get("/users", response_class=HTMLResponse)
    def users_page(request: Request, _user: User = Depends(admin)) -> Response:
        return render(request, "users.html", {"users": list_users(engine), "roles": ROLES, "error": None})

    @app.post("/users")
    async def users_post(request: Request, me: User = Depends(admin),
                         form: dict[str, str] = Depends(form_with_csrf)) -> Response:
        try:
            if form.get("op") == "add":
                add_user(engine, form.get("username", "").strip().lower(), form.get("password", ""),
                         form.get("role", ""))
            else:
                name = form.get("username", "")
                if name == me.username:
                    raise ComplaintError("you cannot change your own role or deactivate yourself")
                set_user(engine, name, role=form.get("role") or None,
                         active={"1": True, "0": False}.get(form.get("active", "")))
        except ComplaintError as exc:
            return render(request, "users.html", {"users": list_users(engine), "roles": ROLES, "error": str(exc)}, 422)
        return RedirectResponse("/users", status_code=303)

    # ---- reports --------------------------------------------------------------------------------------------

    def _period(start: str, end: str) -> tuple[date, date]:
        today = now_utc().date()
        try:
            d_end = date.fromisoformat(end) if end else today
            d_start = date.fromisoformat(start) if start else d_end - timedelta(days=89)
        except ValueError:
            raise Forbidden("dates must be given as YYYY-MM-DD") from None
        if d_start > d_end:
            d_start, d_end = d_end, d_start
        return d_start, d_end

    @app.get("/reports", response_class=HTMLResponse)
    def report_page(request: Request, _user: User = Depends(reader), start: str = "", end: str = "") -> Response:
        from complaints.reports import build_report, charts, period_bounds

        d_start, d_end = _period(start, end)
        rep = build_report(engine, settings, *period_bounds(d_start, d_end))
        return render(request, "report.html", {"rep": rep, "charts": charts(rep), "start": d_start, "end": d_end})

    @app.get("/reports.csv")
    def report_csv(_user: User = Depends(reader), start: str = "", end: str = "") -> Response:
        from complaints.reports import build_report, period_bounds, render_csv

        d_start, d_end = _period(start, end)
        rep = build_report(engine, settings, *period_bounds(d_start, d_end))
        return Response(render_csv(rep), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="complaints-{d_start}-{d_end}.csv"'})

    return app


def _is_overdue(record: dict[str, Any]) -> bool:
    from complaints.deadlines import overdue_now

    return overdue_now(record, now_utc())
