"""The post-index hook: evaluate the rules for the batch, then deliver what the outbox holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from earful_alerts.complaint_hook import ComplaintOpener

if TYPE_CHECKING:
    from collections.abc import Callable

    from earful.hooks import BatchContext


def make_alerts_hook(opener: ComplaintOpener | None = None) -> Callable[[BatchContext], dict[str, int] | None]:
    """A hook for `earful.hooks.post_index_hooks`; `opener` is the complaint register (or None)."""

    def alerts_hook(ctx: BatchContext) -> dict[str, int] | None:
        from rich.markup import escape

        from earful_alerts.channels import build_channels
        from earful_alerts.evaluate import evaluate
        from earful_alerts.sender import deliver_pending

        settings = ctx.services.settings.alerts
        if not settings.enabled:
            return None
        now = datetime.now(UTC)
        docs = [{"id": m.id, **m.to_document()} for m in ctx.new_mentions]
        evaluation = evaluate(ctx.services.engine, ctx.services.es, ctx.services.alias, settings, docs, now, opener)
        sent = deliver_pending(ctx.services.engine, settings, build_channels(settings, ctx.console), now)
        counts = {"alerts raised": evaluation.raised, "alerts sent": sent.sent}
        if evaluation.updated or evaluation.folded:
            counts["alerts updated"] = evaluation.updated + evaluation.folded
        if sent.failed or sent.parked:
            counts["alerts failed"] = sent.failed + sent.parked
        if evaluation.complaints_opened:
            counts["complaints opened"] = evaluation.complaints_opened
        if evaluation.complaint_errors:
            counts["complaint errors"] = evaluation.complaint_errors
        if evaluation.spike_error:
            ctx.console.print(f"[yellow]alerts: spike rules skipped this batch[/] ({escape(evaluation.spike_error)})")
            counts["spike rule errors"] = 1
        return counts

    return alerts_hook
