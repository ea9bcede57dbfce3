"""User management (admins only). Plain `def` routes: argon2 hashing runs in a worker thread."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from earful_complaints.errors import ComplaintError
from earful_complaints.users import ROLES, User, add_user, list_users, set_user
from earful_complaints.web.deps import admin, context, render, signed_in_form

router = APIRouter()


def _page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    ctx = context(request)
    return render(
        request,
        "users.html",
        {
            "users": list_users(ctx.engine),
            "roles": ROLES,
            "error": error,
            "min_length": ctx.settings.limits.password_min_length,
        },
        status_code,
    )


@router.get("/users")
def users_page(request: Request, _user: User = Depends(admin)) -> Response:
    return _page(request)


@router.post("/users")
def users_post(request: Request, me: User = Depends(admin), form: dict[str, str] = Depends(signed_in_form)) -> Response:
    ctx = context(request)
    limits = ctx.settings.limits
    try:
        if form.get("op") == "add":
            add_user(
                ctx.engine,
                form.get("username", "").strip().lower(),
                form.get("password", ""),
                form.get("role", ""),
                limits=limits,
                hasher=ctx.verifier.hasher,
            )
        else:
            name = form.get("username", "")
            if name == me.username:
                raise ComplaintError("you cannot change your own role or deactivate yourself")
            set_user(
                ctx.engine,
                name,
                limits=limits,
                role=form.get("role") or None,
                active={"1": True, "0": False}.get(form.get("active", "")),
            )
    except ComplaintError as exc:
        return _page(request, str(exc), 422)
    return RedirectResponse("/users", status_code=303)
