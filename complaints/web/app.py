"""The review web app: sign-in, the queue, record pages with the allowed next steps, users, reports.

Every route checks who is signed in and what their role allows (not only the menu), every form carries a CSRF
token, everything people or posts wrote is rendered as escaped text, and every response (errors included)
carries the security headers. The routes live in small modules: auth_routes, record_routes, user_routes,
report_routes; deps holds what they share.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import datetime
from importlib.resources import files
from typing import TYPE_CHECKING
from urllib.parse import quote

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from earful_complaints.clock import now_utc
from earful_complaints.config import ComplaintsSettings
from earful_complaints.errors import RecordNotFound
from earful_complaints.users import PasswordVerifier
from earful_complaints.web import (
    alert_routes,
    auth_routes,
    dashboard_routes,
    history,
    mention_routes,
    record_routes,
    report_routes,
    review_routes,
    user_routes,
)
from earful_complaints.web.dash_deps import DashboardIndex, add_dashboard_errors
from earful_complaints.web.deps import BadInput, Forbidden, LoginRequired, WebContext, render
from earful_complaints.web.security import FormNotSupported, FormTooLarge, SecurityHeaders, security_headers
from earful_complaints.web.throttle import SignInThrottle

if TYPE_CHECKING:
    from earful_alerts.config import EmailChannel


def create_app(
    engine: Engine,
    settings: ComplaintsSettings,
    *,
    clock: Callable[[], datetime] = now_utc,
    hasher: PasswordHasher | None = None,
    dashboard: DashboardIndex | None = None,
    mail: EmailChannel | None = None,
    mail_ssl: ssl.SSLContext | None = None,
) -> FastAPI:
    """The web app bound to one records database.

    `clock` is what sessions and sign-in throttling take as the time; `hasher` the argon2 hasher (tests pass
    instrumented ones); `dashboard` the mention index of the listening dashboard (None: its pages say so);
    `mail` the alerts e-mail channel that writes to complainants (None: sending is off), `mail_ssl` the TLS
    context for it (tests pass one trusting their server).
    """
    app = FastAPI(title="earful complaints", docs_url=None, redoc_url=None, openapi_url=None)
    # Autoescape everything: user and post text is only ever rendered as text.
    env = Environment(loader=FileSystemLoader(str(files("earful_complaints").joinpath("templates"))), autoescape=True)
    history.install(env)
    templates = Jinja2Templates(env=env)
    app.state.ctx = WebContext(
        engine=engine,
        settings=settings,
        templates=templates,
        verifier=PasswordVerifier(hasher),
        throttle=SignInThrottle(engine, settings.web.signin),
        clock=clock,
        mail=mail,
        mail_ssl=mail_ssl,
    )
    app.state.dashboard = dashboard
    app.add_middleware(SecurityHeaders)
    if settings.web.trusted_proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        # Outside SecurityHeaders: the client address is known before any route runs.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.web.trusted_proxies)
    app.mount("/static", StaticFiles(directory=str(files("earful_complaints").joinpath("static"))), name="static")
    for module in (auth_routes, record_routes, user_routes, report_routes, review_routes):
        app.include_router(module.router)
    for module in (dashboard_routes, mention_routes, alert_routes):
        app.include_router(module.router)
    _add_error_pages(app)
    add_dashboard_errors(app)
    return app


def _error_page(request: Request, title: str, message: str, status_code: int) -> Response:
    return render(request, "error.html", {"title": title, "message": message}, status_code)


def _add_error_pages(app: FastAPI) -> None:
    """Every refusal is a page that says what was wrong (never a traceback), with the security headers."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        if request.url.path == "/logout":  # the session has ended already: nothing to sign out of
            return RedirectResponse("/login", status_code=303)
        if request.method != "GET":
            return PlainTextResponse("sign in first", status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _error_page(request, "Not allowed", exc.message, 403)

    @app.exception_handler(RecordNotFound)
    async def _not_found(request: Request, exc: RecordNotFound) -> Response:
        return _error_page(request, "Not found", str(exc), 404)

    @app.exception_handler(BadInput)
    async def _bad_input(request: Request, exc: BadInput) -> Response:
        return _error_page(request, "Bad request", exc.message, exc.status_code)

    @app.exception_handler(FormTooLarge)
    async def _too_large(request: Request, _exc: FormTooLarge) -> Response:
        limit = request.app.state.ctx.settings.web.max_form_bytes
        return _error_page(request, "Too large", f"the form is larger than {limit} bytes; nothing was saved", 413)

    @app.exception_handler(FormNotSupported)
    async def _not_a_form(request: Request, _exc: FormNotSupported) -> Response:
        return _error_page(request, "Bad request", "expected an HTML form (application/x-www-form-urlencoded)", 415)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(x) for x in err.get("loc", ())[1:]) or "request"
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return _error_page(request, "Bad request", "; ".join(parts), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        return _error_page(request, title, str(exc.detail), exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> Response:
        # Runs outside every middleware (Starlette's ServerErrorMiddleware): add the headers here too.
        return PlainTextResponse(
            "internal error; the server log has the details",
            status_code=500,
            headers=security_headers(request.url.path),
        )
