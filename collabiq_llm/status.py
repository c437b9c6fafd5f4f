"""The status report: settings + stored state -> one stable object. Never calls a provider."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from collabiq_llm.clock import utc_now
from collabiq_llm.errors import ConfigurationError
from collabiq_llm.providers.registry import remote_order
from collabiq_llm.settings import Settings, normalise_strategy, provider_is_configured
from collabiq_llm.state.api import (
    CostTotals,
    OrchestrationConfig,
    ProviderSnapshot,
    StateSnapshot,
    StateStore,
)

HEALTH_VALUES = (
    "healthy",
    "unhealthy",
    "open",
    "half_open",
    "misconfigured",
    "not_configured",
    "untested",
)


class ProviderStatus(BaseModel):
    """One row of ``collabiq llm status`` (the ``providers.<name>`` object of ``--json``)."""

    health: str
    breaker: str
    calls: int
    successes: int
    failures: int
    consecutive_failures: int
    success_rate: float | None
    avg_latency_ms: float | None
    p95_latency_ms: float | None
    last_success: dt.datetime | None
    last_failure: dt.datetime | None
    last_error: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    # additions beyond the documented minimum
    kind: str
    model: str
    configured: bool
    next_try_at: dt.datetime | None = None
    breaker_reason: str | None = None
    failures_by_kind: dict[str, int] = Field(default_factory=dict)
    p50_latency_ms: float | None = None
    hedges: int = 0
    cancelled: int = 0  # lost races (a hedge or parallel call another answer beat)
    p95_first_event_ms: float | None = None  # streaming: time to the first event
    not_before: dt.datetime | None = None  # retry-after: no process calls it before then
    emails: int = 0  # emails on which this provider was called
    cost_per_email_usd: float | None = None  # its cost / those emails


class StrategyCost(BaseModel):
    emails: int
    cost_usd: float
    cost_per_email_usd: float | None


class Totals(BaseModel):
    emails: int
    cost_usd: float  # the known part: emails with an unknown price add nothing here ...
    cost_per_email_usd: float | None  # ... and make this unknown (null)
    unpriced_emails: int = 0
    by_strategy: dict[str, StrategyCost] = Field(default_factory=dict)


class StatusReport(BaseModel):
    strategy: str
    priority: list[str]
    primary: str
    state_dir: str
    backend: str
    providers: dict[str, ProviderStatus]
    totals: Totals
    thresholds: dict[str, float | int]
    generated_at: dt.datetime
    pending_events: int = 0  # recorded but not yet in the shared state (queued or spooled)


def health_of(snap: ProviderSnapshot, configured: bool) -> str:
    if not configured:
        return "not_configured"
    if (
        snap.breaker == "open"
        and snap.failures_by_kind.get("auth")
        and (snap.breaker_reason or "").lower().startswith("auth")
    ):
        return "misconfigured"
    if snap.breaker in ("open", "half_open"):
        return snap.breaker
    if snap.calls == 0:
        return "untested"
    return "unhealthy" if snap.consecutive_failures > 0 else "healthy"


def _per_email(totals: CostTotals | None) -> dict[str, Any]:
    """Emails and cost per email from ledger totals (unknown when a price was unknown)."""
    if totals is None or not totals.emails:
        return {"emails": 0, "cost_per_email_usd": None}
    known = None if totals.unpriced else round(totals.cost_usd / totals.emails, 8)
    return {"emails": totals.emails, "cost_per_email_usd": known}


def checked_orchestration(
    settings: Settings,
    saved: OrchestrationConfig,
    order: Callable[[list[str]], list[str]] | None = None,
) -> tuple[OrchestrationConfig, list[str]]:
    """What ``set-strategy`` saved, minus any value no longer valid (an edited file, a
    provider since removed from the config), and a description of each value dropped.

    Shared by the orchestrator and ``llm status`` (which does not load the orchestrator),
    so both ignore the same values and ``set-strategy`` can repair them.
    """
    check = order or (lambda names: remote_order(settings, names))
    bad: list[str] = []
    strategy, providers = saved.strategy, saved.providers
    if strategy:
        try:
            normalise_strategy(strategy)
        except ValueError:
            bad.append(f"strategy {strategy!r}")
            strategy = None
    if providers is not None:
        try:
            check(providers)
        except ConfigurationError:
            bad.append(f"providers {providers!r}")
            providers = None
    return saved.model_copy(update={"strategy": strategy, "providers": providers}), bad


def ignored_warning(bad: list[str]) -> str:
    """The one-line warning for saved values :func:`checked_orchestration` dropped."""
    return (
        f"collabiq: warning: ignoring the saved {' and '.join(bad)} (from set-strategy): "
        "not valid; using the configured defaults (fix: collabiq llm set-strategy ...)\n"
    )


def build_status(
    settings: Settings, store: StateStore, orchestration: OrchestrationConfig | None = None
) -> StatusReport:
    """``orchestration``: the saved set-strategy values already checked by the caller."""
    snapshot: StateSnapshot = store.snapshot()
    orch = orchestration or snapshot.orchestration
    try:
        strategy = normalise_strategy(orch.strategy) if orch.strategy else settings.strategy
    except ValueError:  # an edited state file: the configured strategy is what runs
        strategy = settings.strategy
    try:
        priority = remote_order(settings, orch.providers)
    except ConfigurationError:
        priority = []
    if settings.offline_last_resort and "offline" in settings.providers:
        priority = [*priority, "offline"]
    rows: dict[str, ProviderStatus] = {}
    for name, cfg in settings.providers.items():
        snap = snapshot.providers.get(name, ProviderSnapshot())
        configured = provider_is_configured(cfg)
        rows[name] = ProviderStatus(
            health=health_of(snap, configured),
            breaker=snap.breaker,
            calls=snap.calls,
            successes=snap.successes,
            failures=snap.failures,
            consecutive_failures=snap.consecutive_failures,
            success_rate=snap.success_rate,
            avg_latency_ms=snap.avg_latency_ms,
            p95_latency_ms=snap.p95_latency_ms,
            last_success=snap.last_success,
            last_failure=snap.last_failure,
            last_error=snap.last_error,
            input_tokens=snap.input_tokens,
            output_tokens=snap.output_tokens,
            cost_usd=snap.cost_usd,
            kind=cfg.kind,
            model=cfg.model,
            configured=configured,
            next_try_at=snap.next_try_at,
            breaker_reason=snap.breaker_reason,
            failures_by_kind=snap.failures_by_kind,
            p50_latency_ms=snap.p50_latency_ms,
            hedges=snap.hedges,
            cancelled=snap.cancelled,
            p95_first_event_ms=snap.p95_first_event_ms,
            not_before=snap.not_before,
            **_per_email(snapshot.email_cost_by_provider.get(name)),
        )
    emails = snapshot.emails
    return StatusReport(
        strategy=strategy,
        priority=priority,
        primary=priority[0] if priority else "offline",
        state_dir=snapshot.location,
        backend=snapshot.backend,
        providers=rows,
        totals=Totals(
            emails=emails,
            cost_usd=round(snapshot.total_cost_usd, 8),
            cost_per_email_usd=(
                round(snapshot.total_cost_usd / emails, 8)
                if emails and not snapshot.unpriced_emails
                else None
            ),
            unpriced_emails=snapshot.unpriced_emails,
            by_strategy={
                name: StrategyCost(**_per_email(totals), cost_usd=round(totals.cost_usd, 8))
                for name, totals in snapshot.cost_by_strategy.items()
            },
        ),
        thresholds={
            "failure_threshold": settings.breaker.failure_threshold,
            "cooldown_s": settings.breaker.cooldown_s,
            "success_threshold": settings.breaker.success_threshold,
            "similarity_threshold": settings.consensus.similarity_threshold,
            "abstain_threshold": settings.consensus.abstain_threshold,
        },
        generated_at=utc_now(),
        pending_events=snapshot.pending_events,
    )
