"""One evaluation cycle: run the rules, write decided alerts and their rule state in one transaction, then let
the complaint register open records for rules that ask for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from earful_alerts.complaint_hook import ComplaintOpener
from earful_alerts.config import AlertsSettings, RuleSettings
from earful_alerts.model import AlertDraft
from earful_alerts.outbox import write_alert
from earful_alerts.rules import (
    MentionHit,
    SpikeFinding,
    compile_crisis_queries,
    continues_incident,
    example,
    mention_hits,
    spike_findings,
)
from earful_alerts.tables import alert_mention_hits, alert_rule_state, alerts

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

_TITLES = {
    "complaint": "Complaint detected",
    "high_reach_negative": "High-reach negative mention",
    "crisis_query": "Crisis keywords",
    "volume_spike": "Mention volume spike",
    "negative_share_spike": "Negative sentiment spike",
}


@dataclass
class EvaluationReport:
    raised: int = 0  # new alerts
    updated: int = 0  # existing incidents updated (not re-sent)
    folded: int = 0  # mentions folded into an alert under cooldown
    complaints_opened: int = 0
    complaint_errors: int = 0
    spike_error: str | None = None  # spike rules could not be evaluated this cycle


def _state(conn: Connection, rule: str, topic: str) -> sa.RowMapping | None:
    return (
        conn.execute(
            sa.select(alert_rule_state).where(alert_rule_state.c.rule == rule, alert_rule_state.c.topic == topic)
        )
        .mappings()
        .first()
    )


def _save_state(conn: Connection, rule: str, topic: str, exists: bool, **values: object) -> None:
    if exists:
        conn.execute(
            sa.update(alert_rule_state)
            .where(alert_rule_state.c.rule == rule, alert_rule_state.c.topic == topic)
            .values(**values)
        )
    else:
        conn.execute(sa.insert(alert_rule_state).values(rule=rule, topic=topic, **values))


def _record_mention_hit(conn: Connection, report: EvaluationReport, hit: MentionHit, now: datetime) -> None:
    rule, mention_id = hit.rule, str(hit.mention["id"])
    seen = conn.execute(
        sa.select(alert_mention_hits.c.alert_id).where(
            alert_mention_hits.c.rule == rule.name, alert_mention_hits.c.mention_id == mention_id
        )
    ).first()
    if seen is not None:
        return  # re-run of a batch: this mention already fired this rule
    state = _state(conn, rule.name, hit.topic)
    ex = example(hit.mention)
    if (
        state is not None
        and state["cooldown_until"] is not None
        and state["cooldown_until"] > now
        and state["alert_id"] is not None
    ):
        row = conn.execute(sa.select(alerts).where(alerts.c.id == state["alert_id"])).mappings().first()
    else:
        row = None
    if row is not None:  # cooldown: fold into the open alert instead of raising another
        details = dict(row["details"])
        examples = list(details.get("examples", []))
        if len(examples) < max(rule.examples, 1):
            examples.append(ex)
        details["examples"] = examples
        details["mention_ids"] = [*details.get("mention_ids", []), mention_id][-500:]
        count = row["occurrences"] + 1
        conn.execute(
            sa.update(alerts)
            .where(alerts.c.id == row["id"])
            .values(
                details=details,
                occurrences=count,
                updated_at=now,
                summary=f"{hit.reason}; {count} mentions of topic {hit.topic} so far (cooldown)",
            )
        )
        alert_id = row["id"]
        report.folded += 1
    else:
        draft = AlertDraft(
            kind=rule.type,
            rule=rule.name,
            dedup_key=f"{rule.name}:{mention_id}",
            severity=rule.severity,
            title=f"{_TITLES[rule.type]} · {hit.topic}: {str(hit.mention.get('title') or hit.mention.get('text') or '')[:120]}",
            summary=hit.reason,
            topic=hit.topic,
            details={
                "reason": hit.reason,
                "numbers": hit.numbers,
                "examples": [ex],
                "mention_ids": [mention_id],
                "topics": hit.topics,
            },
        )
        alert_id, created = write_alert(conn, draft, now)
        report.raised += created
        report.updated += not created
        cooldown_until = now + rule.cooldown if rule.cooldown > timedelta(0) else None
        _save_state(
            conn,
            rule.name,
            hit.topic,
            state is not None,
            alert_id=alert_id,
            last_fired_at=now,
            cooldown_until=cooldown_until,
            incident_started_at=now,
        )
    conn.execute(
        sa.insert(alert_mention_hits).values(
            rule=rule.name,
            mention_id=mention_id,
            alert_id=alert_id,
            at=now,
            topic=hit.topic,
            complaint_pending=rule.open_complaint,
        )
    )


def _record_spike(conn: Connection, report: EvaluationReport, finding: SpikeFinding, now: datetime) -> None:
    rule = finding.rule
    state = _state(conn, rule.name, finding.topic)
    # The same incident while the spike keeps firing (and for a cooldown after): one alert, updated.
    dedup_key = None
    if state is not None and state["alert_id"] and continues_incident(state["last_fired_at"], now, rule):
        dedup_key = conn.execute(sa.select(alerts.c.dedup_key).where(alerts.c.id == state["alert_id"])).scalar()
    started = state["incident_started_at"] if dedup_key and state is not None else now
    dedup_key = dedup_key or f"{rule.name}:{finding.topic}:{now.strftime('%Y%m%dT%H%M%S')}"
    draft = AlertDraft(
        kind=rule.type,
        rule=rule.name,
        dedup_key=dedup_key,
        severity=rule.severity,
        title=f"{_TITLES[rule.type]} · {finding.topic}",
        summary=finding.reason,
        topic=finding.topic,
        details={
            "reason": finding.reason,
            "numbers": finding.numbers,
            "examples": finding.examples,
            "window": [finding.window_start.isoformat(), finding.window_end.isoformat()],
            "incident_started_at": started.isoformat(),
        },
    )
    alert_id, created = write_alert(conn, draft, now)
    report.raised += created
    report.updated += not created
    _save_state(
        conn,
        rule.name,
        finding.topic,
        state is not None,
        alert_id=alert_id,
        last_fired_at=now,
        incident_started_at=started,
    )


def open_pending_complaints(
    engine: Engine,
    es: Elasticsearch | None,
    alias: str | None,
    rules: list[RuleSettings],
    opener: ComplaintOpener,
    batch_docs: dict[str, dict[str, Any]],
    report: EvaluationReport,
) -> None:
    """Call the complaint register for every hit still waiting for it (this batch's, and any a crash left)."""
    wanted = {r.name for r in rules if r.open_complaint}
    with engine.connect() as conn:
        pending = (
            conn.execute(sa.select(alert_mention_hits).where(alert_mention_hits.c.complaint_pending.is_(True)))
            .mappings()
            .all()
        )
    for hit in pending:
        if hit["rule"] not in wanted:
            continue
        doc = batch_docs.get(hit["mention_id"])
        if doc is None and es is not None and alias:
            found = es.options(ignore_status=404).search(
                index=alias, body={"size": 1, "query": {"ids": {"values": [hit["mention_id"]]}}}
            )
            docs = found.get("hits", {}).get("hits", [])
            doc = {"id": docs[0]["_id"], **docs[0]["_source"]} if docs else None
        if doc is None:
            report.complaint_errors += 1
            continue
        try:
            ref = opener.open_from_alert(
                mention=doc, alert_id=hit["alert_id"], topic=hit["topic"] or "", rule=hit["rule"]
            )
        except Exception:  # noqa: BLE001 - the register's problem must not stop alerting; the hit stays pending for next run
            report.complaint_errors += 1
            continue
        with engine.begin() as conn:
            conn.execute(
                sa.update(alert_mention_hits)
                .where(alert_mention_hits.c.rule == hit["rule"], alert_mention_hits.c.mention_id == hit["mention_id"])
                .values(complaint_pending=False, complaint_ref=str(ref))
            )
        report.complaints_opened += 1


def evaluate(
    engine: Engine,
    es: Elasticsearch | None,
    alias: str | None,
    settings: AlertsSettings,
    mentions: list[dict[str, Any]],
    now: datetime,
    opener: ComplaintOpener | None = None,
) -> EvaluationReport:
    """Run every rule for this batch and write what they decide (alerts + rule state) in one transaction.

    `mentions` are the batch's newly indexed documents, each with its `id`. Spike rules read the index.
    """
    report = EvaluationReport()
    rules = settings.rules
    hits = mention_hits(rules, mentions, compile_crisis_queries(rules))
    with engine.begin() as conn:  # first, so that an index problem below cannot lose this batch's mentions
        for hit in hits:
            _record_mention_hit(conn, report, hit, now)
    findings: list[SpikeFinding] = []
    if es is not None and alias:
        try:
            findings = spike_findings(es, alias, rules, now)
        except Exception as exc:  # noqa: BLE001 - the index is down or slow: spikes wait for the next cycle, alerts still go out
            report.spike_error = f"{type(exc).__name__}: {str(exc)[:200]}"
    if findings:
        with engine.begin() as conn:
            for finding in findings:
                _record_spike(conn, report, finding, now)
    if opener is not None:
        open_pending_complaints(engine, es, alias, rules, opener, {str(d["id"]): d for d in mentions}, report)
    return report
