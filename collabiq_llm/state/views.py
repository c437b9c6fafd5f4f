"""What ``status`` shows of one stored provider record, at a given time.

Plain functions over records read by attribute: the pydantic models of the state
files, or the plain records :mod:`collabiq_llm.status_fast` reads without pydantic
(so ``llm status --json`` starts fast). Nothing here imports pydantic or settings.
:mod:`collabiq_llm.state.breaker` and :mod:`collabiq_llm.state.health` re-export them.
"""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace
from typing import Any

from collabiq_llm.state.spend import spent


def replace(record: Any, **changes: Any) -> Any:
    """A copy of ``record`` with ``changes``: a pydantic model or a plain namespace."""
    copy = getattr(record, "model_copy", None)
    if copy is not None:
        return copy(update=changes)
    return SimpleNamespace(**{**vars(record), **changes})


# -- breaker -------------------------------------------------------------------------------


def current(state: Any, now: dt.datetime) -> Any:
    """The breaker state at ``now``: OPEN past its cooldown is HALF_OPEN; expired probe
    slots and an expired ``not_before`` dropped."""
    if state.not_before is not None and now >= state.not_before:
        state = replace(state, not_before=None)
    if state.state == "open" and state.open_until is not None and now >= state.open_until:
        return replace(state, state="half_open", half_open_successes=0, probes={})
    if state.state == "half_open" and state.probes:
        live = {tok: exp for tok, exp in state.probes.items() if exp > now}
        if len(live) != len(state.probes):
            return replace(state, probes=live)
    return state


def not_before(state: Any, now: dt.datetime) -> dt.datetime | None:
    """When the provider may be called again after a retry-after; None when it may now."""
    return current(state, now).not_before


def view(state: Any, cfg: Any, now: dt.datetime) -> tuple[str, str | None, dt.datetime | None]:
    """(state, reason, next_try_at) for status; ``next_try_at`` None means "may be tried now".

    An OPEN breaker whose cooldown has passed is shown as HALF_OPEN, since the next
    acquire will make it so.
    """
    s = current(state, now)
    if s.state == "closed":
        return "closed", None, None
    if s.state == "open":
        return "open", s.reason, s.open_until
    if len(s.probes) >= cfg.half_open_max_probes:
        return "half_open", s.reason, min(s.probes.values())
    return "half_open", s.reason, None


# -- health --------------------------------------------------------------------------------


def success_rate(stats: Any) -> float | None:
    """Successes / calls, leaving out our own faults and lost races; None before any call."""
    judged = stats.calls - stats.own_failures - stats.cancelled
    return stats.successes / judged if judged > 0 else None


def percentile(values: list[float], q: float, *, ordered: bool = False) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values`` (``ordered``: already
    sorted); None when empty."""
    if not values:
        return None
    ranked = values if ordered else sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ranked)))
    return ranked[min(rank, len(ranked)) - 1]


def latency_summary(stats: Any) -> tuple[float | None, float | None, float | None]:
    """(mean, p50, p95) in ms over the latency window (sorted once: status reads this
    for every provider on every email)."""
    window = stats.latencies_ms
    if not window:
        return None, None, None
    mean = sum(window) / len(window)
    ranked = sorted(window)
    p50 = percentile(ranked, 50, ordered=True)
    return round(mean, 3), p50, percentile(ranked, 95, ordered=True)


def first_event_p95(stats: Any) -> float | None:
    """p95 time to first event (ms) of recent streaming calls; None without any."""
    return percentile(stats.first_event_ms, 95)


# -- one provider --------------------------------------------------------------------------


def provider_fields(rec: Any, breaker_cfg: Any, now: dt.datetime) -> dict[str, Any]:
    """The fields of a ``ProviderSnapshot`` for one stored record (breaker, health, usage)."""
    state, reason, next_try = view(rec.breaker, breaker_cfg, now)
    stats = rec.health
    mean, p50, p95 = latency_summary(stats)
    usage = rec.usage
    today, month = spent(usage, now)
    return {
        "breaker": state,
        "breaker_reason": reason,
        "next_try_at": next_try,
        "calls": stats.calls,
        "successes": stats.successes,
        "failures": stats.failures,
        "failures_by_kind": dict(stats.failures_by_kind),
        "consecutive_failures": rec.breaker.consecutive_failures,
        "success_rate": success_rate(stats),
        "avg_latency_ms": mean,
        "p50_latency_ms": p50,
        "p95_latency_ms": p95,
        "p95_first_event_ms": first_event_p95(stats),
        "first_event_samples": len(stats.first_event_ms),
        "cancelled": stats.cancelled,
        "not_before": not_before(rec.breaker, now),
        "last_success": stats.last_success,
        "last_failure": stats.last_failure,
        "last_error": stats.last_error,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": None if usage.unpriced_calls else usage.cost_usd,
        "unpriced_calls": usage.unpriced_calls,
        "hedges": stats.hedges,
        "spent_today_usd": today,
        "spent_month_usd": month,
        "latency_window_ms": list(stats.latencies_ms),
    }


def snapshot_fields(
    backend: str, location: str, providers: dict[str, Any], costs: Any, orchestration: Any
) -> dict[str, Any]:
    """The fields of a ``StateSnapshot`` of the JSON store, from its parsed documents."""
    return {
        "backend": backend,
        "location": location,
        "providers": providers,
        "emails": costs.emails,
        "total_cost_usd": costs.total_cost_usd,
        "unpriced_emails": costs.unpriced_emails,
        "cost_by_strategy": dict(costs.by_strategy),
        "email_cost_by_provider": dict(costs.by_provider),
        "orchestration": orchestration,
    }
