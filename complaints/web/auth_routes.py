"""Sign-in, sign-out and the health check.

The sign-in route is a plain `def`: FastAPI runs it in a worker thread, so argon2 never blocks the event loop
(other requests, /healthz included, are answered while passwords are being checked).
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from earful_complaints.sessions import end_session, open_session, purge_expired
from earful_complaints.web.deps import context, render, signed_in_form, signin_form
from earful_complaints.web.security import SESSION_COOKIE, safe_next

router = APIRouter()


def client_address(request: Request) -> str:
    """The client's address (the proxy's X-Forwarded-For when it is a trusted one, see web.trusted_proxies)."""
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login")
def login(request: Request, form: dict[str, str] = Depends(signin_form)) -> Response:
    ctx = context(request)
    username = form.get("username", "").strip().lower()[:100]
    target = safe_next(form.get("next"))
    client = client_address(request)
    wait = ctx.throttle.attempt(username, client, ctx.clock())
    if wait > 0:
        seconds = math.ceil(wait)
        refused = render(
            request,
            "login.html",
            {"next": target, "error": f"Too many failed sign-ins; wait {seconds} seconds and try again."},
            429,
        )
        refused.headers["Retry-After"] = str(seconds)
        return refused
    user = ctx.verifier.authenticate(ctx.engine, username, form.get("password", ""))
    if user is None:
        return render(request, "login.html", {"next": target, "error": "Wrong user name or password."}, 401)
    ctx.throttle.succeeded(username, client)
    # A new session (and CSRF token) at every sign-in; the old one, if any, ends.
    end_session(ctx.engine, request.cookies.get(SESSION_COOKIE))
    now = ctx.clock()
    token, _ = open_session(ctx.engine, user.username, now=now)
    # Housekeeping while someone is here anyway: ended sessions and stale failure counts go.
    purge_expired(ctx.engine, now=now, idle=ctx.idle, absolute=ctx.absolute)
    ctx.throttle.purge(now)
    if target == "/" and user.role == "comms":
        target = "/dashboard"  # communication teams start on the listening dashboard, quality staff on the queue
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.web.cookie_secure,
        path="/",
        max_age=ctx.settings.web.session_max_age_minutes * 60,
    )
    return response


@router.post("/logout")
def logout(request: Request, _form: dict[str, str] = Depends(signed_in_form)) -> Response:
    end_session(context(request).engine, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/healthz", response_class=PlainTextResponse)
async def healthz() -> str:
    return "ok"
