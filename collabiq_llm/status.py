"""The status report: settings + stored state -> one stable object. Never calls a provider."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from collabiq_llm.clock import utc_now
from collabiq_llm.errors import ConfigurationError
from collabiq_llm.health_view import HEALTH_STATES, HealthView, provider_health
from collabiq_llm.providers.registry import remote_order
from collabiq_llm.settings import Settings, normalise_strategy, provider_is_configured
from collabiq_llm.state.api import (
    CostTotals,
    OrchestrationConfig,
    ProviderSnapshot,
    StateSnapshot,
    StateStore,
)

HEALTH_VALUES = HEALTH_STATES


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
    # what an operator acts on: the state ends by itself at health_until (None: it does not)
    health_until: dt.datetime | None = None
    health_reason: str | None = None
    can_take_calls: bool = True
    spent_today_usd: float = 0.0  # every call, `llm test` included (UTC day)
    spent_month_usd: float = 0.0  # ... UTC month
    budget_daily_usd: float | None = None
    budget_monthly_usd: float | None = None
    budget_remaining_usd: float | None = None  # the tighter of the two; None: no budget
    latency_window_ms: list[float] = Field(default_factory=list, exclude=True)  # for metrics


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
    # every call of every provider (emails + `llm test` + calls no email was billed for)
    today_usd: float = 0.0
    month_usd: float = 0.0
    lifetime_usd: float = 0.0
    outside_emails_usd: float = 0.0  # lifetime_usd - cost_usd: `llm test` calls and the like


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


def health_of(
    snap: ProviderSnapshot,
    configured: bool,
    *,
    now: dt.datetime | None = None,
    in_use: bool = False,
    budget_daily: float | None = None,
    budget_monthly: float | None = None,
    missing_key_hint: str | None = None,
) -> HealthView:
    """The operator-facing health of one stored provider (see :mod:`collabiq_llm.health_view`)."""
    return provider_health(
        now=now or utc_now(),
        configured=configured,
        in_use=in_use,
        breaker=snap.breaker,
        breaker_reason=snap.breaker_reason,
        next_try_at=snap.next_try_at,
        calls=snap.calls,
        consecutive_failures=snap.consecutive_failures,
        failures_by_kind=snap.failures_by_kind,
        spent_today=snap.spent_today_usd,
        spent_month=snap.spent_month_usd,
        budget_daily=budget_daily,
        budget_monthly=budget_monthly,
        not_before=getattr(snap, "not_before", None),  # persisted Retry-After, where stored
        missing_key_hint=missing_key_hint,
    )


def _remaining(cfg, snap: ProviderSnapshot) -> float | None:
    left = [
        budget - spent
        for budget, spent in (
            (cfg.budget_daily_usd, snap.spent_today_usd),
            (cfg.budget_monthly_usd, snap.spent_month_usd),
        )
        if budget is not None
    ]
    return round(max(0.0, min(left)), 8) if left else None


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
    now = utc_now()
    for name, cfg in settings.providers.items():
        snap = snapshot.providers.get(name, ProviderSnapshot())
        configured = provider_is_configured(cfg)
        view = health_of(
            snap,
            configured,
            now=now,
            in_use=name in priority,
            budget_daily=cfg.budget_daily_usd,
            budget_monthly=cfg.budget_monthly_usd,
            missing_key_hint=(
                "disabled" if not cfg.enabled else "set " + " or ".join(cfg.api_key_env)
            ),
        )
        rows[name] = ProviderStatus(
            health=view.state,
            health_until=view.until,
            health_reason=view.reason,
            can_take_calls=view.can_take_calls,
            spent_today_usd=round(snap.spent_today_usd, 8),
            spent_month_usd=round(snap.spent_month_usd, 8),
            budget_daily_usd=cfg.budget_daily_usd,
            budget_monthly_usd=cfg.budget_monthly_usd,
            budget_remaining_usd=_remaining(cfg, snap),
            latency_window_ms=snap.latency_window_ms,
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
    lifetime = sum((p.cost_usd or 0.0) for p in snapshot.providers.values())
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
            today_usd=round(sum(p.spent_today_usd for p in snapshot.providers.values()), 8),
            month_usd=round(sum(p.spent_month_usd for p in snapshot.providers.values()), 8),
            lifetime_usd=round(lifetime, 8),
            outside_emails_usd=round(max(0.0, lifetime - snapshot.total_cost_usd), 8),
        ),
        thresholds={
            "failure_threshold": settings.breaker.failure_threshold,
            "cooldown_s": settings.breaker.cooldown_s,
            "success_threshold": settings.breaker.success_threshold,
            "similarity_threshold": settings.consensus.similarity_threshold,
            "abstain_threshold": settings.consensus.abstain_threshold,
        },
        generated_at=now,
        pending_events=snapshot.pending_events,
    )


def current_status() -> tuple[Settings, StateStore, StatusReport]:
    """Settings, store and the status report, without loading the orchestrator (read-only
    commands start fast); an invalid saved ``set-strategy`` value is warned about once."""
    import sys

    from collabiq_llm.state import make_store

    settings = Settings()
    store = make_store(settings)
    saved, bad = checked_orchestration(settings, store.get_orchestration())
    if bad:
        sys.stderr.write(ignored_warning(bad))
    return settings, store, build_status(settings, store, saved)
