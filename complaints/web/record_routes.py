"""The work queue, record pages with the allowed next steps, and manual intake."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from earful_complaints.clock import now_utc
from earful_complaints.config import SEVERITIES
from earful_complaints.errors import ComplaintError, StaleRecord, TransitionRefused
from earful_complaints.languages import LANGUAGES
from earful_complaints.process import STATES, allowed_actions, choices_for
from earful_complaints.users import User, staff_names
from earful_complaints.web.deps import context, reader, render, signed_in_form, writer

router = APIRouter()
MAX_PAGE = 100_000


@router.get("/")
def queue(
    request: Request,
    user: User = Depends(reader),  # noqa: ARG001 - the dependency is the sign-in check
    status: str = "",
    overdue: str = "",
    severity: str = "",
    language: str = "",
    topic: str = "",
    channel: str = "",
    open: str = "",  # noqa: A002
    page: int = Query(1, ge=1, le=MAX_PAGE),
) -> Response:
    from earful_complaints.register import QueueFilter, distinct_values, list_records

    ctx = context(request)
    filters = QueueFilter(
        status=status or None,
        overdue=overdue == "1",
        severity=severity or None,
        language=language or None,
        topic=topic or None,
        channel=channel or None,
        open_only=open == "1",
    )
    size = ctx.settings.web.page_size
    rows, total = list_records(ctx.engine, filters, limit=size, offset=(page - 1) * size)
    params = {
        k: v
        for k, v in dict(
            status=status,
            overdue=overdue,
            severity=severity,
            language=language,
            topic=topic,
            channel=channel,
            open=open,
        ).items()
        if v
    }
    return render(
        request,
        "queue.html",
        {
            "rows": rows,
            "total": total,
            "filters": params,
            "page": page,
            "pages": max(1, -(-total // size)),
            "query": urlencode(params),
            "states": STATES,
            "severities": SEVERITIES,
            "languages": distinct_values(ctx.engine, "language"),
            "topics": distinct_values(ctx.engine, "topic"),
            "channels": distinct_values(ctx.engine, "channel"),
        },
    )


def record_page(
    request: Request,
    ref: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    failed_action: str | None = None,
) -> Response:
    from earful_complaints.register import get_events, get_links, get_record

    ctx = context(request)
    record = get_record(ctx.engine, ref)
    mentions, alerts = get_links(ctx.engine, record["id"])
    actions = allowed_actions(record["status"]) if request.state.user.can_write else []
    staff = staff_names(ctx.engine)
    return render(
        request,
        "record.html",
        {
            "r": record,
            "events": get_events(ctx.engine, ref),
            "mentions": mentions,
            "alerts": alerts,
            "actions": actions,
            "choices": {s.name: choices_for(s, ctx.settings, staff=staff) for a in actions for s in a.fields},
            "error": error,
            "values": values or {},
            "failed_action": failed_action,
            "overdue": _is_overdue(record),
        },
        status_code,
    )


@router.get("/complaints/{ref}")
def record(request: Request, ref: str, _user: User = Depends(reader)) -> Response:
    return record_page(request, ref)


@router.post("/complaints/{ref}/actions/{action}")
def act(
    request: Request,
    ref: str,
    action: str,
    user: User = Depends(writer),
    form: dict[str, str] = Depends(signed_in_form),
) -> Response:
    from earful_complaints.register import apply_action

    ctx = context(request)
    version = form.pop("version", "")
    if not version.isdigit() or len(version) > 9:
        return record_page(request, ref, error="the form lacks the record version; reload the page", status_code=400)
    try:
        apply_action(ctx.engine, ctx.settings, ref, action, form, actor=user.username, expected_version=int(version))
    except StaleRecord as exc:
        return record_page(request, ref, error=str(exc), status_code=409, values=form, failed_action=action)
    except TransitionRefused as exc:
        return record_page(request, ref, error=str(exc), status_code=422, values=form, failed_action=action)
    return RedirectResponse(f"/complaints/{quote(ref)}", status_code=303)


def _new_page(request: Request, error: str | None, values: dict[str, str], status_code: int = 200) -> Response:
    return render(
        request,
        "new.html",
        {"error": error, "values": values, "settings": context(request).settings, "languages": LANGUAGES},
        status_code,
    )


@router.get("/new")
def new_page(request: Request, _user: User = Depends(writer)) -> Response:
    return _new_page(request, None, {})


@router.post("/new")
def new(request: Request, user: User = Depends(writer), form: dict[str, str] = Depends(signed_in_form)) -> Response:
    from earful_complaints.intake import open_manual

    ctx = context(request)
    try:
        ref = open_manual(ctx.engine, ctx.settings, form, actor=user.username)
    except ComplaintError as exc:
        return _new_page(request, str(exc), form, 422)
    return RedirectResponse(f"/complaints/{quote(ref)}", status_code=303)


def _is_overdue(record: dict[str, Any]) -> bool:
    from earful_complaints.deadlines import overdue_now

    return overdue_now(record, now_utc())
