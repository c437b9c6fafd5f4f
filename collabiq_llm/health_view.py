"""What an operator can act on, per provider: one health state, its until-time and reason.

A pure function over plain snapshot data (no store, no settings object), so the
same answer drives ``status``, ``status --check``, ``llm metrics`` and the
degraded warning. States, most urgent first:

* ``not_configured`` — no key and not asked for: not in use, never a check failure;
* ``misconfigured`` — a bad key (auth error), or named in the order without a key;
* ``over_budget`` — daily/monthly spend reached; until 00:00 UTC / the 1st of next month;
* ``rate_limited`` — the provider asked us to wait (Retry-After) or its circuit
  opened on rate limits; until that time;
* ``open`` — circuit open; retry at ``until``;
* ``half_open`` — cooldown over, probe calls allowed;
* ``untested`` — no call recorded yet;
* ``degraded`` — the last call(s) failed but the circuit is still closed;
* ``healthy``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from collabiq_llm.state.spend import money, next_day, next_month

HEALTH_STATES = (
    "healthy",
    "degraded",
    "open",
    "half_open",
    "rate_limited",
    "over_budget",
    "misconfigured",
    "untested",
    "not_configured",
)
CANNOT_TAKE_CALLS = ("open", "rate_limited", "over_budget", "misconfigured")


@dataclass(frozen=True)
class HealthView:
    state: str
    until: dt.datetime | None = None  # when the state ends by itself (None: it does not)
    reason: str | None = None  # one line an operator can act on

    @property
    def can_take_calls(self) -> bool:
        return self.state not in CANNOT_TAKE_CALLS


def budget_over(
    *,
    spent_today: float,
    spent_month: float,
    budget_daily: float | None,
    budget_monthly: float | None,
    now: dt.datetime,
) -> tuple[str, dt.datetime] | None:
    """(reason, reset time) when a budget is spent; the monthly one wins (it lasts longer)."""
    if budget_monthly is not None and spent_month >= budget_monthly:
        return (
            f"monthly budget spent: {money(spent_month)} of {money(budget_monthly)}",
            next_month(now),
        )
    if budget_daily is not None and spent_today >= budget_daily:
        return f"daily budget spent: {money(spent_today)} of {money(budget_daily)}", next_day(now)
    return None


def provider_health(
    *,
    now: dt.datetime,
    configured: bool,
    in_use: bool = True,
    breaker: str = "closed",
    breaker_reason: str | None = None,
    next_try_at: dt.datetime | None = None,
    calls: int = 0,
    consecutive_failures: int = 0,
    failures_by_kind: Mapping[str, int] | None = None,
    spent_today: float = 0.0,
    spent_month: float = 0.0,
    budget_daily: float | None = None,
    budget_monthly: float | None = None,
    not_before: dt.datetime | None = None,
    missing_key_hint: str | None = None,
) -> HealthView:
    """The one health state of a provider (see the module docstring for the order)."""
    kinds = failures_by_kind or {}
    if not configured:
        if in_use:
            return HealthView(
                state="misconfigured", reason=f"no API key: {missing_key_hint or 'set its key'}"
            )
        return HealthView(state="not_configured", reason=missing_key_hint)
    reason = breaker_reason or ""
    if breaker == "open" and kinds.get("auth") and reason.lower().startswith("auth"):
        return HealthView(state="misconfigured", until=next_try_at, reason=reason)
    over = budget_over(
        spent_today=spent_today,
        spent_month=spent_month,
        budget_daily=budget_daily,
        budget_monthly=budget_monthly,
        now=now,
    )
    if over is not None:
        return HealthView(state="over_budget", until=over[1], reason=over[0])
    if not_before is not None and not_before > now:
        return HealthView(
            state="rate_limited", until=not_before, reason="provider asked to wait (Retry-After)"
        )
    if breaker == "open":
        state = "rate_limited" if "rate_limit" in reason else "open"
        return HealthView(state=state, until=next_try_at, reason=reason or "circuit open")
    if breaker == "half_open":
        return HealthView(
            state="half_open", until=next_try_at, reason=reason or "cooldown over: probing"
        )
    if calls == 0:
        return HealthView(state="untested")
    if consecutive_failures > 0:
        return HealthView(
            state="degraded", reason=f"last {consecutive_failures} call(s) failed, circuit closed"
        )
    return HealthView(state="healthy")


def label(view: HealthView, when: str | None = None) -> str:
    """'open (retry at 14:05:09 UTC)', 'over-budget (until 00:00 UTC)', 'healthy'."""
    text = view.state.replace("_", "-")
    if view.until is None or when is None:
        return text
    if view.state in ("open", "misconfigured"):
        return f"{text} (retry at {when})"
    if view.state == "half_open":
        return f"{text} (next probe {when})"
    return f"{text} (until {when})"


def until_text(until: dt.datetime | None, now: dt.datetime) -> str | None:
    """'14:05:09 UTC' within the hour, '00:00 UTC' within a day, else 'Dec 01 00:00 UTC'."""
    if until is None:
        return None
    until = until.astimezone(dt.UTC)
    ahead = until - now.astimezone(dt.UTC)
    if ahead < dt.timedelta(hours=1):
        return f"{until:%H:%M:%S} UTC"
    if ahead <= dt.timedelta(hours=24):
        return f"{until:%H:%M} UTC"
    return f"{until:%b %d %H:%M} UTC"
