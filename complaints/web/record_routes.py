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
from earful_complaints.process import RESPONSE_CHANNELS, STATES, allowed_actions, choices_for, primary_action
from earful_complaints.users import User, staff_names
from earful_complaints.web.deps import BadInput, context, reader, render, signed_in_form, writer

router = APIRouter()
MAX_PAGE = 100_000


QUEUE_PARAMS = ("q", "status", "overdue", "soon", "severity", "language", "topic", "channel", "owner", "mine", "open")
BULK_ACTIONS = ("acknowledge", "set_owner")


@router.get("/")
def queue(
    request: Request,
    user: User = Depends(reader),
    q: str = Query("", max_length=200),
    status: str = "",
    overdue: str = "",
    soon: str = "",
    severity: str = "",
    language: str = "",
    topic: str = "",
    channel: str = "",
    owner: str = "",
    mine: str = "",
    open: str = "",  # noqa: A002 - the query parameter's name in the URL (?open=1)
    sort: str = "due_response",
    dir: str = "asc",  # noqa: A002 - the query parameter's name in the URL (?dir=desc)
    page: int = Query(1, ge=1, le=MAX_PAGE),
) -> Response:
    params = {
        "q": q.strip(), "status": status, "overdue": overdue, "soon": soon, "severity": severity,
        "language": language, "topic": topic, "channel": channel, "owner": owner, "mine": mine, "open": open,
    }  # fmt: skip
    return _queue_page(request, user, {k: v for k, v in params.items() if v}, sort, dir, page)


