"""The status report as plain data: settings + state snapshot + time -> one dict.

Pure functions read settings and snapshots by attribute, so the same code serves the
pydantic path (:mod:`collabiq_llm.status`, which validates the dict into
``StatusReport``) and the pydantic-free fast path (:mod:`collabiq_llm.status_fast`),
which prints it as it is. Keys are in the field order of the ``status`` models, so
both paths print the same JSON (``tests/unit/test_status_fast.py`` checks both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from collabiq_llm.errors import ConfigurationError
from collabiq_llm.health_view import provider_health
from collabiq_llm.routing import normalise_strategy, provider_order

EMPTY_PROVIDER = SimpleNamespace(
    breaker="closed",
    breaker_reason=None,
    next_try_at=None,
    calls=0,
    successes=0,
    failures=0,
    failures_by_kind={},
    consecutive_failures=0,
    success_rate=None,
    avg_latency_ms=None,
    p50_latency_ms=None,
    p95_latency_ms=None,
    p95_first_event_ms=None,
    first_event_samples=0,
    cancelled=0,
    not_before=None,
    last_success=None,
    last_failure=None,
    last_error=None,
    input_tokens=0,
    output_tokens=0,
    cost_usd=0.0,
    unpriced_calls=0,
    hedges=0,
    spent_today_usd=0.0,
    spent_month_usd=0.0,
    latency_window_ms=[],
)
"""A provider with nothing stored (the defaults of ``state.api.ProviderSnapshot``)."""


def checked_values(
    strategy: str | None,
    providers: list[str] | None,
    order: Callable[[list[str]], list[str]],
) -> tuple[str | None, list[str] | None, list[str]]:
    """The saved ``set-strategy`` values minus any no longer valid, and what was dropped."""
    bad: list[str] = []
    if strategy:
        try:
            normalise_strategy(strategy)
        except ValueError:
            bad.append(f"strategy {strategy!r}")
            strategy = None
    if providers is not None:
        try:
            order(providers)
        except ConfigurationError:
            bad.append(f"providers {providers!r}")
            providers = None
    return strategy, providers, bad


def ignored_warning(bad: list[str]) -> str:
    """The one-line warning for saved values :func:`checked_values` dropped."""
    return (
        f"collabiq: warning: ignoring the saved {' and '.join(bad)} (from set-strategy): "
        "not valid; using the configured defaults (fix: collabiq llm set-strategy ...)\n"
    )


def _remaining(cfg: Any, snap: Any) -> float | None:
    left = [
        budget - spent
        for budget, spent in (
            (cfg.budget_daily_usd, snap.spent_today_usd),
            (cfg.budget_monthly_usd, snap.spent_month_usd),
        )
        if budget is not None
    ]
    return round(max(0.0, min(left)), 8) if left else None


def _per_email(totals: Any) -> tuple[int, float | None]:
    """Emails and cost per email from ledger totals (unknown when a price was unknown)."""
    if totals is None or not totals.emails:
        return 0, None
    known = None if totals.unpriced else round(totals.cost_usd / totals.emails, 8)
    return totals.emails, known


def provider_row(
    name: str,
    cfg: Any,
    snap: Any,
    *,
    configured: bool,
    in_use: bool,
    now: dt.datetime,
    email_totals: Any,
) -> dict[str, Any]:
    """One ``providers.<name>`` object of ``status --json`` (``ProviderStatus`` order)."""
    view = provider_health(
        now=now,
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
        budget_daily=cfg.budget_daily_usd,
        budget_monthly=cfg.budget_monthly_usd,
        not_before=snap.not_before,
        missing_key_hint="disabled" if not cfg.enabled else "set " + " or ".join(cfg.api_key_env),
    )
    emails, per_email = _per_email(email_totals)
    return {
        "health": view.state,
        "breaker": snap.breaker,
        "calls": snap.calls,
        "successes": snap.successes,
        "failures": snap.failures,
        "consecutive_failures": snap.consecutive_failures,
        "success_rate": snap.success_rate,
        "avg_latency_ms": snap.avg_latency_ms,
        "p95_latency_ms": snap.p95_latency_ms,
        "last_success": snap.last_success,
        "last_failure": snap.last_failure,
        "last_error": snap.last_error,
        "input_tokens": snap.input_tokens,
        "output_tokens": snap.output_tokens,
        "cost_usd": snap.cost_usd,
        "kind": cfg.kind,
        "model": cfg.model,
        "configured": configured,
        "next_try_at": snap.next_try_at,
        "breaker_reason": snap.breaker_reason,
        "failures_by_kind": dict(snap.failures_by_kind),
        "p50_latency_ms": snap.p50_latency_ms,
        "hedges": snap.hedges,
        "cancelled": snap.cancelled,
        "p95_first_event_ms": snap.p95_first_event_ms,
        "not_before": snap.not_before,
        "emails": emails,
        "cost_per_email_usd": per_email,
        "health_until": view.until,
        "health_reason": view.reason,
        "can_take_calls": view.can_take_calls,
        "spent_today_usd": round(snap.spent_today_usd, 8),
        "spent_month_usd": round(snap.spent_month_usd, 8),
        "budget_daily_usd": cfg.budget_daily_usd,
        "budget_monthly_usd": cfg.budget_monthly_usd,
        "budget_remaining_usd": _remaining(cfg, snap),
        "latency_window_ms": list(snap.latency_window_ms),
    }


def report_fields(
    settings: Any,
    snapshot: Any,
    orchestration: Any,
    now: dt.datetime,
    is_configured: Callable[[Any], bool],
) -> dict[str, Any]:
    """The whole ``status --json`` object (``StatusReport`` order). ``orchestration``: the
    saved set-strategy values already checked; ``is_configured(provider config)``."""
    try:
        strategy = (
            normalise_strategy(orchestration.strategy)
            if orchestration.strategy
            else settings.strategy
        )
    except ValueError:  # an edited state file: the configured strategy is what runs
        strategy = settings.strategy
    try:
        priority = provider_order(
            settings.providers, settings.priority, orchestration.providers, is_configured
        )
    except ConfigurationError:
        priority = []
    if settings.offline_last_resort and "offline" in settings.providers:
        priority = [*priority, "offline"]
    rows = {
        name: provider_row(
            name,
            cfg,
            snapshot.providers.get(name, EMPTY_PROVIDER),
            configured=is_configured(cfg),
            in_use=name in priority,
            now=now,
            email_totals=snapshot.email_cost_by_provider.get(name),
        )
        for name, cfg in settings.providers.items()
    }
    stored = snapshot.providers.values()
    lifetime = float(sum((p.cost_usd or 0.0) for p in stored))  # float even when empty
    emails = snapshot.emails
    by_strategy = {}
    for name, totals in snapshot.cost_by_strategy.items():
        count, per_email = _per_email(totals)
        by_strategy[name] = {
            "emails": count,
            "cost_usd": round(totals.cost_usd, 8),
            "cost_per_email_usd": per_email,
        }
    return {
        "strategy": strategy,
        "priority": priority,
        "primary": priority[0] if priority else "offline",
        "state_dir": snapshot.location,
        "backend": snapshot.backend,
        "providers": rows,
        "totals": {
            "emails": emails,
            "cost_usd": round(snapshot.total_cost_usd, 8),
            "cost_per_email_usd": (
                round(snapshot.total_cost_usd / emails, 8)
                if emails and not snapshot.unpriced_emails
                else None
            ),
            "unpriced_emails": snapshot.unpriced_emails,
            "by_strategy": by_strategy,
            "today_usd": round(float(sum(p.spent_today_usd for p in stored)), 8),
            "month_usd": round(float(sum(p.spent_month_usd for p in stored)), 8),
            "lifetime_usd": round(lifetime, 8),
            "outside_emails_usd": round(max(0.0, lifetime - snapshot.total_cost_usd), 8),
        },
        "thresholds": {
            "failure_threshold": settings.breaker.failure_threshold,
            "cooldown_s": settings.breaker.cooldown_s,
            "success_threshold": settings.breaker.success_threshold,
            "similarity_threshold": settings.consensus.similarity_threshold,
            "abstain_threshold": settings.consensus.abstain_threshold,
        },
        "generated_at": now,
        "pending_events": snapshot.pending_events,
    }
