"""The alerts page: the outbox by state with why each alert fired, one alert with its deliveries and the
incident history of its rule and topic, and retry for parked deliveries."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from earful_complaints.users import User
from earful_complaints.web.dash_deps import dashboard_actor
from earful_complaints.web.deps import BadInput, context, reader, render, signed_in_form

router = APIRouter()


@router.get("/alerts")
def alerts_page(request: Request, _user: User = Depends(reader), state: str = "", topic: str = "") -> Response:
    from earful_alerts.dashboard_queries import OUTBOX_STATES, outbox

    if state and state not in OUTBOX_STATES:
        raise BadInput(f"state must be one of {', '.join(OUTBOX_STATES)}")
    rows = outbox(context(request).engine, state=state or None, topic=topic[:200] or None)
    return render(request, "dash/alerts.html", {"rows": rows, "state": state, "topic": topic, "states": OUTBOX_STATES})


def _detail_or_404(request: Request, alert_id: str) -> dict:
    from earful_alerts.queries import AlertNotFound, alert_detail

    try:
        return alert_detail(context(request).engine, alert_id[:40])
    except AlertNotFound as exc:
        raise BadInput(str(exc), 404) from None


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, alert_id: str, _user: User = Depends(reader), retried: str = "") -> Response:
    from datetime import UTC, datetime

    from earful_alerts.dashboard_queries import incident_history, outbox_state

    detail = _detail_or_404(request, alert_id)
    notice = None
    if retried.isdigit():
        n = int(retried)
        notice = f"{n} parked deliver{'y' if n == 1 else 'ies'} queued again; the next run sends them."
    return render(
        request,
        "dash/alert.html",
        {
            "a": detail,
            "details": detail["details"] or {},
            "state": outbox_state(detail, detail["deliveries"], datetime.now(UTC)),
            "history": incident_history(context(request).engine, detail),
            "notice": notice,
        },
    )


@router.post("/alerts/{alert_id}/retry")
def retry(
    request: Request,
    alert_id: str,
    _user: User = Depends(dashboard_actor),
    _form: dict[str, str] = Depends(signed_in_form),
) -> Response:
    from earful_alerts.sender import retry_parked

    detail = _detail_or_404(request, alert_id)
    count = retry_parked(context(request).engine, detail["id"])
    return RedirectResponse(f"/alerts/{quote(detail['id'])}?retried={count}", status_code=303)