def _queue_page(
    request: Request,
    user: User,
    params: dict[str, str],
    sort: str,
    direction: str,
    page: int,
    notice: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    from earful_complaints.register import SORTABLE, QueueFilter, distinct_values, list_records

    ctx = context(request)
    sort = sort if sort in SORTABLE else "due_response"
    direction = "desc" if direction == "desc" else "asc"
    filters = QueueFilter(
        status=params.get("status"),
        overdue=params.get("overdue") == "1",
        due_soon_hours=ctx.settings.due_soon_hours if params.get("soon") == "1" else None,
        severity=params.get("severity"),
        language=params.get("language"),
        topic=params.get("topic"),
        channel=params.get("channel"),
        owner=user.username if params.get("mine") == "1" else params.get("owner"),
        open_only=params.get("open") == "1",
        text=params.get("q"),
        sort=sort,
        descending=direction == "desc",
    )
    size = ctx.settings.web.page_size
    rows, total = list_records(
        ctx.engine, filters, limit=size, offset=(page - 1) * size, due_soon_hours=ctx.settings.due_soon_hours
    )
    staff = staff_names(ctx.engine)
    return render(
        request,
        "queue.html",
        {
            "rows": rows,
            "total": total,
            "filters": params,
            "page": page,
            "pages": max(1, -(-total // size)),
            "query": urlencode({**params, "sort": sort, "dir": direction}),
            "filter_query": urlencode(params),
            "sort": sort,
            "dir": direction,
            "states": STATES,
            "severities": SEVERITIES,
            "languages": distinct_values(ctx.engine, "language"),
            "topics": distinct_values(ctx.engine, "topic"),
            "channels": distinct_values(ctx.engine, "channel"),
            "owners": distinct_values(ctx.engine, "owner"),
            "staff": staff,
            "response_channels": RESPONSE_CHANNELS,
            "due_soon_hours": ctx.settings.due_soon_hours,
            "notice": notice or [],
            "return_to": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        },
        status_code,
    )


@router.post("/bulk")
def bulk(request: Request, user: User = Depends(writer), form: dict[str, str] = Depends(signed_in_form)) -> Response:
    """Acknowledge or give an owner to the ticked records, each at the version the queue showed (one result each)."""
    from earful_complaints.register import apply_action

    ctx = context(request)
    action = form.pop("bulk_action", "")
    picks = {k.removeprefix("pick:"): v for k, v in form.items() if k.startswith("pick:")}
    if action not in BULK_ACTIONS:
        raise BadInput(f"bulk action must be one of {', '.join(BULK_ACTIONS)}")
    if not picks:
        raise BadInput("tick at least one record for the bulk action")
    values = (
        {"ack_channel": form.get("ack_channel", ""), "ack_text": form.get("ack_text", "")}
        if action == "acknowledge"
        else {"owner": form.get("owner", "")}
    )
    notice, done = [], 0
    for ref, version in picks.items():
        if not version.isdigit() or len(version) > 9:
            notice.append(f"{ref}: the form lacks the record version; nothing was saved")
            continue
        try:
            apply_action(
                ctx.engine, ctx.settings, ref, action, values, actor=user.username, expected_version=int(version)
            )
            done += 1
        except ComplaintError as exc:
            notice.append(f"{ref[:40]}: {exc}")
    verb = "acknowledged" if action == "acknowledge" else "given an owner"
    notice.insert(0, f"{done} of {len(picks)} record{'' if len(picks) == 1 else 's'} {verb}.")
    return _queue_page(
        request, user, {"open": "1"}, "due_response", "asc", 1, notice, 200 if done == len(picks) else 422
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
    from earful_complaints.communications import PURPOSES, get_communications
    from earful_complaints.register import get_events, get_links, get_record
    from earful_complaints.viewlog import log_view, recent_views

    ctx = context(request)
    record = get_record(ctx.engine, ref)
    if status_code == 200:  # a page view, not a form shown again after a refusal
        log_view(ctx.engine, record["id"], request.state.user.username, now_utc())
    mentions, alerts = get_links(ctx.engine, record["id"])
    actions = allowed_actions(record["status"]) if request.state.user.can_write else []
    primary = primary_action(record) if actions else None
    staff = staff_names(ctx.engine)
    values = values or {}
    return render(
        request,
        "record.html",
        {
            "r": record,
            "events": get_events(ctx.engine, ref),
            "mentions": mentions,
            "alerts": alerts,
            "actions": actions,
            "primary": next((a for a in actions if a.name == primary), None),
            "secondary": [a for a in actions if a.name != primary],
            "choices": {s.name: choices_for(s, ctx.settings, staff=staff) for a in actions for s in a.fields},
            "error": error,
            "values": values,
            "failed_action": failed_action,
            # Typed text of a form that is no longer offered (the record moved on): shown so it is not lost.
            "orphaned": values
            if failed_action and failed_action not in {a.name for a in actions} | {"send", "log"}
            else {},
            "overdue": _is_overdue(record),
            "due_soon": _is_due_soon(record, ctx.settings.due_soon_hours),
            "comms": get_communications(ctx.engine, record["id"]),
            "views": recent_views(ctx.engine, record["id"], 10),
            "mail_ready": ctx.mail is not None,
            "purposes": tuple(PURPOSES),
            "response_channels": RESPONSE_CHANNELS,
        },
        status_code,
    )


@router.get("/complaints/{ref}")
def record(request: Request, ref: str, _user: User = Depends(reader)) -> Response:
    return record_page(request, ref)


def _version(form: dict[str, str]) -> int | None:
    version = form.pop("version", "")
    return int(version) if version.isdigit() and len(version) <= 9 else None


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
    version = _version(form)
    if version is None:
        return record_page(request, ref, error="the form lacks the record version; reload the page", status_code=400)
    try:
        apply_action(ctx.engine, ctx.settings, ref, action, form, actor=user.username, expected_version=version)
    except StaleRecord as exc:
        return record_page(request, ref, error=str(exc), status_code=409, values=form, failed_action=action)
    except TransitionRefused as exc:
        return record_page(request, ref, error=str(exc), status_code=422, values=form, failed_action=action)
    return RedirectResponse(f"/complaints/{quote(ref)}", status_code=303)


@router.post("/complaints/{ref}/communications")
def log_entry(
    request: Request, ref: str, user: User = Depends(writer), form: dict[str, str] = Depends(signed_in_form)
) -> Response:
    """Log a communication that happened elsewhere (a call, a letter, a reply received)."""
    from earful_complaints.communications import log_communication

    ctx = context(request)
    form.pop("version", None)
    try:
        log_communication(
            ctx.engine,
            ctx.settings,
            ref,
            direction=form.get("direction", ""),
            channel=form.get("channel", ""),
            text=form.get("text", ""),
            counterpart=form.get("counterpart") or None,
            subject=form.get("subject") or None,
            actor=user.username,
        )
    except ComplaintError as exc:
        return record_page(request, ref, error=str(exc), status_code=422, values=form, failed_action="log")
    return RedirectResponse(f"/complaints/{quote(ref)}#communications", status_code=303)


@router.post("/complaints/{ref}/send")
def send(
    request: Request, ref: str, user: User = Depends(writer), form: dict[str, str] = Depends(signed_in_form)
) -> Response:
    """E-mail the complainant through the configured channel; an acknowledgement or decision takes that step."""
    from earful_complaints.communications import SendFailed, send_email

    ctx = context(request)
    version = _version(form)
    if version is None:
        return record_page(request, ref, error="the form lacks the record version; reload the page", status_code=400)
    try:
        send_email(
            ctx.engine,
            ctx.settings,
            ctx.mail,
            ref,
            purpose=form.get("purpose", ""),
            subject=form.get("subject", ""),
            text=form.get("text", ""),
            actor=user.username,
            expected_version=version,
            ssl_context=ctx.mail_ssl,
        )
    except StaleRecord as exc:
        return record_page(request, ref, error=str(exc), status_code=409, values=form, failed_action="send")
    except SendFailed as exc:
        return record_page(request, ref, error=str(exc), status_code=502, values=form, failed_action="send")
    except ComplaintError as exc:
        return record_page(request, ref, error=str(exc), status_code=422, values=form, failed_action="send")
    return RedirectResponse(f"/complaints/{quote(ref)}#communications", status_code=303)


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


def _is_due_soon(record: dict[str, Any], hours: float) -> bool:
    from earful_complaints.deadlines import due_soon

    return due_soon(record, now_utc(), hours)
