"""The clause 8 report as a page and as CSV, for a period given as two dates."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from earful_complaints.clock import now_utc
from earful_complaints.errors import ComplaintError
from earful_complaints.reports import build_report, charts, check_period, period_bounds, render_csv
from earful_complaints.users import User
from earful_complaints.web.deps import BadInput, context, reader, render

router = APIRouter()


def _period(start: str, end: str) -> tuple[date, date]:
    try:
        return check_period(start or None, end or None, today=now_utc().date())
    except ComplaintError as exc:
        raise BadInput(str(exc)) from None


@router.get("/reports")
def report_page(request: Request, _user: User = Depends(reader), start: str = "", end: str = "") -> Response:
    ctx = context(request)
    d_start, d_end = _period(start, end)
    rep = build_report(ctx.engine, ctx.settings, *period_bounds(d_start, d_end))
    return render(request, "report.html", {"rep": rep, "charts": charts(rep), "start": d_start, "end": d_end})


@router.get("/reports.csv")
def report_csv(request: Request, _user: User = Depends(reader), start: str = "", end: str = "") -> Response:
    ctx = context(request)
    d_start, d_end = _period(start, end)
    rep = build_report(ctx.engine, ctx.settings, *period_bounds(d_start, d_end))
    return Response(
        render_csv(rep),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="complaints-{d_start}-{d_end}.csv"'},
    )
