"""The listening dashboard's overview: per topic and period, every figure from one aggregation request."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from earful_complaints.users import User
from earful_complaints.web.charts import sentiment_chart, share_chart, volume_chart
from earful_complaints.web.dash_deps import PERIODS, index_of, period_bounds
from earful_complaints.web.deps import context, reader, render

router = APIRouter()


@router.get("/dashboard")
def dashboard(
    request: Request,
    _user: User = Depends(reader),
    topic: str = "",
    period: str = "7d",
    start: str = "",
    end: str = "",
) -> Response:
    from earful_alerts.dashboard_queries import spikes_between
    from earful_indexer.dashboard import Period, overview

    ctx = context(request)
    index = index_of(request)
    first, last = period_bounds(period, start, end, ctx.clock())
    topic = topic[:200]
    # One index request for the whole page: the topic menu is the configured topics and those in the period.
    view = overview(index.es, index.alias, Period(first, last), topic=topic or None)
    known = sorted(set(index.topics) | {name for name, _ in view.share_of_voice} | ({topic} if topic else set()))
    spikes = spikes_between(ctx.engine, first, last, topic or None)
    marks = [(s["window_start"], f"alert: {s['title']} — {s['summary']}", f"/alerts/{s['id']}") for s in spikes]
    volume = volume_chart([(at, n) for at, n, _ in view.volume], view.interval, marks)
    params = {k: v for k, v in {"topic": topic, "period": period, "start": start, "end": end}.items() if v}
    return render(
        request,
        "dash/overview.html",
        {
            "topic": topic,
            "topics": known,
            "period": period,
            "periods": list(PERIODS),
            "start": start or first.strftime("%Y-%m-%d"),
            "end": end or last.strftime("%Y-%m-%d"),
            "first": first,
            "last": last,
            "view": view,
            "spikes": spikes,
            "volume": volume,
            "sentiment": sentiment_chart(view.volume, view.interval),
            "languages": share_chart(view.languages, view.total),
            "sources": share_chart(view.sources, view.total),
            "channels": share_chart(view.channels, view.total),
            "sentiment_share": share_chart(view.sentiment, view.total),
            "share_of_voice": share_chart(view.share_of_voice),
            "step_hours": view.interval.total_seconds() / 3600,
            "mentions_query": urlencode({k: v for k, v in {"topic": topic}.items() if v}),
            "query": urlencode(params),
        },
    )
