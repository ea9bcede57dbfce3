"""Housekeeping: retention, erasure of one author, index rollover through the write alias, outbox retries.

Retention and erasure reach what earful keeps about people: the mention documents (text and the author's
pseudonym, `author_ref`, or raw handle when `privacy.store_raw_author` is on), in the records database (the
system of record, deleted first, so a re-index cannot bring them back) and in the index, and the near-duplicate
band keys of those mentions. Complaint records are an audit trail with their own retention: they
are counted and named, never deleted here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from earful.services import Services
from earful.settings import Settings
from earful_indexer.fields import AUTHOR_RAW, AUTHOR_REF, FETCHED_AT, NATIVE_ID, PUBLISHED_AT, SOURCE, SOURCE_KIND


@dataclass
class RetentionReport:
    """What one retention run deleted."""

    cutoff: str | None
    mentions_deleted: int = 0  # from the index
    records_deleted: int = 0  # from the mentions store
    bands_deleted: int = 0
    complaints_redacted: list[str] = field(default_factory=list)  # complaint records past complaints.retention
    skipped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ErasureReport:
    """What erasing one author removed, and what a person still has to handle."""

    author_ref: str
    mentions_deleted: int = 0  # from the index
    records_deleted: int = 0  # from the mentions store
    bands_deleted: int = 0
    complaint_refs: list[str] = field(default_factory=list)  # records naming this complainant (kept, see above)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def retention_query(cutoff: datetime) -> dict[str, Any]:
    """Mentions published before `cutoff`, or fetched before it when they carry no publication time."""
    when = _iso(cutoff)
    return {
        "bool": {
            "should": [
                {"range": {PUBLISHED_AT: {"lt": when}}},
                {
                    "bool": {
                        "must_not": {"exists": {"field": PUBLISHED_AT}},
                        "filter": {"range": {FETCHED_AT: {"lt": when}}},
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }


def apply_retention(services: Services, now: datetime) -> RetentionReport:
    """Delete mentions older than `privacy.retention_days` and forget band keys of that age; redact finished
    complaint records past complaints.retention (their own rule, applied whether or not mentions expire)."""
    from earful_complaints.retention import redact_expired
    from earful_records.mentions import delete_mentions, older_than
    from earful_records.near_dups import prune_bands

    redacted = redact_expired(services.engine, now)
    days = services.settings.privacy.retention_days
    if days is None:
        return RetentionReport(
            cutoff=None,
            complaints_redacted=redacted,
            skipped="privacy.retention_days is not set: no mention is deleted",
        )
    cutoff = now - timedelta(days=days)
    report = RetentionReport(cutoff=_iso(cutoff), complaints_redacted=redacted)
    report.records_deleted = len(delete_mentions(services.engine, older_than(int(cutoff.timestamp()))))
    report.mentions_deleted = _delete_by_query(services, retention_query(cutoff))
    report.bands_deleted = prune_bands(services.engine, days, now=now.timestamp())
    return report


def _delete_by_query(services: Services, query: dict[str, Any]) -> int:
    """Delete matching documents in every index behind the alias (named one by one: the embedded server's
    delete-by-query through an alias reaches only its first index)."""
    from earful_common.errors import ReportedError

    deleted = 0
    for index in sorted(services.es.indices.get_alias(name=services.alias)):
        resp = services.es.delete_by_query(index=index, query=query, conflicts="proceed", refresh=True)
        if resp.get("failures"):
            raise ReportedError(f"{index}: the index refused some deletions: {str(resp['failures'])[:300]}")
        deleted += int(resp.get("deleted", 0))
    if services.embedded:
        services.es.indices.flush(index=services.alias)  # the embedded server persists on flush
    return deleted


def author_query(settings: Settings, source_kind: str, handle: str) -> tuple[list[str], dict[str, Any]]:
    """The pseudonyms of `handle` on `source_kind` (see listeners.pseudonym.author_keys), and the query of every
    mention by that author."""
    from earful_listeners.pseudonym import author_keys, author_ref

    secret = settings.privacy.author_secret.get_secret_value()
    refs = [ref for key in author_keys(source_kind, handle) if (ref := author_ref(secret, source_kind, key))]
    if not refs:
        from earful_common.errors import UsageError

        if source_kind == "bluesky" and handle.strip():
            raise UsageError(
                "give the Bluesky author's DID (did:plc:...), not the handle; the DID is on the "
                "profile (or: com.atproto.identity.resolveHandle)"
            )
        if source_kind == "mastodon" and handle.strip():
            raise UsageError("give the Mastodon author as @user@domain or as the actor URL (https://...)")
        raise UsageError("the author handle is empty")
    raw = handle.strip().lstrip("@")
    query = {
        "bool": {
            "filter": [{"term": {SOURCE_KIND: source_kind}}],
            "should": [
                *({"term": {AUTHOR_REF: ref}} for ref in refs),
                {"term": {AUTHOR_RAW: raw}},
                {"term": {AUTHOR_RAW: f"@{raw}"}},
            ],
            "minimum_should_match": 1,
        }
    }
    return refs, query


def _matching_ids(services: Services, query: dict[str, Any], page: int = 1000) -> list[str]:
    """Every id matching `query` behind the alias (paged by id: the author's mentions, not the whole index)."""
    ids: list[str] = []
    after: list[Any] | None = None
    while True:
        extra = {"search_after": after} if after else {}
        resp = services.es.search(
            index=services.alias,
            query=query,
            source=False,
            size=page,
            sort=[{FETCHED_AT: "asc"}, {NATIVE_ID: "asc"}, {SOURCE: "asc"}],
            **extra,
        )
        hits = resp["hits"]["hits"]
        ids.extend(hit["_id"] for hit in hits)
        if len(hits) < page:
            return ids
        after = hits[-1]["sort"]


def erase_author(services: Services, source_kind: str, handle: str) -> ErasureReport:
    """Delete every mention of one author (by raw handle and source kind) and the band keys of those mentions."""
    from earful_complaints.tables import complaints
    from earful_records.mentions import by_author, delete_mentions
    from earful_records.near_dups import forget_bands_in

    refs, query = author_query(services.settings, source_kind, handle)
    raw = handle.strip().lstrip("@")
    stored = delete_mentions(services.engine, by_author(source_kind, refs, [raw, f"@{raw}"]))
    services.es.indices.refresh(index=services.alias)
    indexed = _matching_ids(services, query)
    ids = sorted(set(stored) | set(indexed))
    report = ErasureReport(author_ref=", ".join(refs), records_deleted=len(stored))
    report.mentions_deleted = _delete_by_query(services, query) if indexed else 0
    with services.engine.begin() as conn:
        report.bands_deleted = forget_bands_in(conn, ids)
        report.complaint_refs = sorted(
            conn.execute(sa.select(complaints.c.ref).where(complaints.c.complainant_ref.in_(refs))).scalars()
        )
    return report


def rollover_index(services: Services) -> dict[str, Any]:
    """Roll the write alias over to a new index when any configured condition is met (dry run: dry_run=True)."""
    conditions = rollover_conditions(services.settings)
    if not conditions:
        return {"rolled_over": False, "reason": "no rollover condition configured"}
    resp = services.es.indices.rollover(alias=services.alias, conditions=conditions)
    return {
        "rolled_over": bool(resp.get("rolled_over")),
        "old_index": resp.get("old_index"),
        "new_index": resp.get("new_index"),
        "conditions": {str(k): bool(v) for k, v in (resp.get("conditions") or {}).items()},
    }


def rollover_conditions(settings: Settings) -> dict[str, Any]:
    """The configured rollover conditions in Elasticsearch's terms."""
    rollover = settings.housekeeping.rollover
    pairs = (
        ("max_age", rollover.max_age),
        ("max_primary_shard_size", rollover.max_primary_shard_size),
        ("max_docs", rollover.max_docs),
    )
    return {key: value for key, value in pairs if value is not None}


def retry_outbox(settings: Settings, engine: Engine) -> dict[str, int]:
    """Send the alert deliveries that are due (retries after backoff); with `housekeeping.retry_parked`, the
    parked ones get fresh attempts first."""
    from rich.console import Console

    from earful_alerts.channels import build_channels
    from earful_alerts.sender import deliver_pending, retry_parked

    now = datetime.now(UTC)
    requeued = retry_parked(engine, None, now) if settings.housekeeping.retry_parked else 0
    report = deliver_pending(engine, settings.alerts, build_channels(settings.alerts, Console(quiet=True)), now)
    return {"requeued": requeued, "sent": report.sent, "failed": report.failed, "parked": report.parked}
