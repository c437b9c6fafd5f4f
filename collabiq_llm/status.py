"""The status report: settings + stored state -> one stable object. Never calls a provider."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from collabiq_llm.clock import utc_now
from collabiq_llm.providers.registry import remote_order
from collabiq_llm.settings import Settings, provider_is_configured
from collabiq_llm.state.api import OrchestrationConfig, StateSnapshot, StateStore
from collabiq_llm.status_core import checked_values, ignored_warning, report_fields

__all__ = ["build_status", "checked_orchestration", "current_status", "ignored_warning"]


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
    strategy, providers, bad = checked_values(saved.strategy, saved.providers, check)
    return saved.model_copy(update={"strategy": strategy, "providers": providers}), bad


def build_status(
    settings: Settings, store: StateStore, orchestration: OrchestrationConfig | None = None
) -> StatusReport:
    """``orchestration``: the saved set-strategy values already checked by the caller."""
    snapshot: StateSnapshot = store.snapshot()
    fields = report_fields(
        settings,
        snapshot,
        orchestration or snapshot.orchestration,
        utc_now(),
        provider_is_configured,
    )
    return StatusReport.model_validate(fields)


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
    report = build_status(settings, store, saved)
    _remember_settings(settings, store)
    return settings, store, report


def _remember_settings(settings: Settings, store: StateStore) -> None:
    """Leave the validated settings for the next ``status --json`` (``status_fast``): only
    for the JSON store, and only when building them warned about nothing (a warning must
    be repeated on every run, so that run needs the full path)."""
    from collabiq_llm.settings import has_unknown_keys
    from collabiq_llm.status_fast import settings_memo, write_memo

    if getattr(store, "backend", None) != "json" or settings.state_url or has_unknown_keys():
        return
    write_memo(settings_memo(settings, Path(store.state_dir), provider_is_configured))
