"""What every route of the web app shares: the app's context, rendering, who is asking, and posted forms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from earful_complaints.config import ComplaintsSettings
from earful_complaints.sessions import Session, load_session
from earful_complaints.users import PasswordVerifier, User, get_user
from earful_complaints.web.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SIGNIN_CSRF_COOKIE,
    new_csrf_token,
    read_form,
    tokens_match,
)
from earful_complaints.web.throttle import SignInThrottle


class LoginRequired(Exception):
    """No one is signed in (or the session ended)."""


class Forbidden(Exception):
    """Signed in, but the role does not allow this, or the CSRF token is missing or wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(Exception):
    """A query parameter or form value is malformed or out of range (400)."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


@dataclass
class WebContext:
    """Everything the routes need, built once by create_app."""

    engine: Engine
    settings: ComplaintsSettings
    templates: Jinja2Templates
    verifier: PasswordVerifier
    throttle: SignInThrottle
    clock: Callable[[], datetime]
    mail: Any = None  # earful_alerts.config.EmailChannel: writes to complainants (None: sending is off)
    mail_ssl: Any = None  # ssl.SSLContext for it (None: the system's trust store)

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.settings.web.session_idle_minutes)

    @property
    def absolute(self) -> timedelta:
        return timedelta(minutes=self.settings.web.session_max_age_minutes)


def context(request: Request) -> WebContext:
    """The app's context."""
    return request.app.state.ctx


def csrf_for(request: Request) -> str:
    """The CSRF token forms on this page carry: the session's, or (signed out) the sign-in cookie's."""
    session: Session | None = getattr(request.state, "session", None)
    if session is not None:
        return session.csrf
    token = request.cookies.get(SIGNIN_CSRF_COOKIE)
    if not token or len(token) > 100:
        token = getattr(request.state, "new_signin_csrf", None) or new_csrf_token()
        request.state.new_signin_csrf = token
    return token


def render(request: Request, name: str, values: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A page from the templates (autoescaped), with the user and the CSRF token."""
    ctx = context(request)
    csrf = csrf_for(request)
    response = ctx.templates.TemplateResponse(
        request, name, {"user": getattr(request.state, "user", None), "csrf": csrf, **values}, status_code=status_code
    )
    new_token = getattr(request.state, "new_signin_csrf", None)
    if new_token:
        response.set_cookie(
            SIGNIN_CSRF_COOKIE,
            new_token,
            httponly=True,
            samesite="strict",
            secure=ctx.settings.web.cookie_secure,
            path="/",
        )
    return response


def reader(request: Request) -> User:
    """The signed-in user (any role); LoginRequired when there is no live session."""
    ctx = context(request)
    session = load_session(
        ctx.engine, request.cookies.get(SESSION_COOKIE), now=ctx.clock(), idle=ctx.idle, absolute=ctx.absolute
    )
    user = get_user(ctx.engine, session.username) if session else None
    if user is None or not user.active:
        raise LoginRequired()
    request.state.session = session
    request.state.user = user
    return user


def writer(user: User = Depends(reader)) -> User:
    """The signed-in user, who must be allowed to change records."""
    if not user.can_write:
        raise Forbidden(f"your role ({user.role}) may read records but not change them")
    return user


def admin(user: User = Depends(reader)) -> User:
    """The signed-in user, who must be an admin."""
    if not user.is_admin:
        raise Forbidden("only an admin may manage users")
    return user


_CSRF_MESSAGE = "the form's security token (CSRF) is missing or wrong; reload the page and try again"


async def signed_in_form(request: Request, _user: User = Depends(reader)) -> dict[str, str]:
    """The posted form of a signed-in page, once its CSRF token matched the session's."""
    form = await read_form(request, context(request).settings.web.max_form_bytes)
    session: Session | None = getattr(request.state, "session", None)
    if session is None or not tokens_match(session.csrf, form.pop(CSRF_FIELD, None)):
        raise Forbidden(_CSRF_MESSAGE)
    return form


async def signin_form(request: Request) -> dict[str, str]:
    """The posted sign-in form, once its CSRF token matched the sign-in cookie."""
    form = await read_form(request, context(request).settings.web.max_form_bytes)
    if not tokens_match(request.cookies.get(SIGNIN_CSRF_COOKIE), form.pop(CSRF_FIELD, None)):
        raise Forbidden(_CSRF_MESSAGE)
    return form
