"""Management review records, the improvement-actions register, and the audit-chain check (`verify`) for quality
staff in the web app."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from earful_complaints.errors import ComplaintError
from earful_complaints.review import IMPROVEMENT_STATUSES
from earful_complaints.users import User, staff_names
from earful_complaints.web.deps import context, reader, render, signed_in_form, writer

router = APIRouter()


def _page(
    request: Request, error: str | None = None, values: dict[str, str] | None = None, code: int = 200
) -> Response:
    from earful_complaints.review import list_improvements, list_reviews

    ctx = context(request)
    return render(
        request,
        "review.html",
        {
            "reviews": list_reviews(ctx.engine),
            "improvements": list_improvements(ctx.engine),
            "staff": staff_names(ctx.engine),
            "statuses": IMPROVEMENT_STATUSES,
            "error": error,
            "values": values or {},
        },
        code,
    )


@router.get("/reviews")
def reviews(request: Request, _user: User = Depends(reader)) -> Response:
    return _page(request)


@router.post("/reviews")
def add_review(
    request: Request, user: User = Depends(writer), form: dict[str, str] = Depends(signed_in_form)
) -> Response:
    from earful_complaints.review import add_review as add

    try:
        add(context(request).engine, context(request).settings, form, actor=user.username)
    except ComplaintError as exc:
        return _page(request, str(exc), {f"review_{k}": v for k, v in form.items()}, 422)
    return RedirectResponse("/reviews", status_code=303)


@router.post("/improvements")
def add_improvement(
    request: Request, user: User = Depends(writer), form: dict[str, str] = Depends(signed_in_form)
) -> Response:
    from earful_complaints.review import add_improvement as add

    ctx = context(request)
    try:
        add(ctx.engine, ctx.settings, form, actor=user.username, staff=staff_names(ctx.engine))
    except ComplaintError as exc:
        return _page(request, str(exc), {f"imp_{k}": v for k, v in form.items()}, 422)
    return RedirectResponse("/reviews#improvements", status_code=303)


@router.post("/improvements/{improvement_id}")
def check_improvement(
    request: Request, improvement_id: int, user: User = Depends(writer), form: dict[str, str] = Depends(signed_in_form)
) -> Response:
    from earful_complaints.review import check_improvement as check

    ctx = context(request)
    try:
        check(ctx.engine, ctx.settings, improvement_id, form, actor=user.username)
    except ComplaintError as exc:
        return _page(request, str(exc), {}, 422)
    return RedirectResponse("/reviews#improvements", status_code=303)


@router.get("/verify")
def verify_page(request: Request, _user: User = Depends(writer)) -> Response:
    """Check the hash chain and every record against its replay, as `earful complaints verify` does."""
    from earful_complaints.audit import verify

    report = verify(context(request).engine)
    return render(request, "verify.html", {"report": report}, 200 if report.ok else 409)
