"""The state interface the orchestrator and CLI talk to, whatever the backend.

One call = one atomic event (a single locked read-modify-write on the JSON
backend, a single server-side script on Redis). No lock is ever held across a
network call: the orchestrator calls ``acquire`` before a provider call and
``record_call`` after it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Protocol

from pydantic import AfterValidator, BaseModel, Field

BreakerStateName = Literal["closed", "open", "half_open"]


def as_utc(value: dt.datetime) -> dt.datetime:
    """Timezone-aware UTC; a naive timestamp is taken to be UTC already (never local time)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


UtcDatetime = Annotated[dt.datetime, AfterValidator(as_utc)]


class Permit(BaseModel):
    """Answer to "may I call this provider now?".

    ``probe_token`` is set when the call is a half-open probe: pass it back in
    ``CallEvent.probe_token`` so the slot is released. ``reason`` explains a refusal
    ("circuit open, retry in 42 s", "over daily budget $5.00", ...).
    """

    allowed: bool
    state: BreakerStateName = "closed"
    probe_token: str | None = None
    reason: str | None = None
    retry_at: UtcDatetime | None = None
    not_before: UtcDatetime | None = None  # set (with allowed=True) while a retry-after runs


class CallEvent(BaseModel):
    """The outcome of one provider call, recorded in one transaction."""

    provider: str
    model: str
    ok: bool
    at: UtcDatetime
    latency_ms: float | None = None
    error_kind: str | None = None
    error_message: str | None = None  # already redacted by the caller; truncated by the store
    retry_after_s: float | None = None
    counts_against_provider: bool = True  # False for our own bad requests / cancelled calls
    trips_breaker: bool = True  # False for invalid model output: the provider is up
    first_event_ms: float | None = None  # streaming: time to the first event of the answer
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0  # None = unknown price
    probe_token: str | None = None
    hedge: bool = False


class LedgerProviderCost(BaseModel):
    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0


class LedgerEntry(BaseModel):
    """One line of the per-email cost ledger."""

    email_id: str
    at: UtcDatetime
    strategy: str
    providers: list[LedgerProviderCost] = Field(default_factory=list)
    total_cost_usd: float | None = 0.0
    ok: bool = True


class ProviderSnapshot(BaseModel):
    """Health, breaker and cost of one provider as stored."""

    breaker: BreakerStateName = "closed"
    breaker_reason: str | None = None  # e.g. "authentication failed: fix the key"
    next_try_at: UtcDatetime | None = None
    calls: int = 0
    successes: int = 0
    failures: int = 0
    failures_by_kind: dict[str, int] = Field(default_factory=dict)
    consecutive_failures: int = 0
    success_rate: float | None = None
    avg_latency_ms: float | None = None
    p50_latency_ms: float | None = None
    p95_latency_ms: float | None = None
    p95_first_event_ms: float | None = None  # streaming calls: time to first event
    first_event_samples: int = 0  # how many first-event times that p95 is taken over
    cancelled: int = 0  # lost races: cancelled because another answer won (no failure)
    not_before: UtcDatetime | None = None  # the provider asked for quiet until then
    last_success: UtcDatetime | None = None
    last_failure: UtcDatetime | None = None
    last_error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0  # None when some call had an unknown price
    unpriced_calls: int = 0
    hedges: int = 0
    spent_today_usd: float = 0.0  # known spend in the current UTC day (every call, tests too)
    spent_month_usd: float = 0.0  # ... and the current UTC month
    latency_window_ms: list[float] = Field(default_factory=list)  # recent successes, for metrics


class OrchestrationConfig(BaseModel):
    """What ``set-strategy`` persists: visible at once to every process."""

    strategy: str | None = None
    providers: list[str] | None = None
    updated_at: UtcDatetime | None = None


class CostTotals(BaseModel):
    """Per-email cost aggregated over the ledger (kept when the ledger rotates)."""

    emails: int = 0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0  # known part only
    unpriced: int = 0  # emails (by strategy) or calls (by provider) with an unknown price


class AgreementRecord(BaseModel):
    """One consensus email for learning provider reliability: who voted, per field which
    voters answered alike (equal labels) and how confident each said it was (a band).
    No values are stored, only the pattern."""

    at: UtcDatetime
    providers: list[str]
    labels: dict[str, list[int]] = Field(default_factory=dict)
    bands: dict[str, list[int]] = Field(default_factory=dict)  # self-confidence band; -1: null


class StateSnapshot(BaseModel):
    """Everything ``status`` shows, read without taking a lock."""

    backend: str
    location: str
    providers: dict[str, ProviderSnapshot] = Field(default_factory=dict)
    emails: int = 0
    total_cost_usd: float = 0.0  # known part; see unpriced_emails
    unpriced_emails: int = 0
    cost_by_strategy: dict[str, CostTotals] = Field(default_factory=dict)
    email_cost_by_provider: dict[str, CostTotals] = Field(default_factory=dict)
    orchestration: OrchestrationConfig = Field(default_factory=OrchestrationConfig)
    pending_events: int = 0  # recorded but not yet in the shared state (queued or spooled)


class StateStore(Protocol):
    """Shared, durable state of breakers, health and costs."""

    def acquire(
        self,
        provider: str,
        *,
        budget_daily_usd: float | None = None,
        budget_monthly_usd: float | None = None,
    ) -> Permit: ...

    def record_call(self, event: CallEvent) -> None: ...

    def record_email(self, entry: LedgerEntry) -> None: ...

    def read_ledger(self, limit: int | None = None) -> list[LedgerEntry]: ...

    def snapshot(self) -> StateSnapshot: ...

    def get_orchestration(self) -> OrchestrationConfig: ...

    def set_orchestration(self, config: OrchestrationConfig) -> OrchestrationConfig: ...

    def reset(self, provider: str) -> None: ...

    def record_agreement(self, record: AgreementRecord, keep: int) -> None:
        """Append one consensus agreement pattern, keeping the newest ``keep``."""
        ...

    def read_agreements(self) -> list[AgreementRecord]:
        """The stored agreement patterns, oldest first (empty when unavailable)."""
        ...
