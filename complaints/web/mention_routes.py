"""The mentions list (topic query language, filters, search_after paging), one mention, and what people do with
it: open a complaint record from it, and correct a label that is wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from earful_complaints.users import User
from earful_complaints.web.dash_deps import DashboardIndex, dashboard_actor, index_of, parse_day
from earful_complaints.web.deps import BadInput, context, reader, render, signed_in_form

if TYPE_CHECKING:
    from earful_indexer.dashboard import MentionFilter

router = APIRouter()
PAGE_SIZE = 25
SENTIMENTS = ("negative", "neutral", "positive")
FILTER_NAMES = ("q", "topic", "lang", "sentiment", "min_complaint", "source", "start", "end", "alerted", "sort")


def _filter(request: Request, params: dict[str, str]) -> MentionFilter:
    from datetime import timedelta

    from earful_indexer.dashboard import MentionFilter

    min_complaint = None
    if params.get("min_complaint"):
        try:
            min_complaint = float(params["min_complaint"])
        except ValueError:
            min_complaint = -1.0
        if not 0 <= min_complaint <= 1:
            raise BadInput("min_complaint (complaint probability) must be a number from 0 to 1")
    if params.get("sentiment") and params["sentiment"] not in SENTIMENTS:
        raise BadInput(f"sentiment must be one of {', '.join(SENTIMENTS)}")
    sort = params.get("sort") or "time"
    if sort not in ("time", "reach"):
        raise BadInput("sort must be time or reach")
    ids = None
    if params.get("alerted") == "1":
        from earful_alerts.dashboard_queries import alerted_mention_ids

        ids = alerted_mention_ids(context(request).engine)
    return MentionFilter(
        query=params.get("q", "")[:2000],
        topic=params.get("topic") or None,
        language=(params.get("lang") or "").lower() or None,
        sentiment=params.get("sentiment") or None,
        min_complaint=min_complaint,
        source=params.get("source") or None,
        start=parse_day(params["start"], "start") if params.get("start") else None,
        end=parse_day(params["end"], "end") + timedelta(days=1) if params.get("end") else None,
        ids=ids,
        sort=sort,
    )


@router.get("/mentions")
def mentions(request: Request, _user: User = Depends(reader), after: str = "") -> Response:
    from elasticsearch import BadRequestError

    from earful_indexer.dashboard import list_mentions
    from earful_listeners.topics import QueryError

    index = index_of(request)
    params = {k: request.query_params.get(k, "").strip() for k in FILTER_NAMES}
    params = {k: v for k, v in params.items() if v}
    mention_filter = _filter(request, params)
    error, page = None, None
    try:
        page = list_mentions(index.es, index.alias, mention_filter, size=PAGE_SIZE, after=after or None)
    except QueryError as exc:
        error = str(exc)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    except BadRequestError:
        if not after:
            raise
        # A position from another sort order (an edited link): the index refuses it; say so, as for any bad link.
        raise BadInput("the page position (after=) does not fit this sort order; start from the first page") from None
    menus = index.menus()
    return render(
        request,
        "dash/mentions.html",
        {
            "page": page,
            "error": error,
            "f": params,
            "query": urlencode(params),
            "deep": bool(after),
            "topics": sorted(set(menus["topics"]) | set(index.topics)),
            "languages": menus["languages"],
            "sources": menus["sources"],
            "sentiments": SENTIMENTS,
        },
        400 if error else 200,
    )


def _mention_or_404(index: DashboardIndex, mention_id: str) -> dict[str, Any]:
    from earful_indexer.dashboard import get_mention

    if len(mention_id) > 64:
        raise BadInput("a mention id has at most 64 characters", 404)
    mention = get_mention(index.es, index.alias, mention_id)
    if mention is None:
        raise BadInput(f"no mention {mention_id} in the index", 404)
    return mention


def mention_page(
    request: Request,
    mention_id: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
) -> Response:
    from earful_alerts.dashboard_queries import alerts_of_mention
    from earful_complaints.mention_intake import prefill, record_of_mention
    from earful_indexer.dashboard import near_duplicates
    from earful_nlp.corrections import corrections_of
    from earful_nlp.labels import TASK_LABELS

    ctx = context(request)
    index = index_of(request)
    mention = _mention_or_404(index, mention_id)
    url = str(mention.get("url") or "")
    return render(
        request,
        "dash/mention.html",
        {
            "m": mention,
            "labels": mention.get("labels") or {},
            "safe_url": url if url.startswith(("https://", "http://")) else None,
            "duplicates": near_duplicates(index.es, index.alias, mention),
            "alerts": alerts_of_mention(ctx.engine, mention_id),
            "record": record_of_mention(ctx.engine, mention_id),
            "corrections": corrections_of(index.labels_dir, mention_id) if index.labels_dir else {},
            "can_correct": index.labels_dir is not None,
            "task_labels": TASK_LABELS,
            "intake": values or prefill(mention, ctx.settings),
            "categories": ctx.settings.categories,
            "error": error,
            "notice": notice,
        },
        status_code,
    )


@router.get("/mentions/{mention_id}")
def mention(request: Request, mention_id: str, _user: User = Depends(reader), saved: str = "") -> Response:
    notice = {"label": "Thank you: the corrected label is stored with the training data."}.get(saved)
    return mention_page(request, mention_id, notice=notice)


@router.post("/mentions/{mention_id}/complaint")
def open_complaint(
    request: Request,
    mention_id: str,
    user: User = Depends(dashboard_actor),
    form: dict[str, str] = Depends(signed_in_form),
) -> Response:
    from earful_complaints.errors import ComplaintError
    from earful_complaints.mention_intake import open_from_mention

    ctx = context(request)
    mention = _mention_or_404(index_of(request), mention_id)
    try:
        ref, _created = open_from_mention(ctx.engine, ctx.settings, mention, form, actor=user.username)
    except ComplaintError as exc:
        return mention_page(request, mention_id, error=str(exc), status_code=422, values=form)
    return RedirectResponse(f"/complaints/{quote(ref)}", status_code=303)


@router.post("/mentions/{mention_id}/label")
def correct_label(
    request: Request,
    mention_id: str,
    user: User = Depends(dashboard_actor),
    form: dict[str, str] = Depends(signed_in_form),
) -> Response:
    from earful_nlp.corrections import record_correction
    from earful_nlp.errors import TrainingDataError

    index = index_of(request)
    if index.labels_dir is None:
        raise BadInput("this web app stores no corrected labels (started without a data folder)", 409)
    mention = _mention_or_404(index, mention_id)
    text = "\n\n".join(p for p in (mention.get("title") or "", mention.get("text") or "") if p.strip())
    try:
        record_correction(
            index.labels_dir,
            form.get("task", ""),
            mention_id=mention_id,
            text=text,
            lang=str(mention.get("language") or ""),
            label=form.get("label", ""),
            by=user.username,
        )
    except TrainingDataError as exc:
        return mention_page(request, mention_id, error=str(exc), status_code=422)
    return RedirectResponse(f"/mentions/{quote(mention_id)}?saved=label", status_code=303)
