"""Reviewed social-listening records as labeled data for the next complaint model.

A person confirming a record (acknowledge) labels its post `complaint`; rejecting it (not_a_complaint, with a
reason) labels it `not_complaint`; the latest human judgement wins. The CSV has the columns nlp's training reads
(`text,label,lang`) followed by provenance columns.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_complaints.clock import iso, utc
from earful_complaints.spreadsheet import SafeCsvWriter
from earful_complaints.tables import complaint_mentions, complaints

COLUMNS = (
    "text",
    "label",
    "lang",
    "mention_id",
    "ref",
    "labeled_by",
    "labeled_at",
    "reason",
    "source_kind",
    "topic",
    "model",
    "model_version",
    "model_probability",
)


def labeled_rows(engine: Engine, *, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """One row per reviewed social-listening record (still-unreviewed records are skipped)."""
    c = complaints.c
    query = (
        sa.select(complaints, complaint_mentions.c.mention_id)
        .join(complaint_mentions, complaint_mentions.c.complaint_id == c.id, isouter=True)
        .where(
            c.origin == "social_listening",
            sa.or_(c.status == "not_a_complaint", c.ack_at.is_not(None), c.status == "merged"),
        )
        .order_by(c.id)
    )
    with engine.connect() as conn:
        for r in conn.execute(query).mappings():
            rejected = r["status"] == "not_a_complaint"
            labeled_at = r["rejected_at"] if rejected else (r["ack_at"] or r["updated_at"])
            if since is not None and utc(labeled_at) < utc(since):
                continue
            snap = r["mention_snapshot"] or {}
            labels = snap.get("labels") or {}
            text = "\n\n".join(p for p in (snap.get("title"), snap.get("text")) if p) or r["description"]
            yield {
                "text": text,
                "label": "not_complaint" if rejected else "complaint",
                "lang": r["language"],
                "mention_id": r["mention_id"] or snap.get("id"),
                "ref": r["ref"],
                "labeled_by": r["rejected_by"] if rejected else r["acknowledged_by"],
                "labeled_at": iso(labeled_at),
                "reason": r["rejection_reason"] if rejected else None,
                "source_kind": snap.get("source_kind"),
                "topic": r["topic"],
                "model": labels.get("model"),
                "model_version": labels.get("model_version"),
                "model_probability": r["complaint_probability"],
            }


def write_labels(engine: Engine, output: Path, *, since: datetime | None = None) -> dict[str, int]:
    """Write the labels to `output` (.jsonl: JSON lines; anything else: CSV); returns counts per label."""
    counts = {"complaint": 0, "not_complaint": 0}
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as handle:
        as_json = output.suffix.lower() == ".jsonl"
        # CSV opens in spreadsheets: formula-like cells get a leading quote (.jsonl keeps the exact text).
        writer = None if as_json else SafeCsvWriter(csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n"))
        if writer:
            writer.writeheader()
        for row in labeled_rows(engine, since=since):
            counts[row["label"]] += 1
            if writer:
                writer.writerow(row)
            else:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return counts
