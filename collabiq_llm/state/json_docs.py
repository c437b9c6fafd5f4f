"""The documents of the JSON state store and how one provider's record is shown.

Shared by both backends: Redis stores the same ``ProviderRecord`` per provider and
renders it with :func:`provider_snapshot`.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from collabiq_llm.settings import BreakerSettings
from collabiq_llm.state import breaker, costs, health
from collabiq_llm.state.api import LedgerEntry, ProviderSnapshot
from collabiq_llm.state.breaker import BreakerState
from collabiq_llm.state.costs import EmailCosts, Usage
from collabiq_llm.state.health import HealthStats


class ProviderRecord(BaseModel):
    """Everything stored about one provider (one place, so one event is one write)."""

    breaker: BreakerState = Field(default_factory=BreakerState)
    health: HealthStats = Field(default_factory=HealthStats)
    usage: Usage = Field(default_factory=Usage)


class HealthDoc(BaseModel):
    providers: dict[str, ProviderRecord] = Field(default_factory=dict)
    applied: list[str] = Field(default_factory=list)  # spooled batch ids already applied


class CostsDoc(EmailCosts):
    applied: list[str] = Field(default_factory=list)  # spooled batch ids already applied


def provider_snapshot(
    rec: ProviderRecord, breaker_cfg: BreakerSettings, now: dt.datetime
) -> ProviderSnapshot:
    """What status shows for one stored provider record (shared by both backends)."""
    state, reason, next_try = breaker.view(rec.breaker, breaker_cfg, now)
    stats = rec.health
    mean, p50, p95 = health.latency_summary(stats)
    usage = rec.usage
    today, month = costs.spent(usage, now)
    return ProviderSnapshot(
        breaker=state,
        breaker_reason=reason,
        next_try_at=next_try,
        calls=stats.calls,
        successes=stats.successes,
        failures=stats.failures,
        failures_by_kind=dict(stats.failures_by_kind),
        consecutive_failures=rec.breaker.consecutive_failures,
        success_rate=health.success_rate(stats),
        avg_latency_ms=mean,
        p50_latency_ms=p50,
        p95_latency_ms=p95,
        p95_first_event_ms=health.first_event_p95(stats),
        first_event_samples=len(stats.first_event_ms),
        cancelled=stats.cancelled,
        not_before=breaker.not_before(rec.breaker, now),
        last_success=stats.last_success,
        last_failure=stats.last_failure,
        last_error=stats.last_error,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=None if usage.unpriced_calls else usage.cost_usd,
        unpriced_calls=usage.unpriced_calls,
        hedges=stats.hedges,
        spent_today_usd=today,
        spent_month_usd=month,
        latency_window_ms=list(stats.latencies_ms),
    )


def add_email_in_place(doc: EmailCosts, entry: LedgerEntry) -> None:
    """Add one email to the totals in place (``costs.add_email`` returns a new model)."""
    new = costs.add_email(doc, entry)
    for field in type(new).model_fields:
        setattr(doc, field, getattr(new, field))
