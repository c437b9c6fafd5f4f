"""Circuit-breaker transitions as pure functions over plain data.

Why pure: the breaker is shared by many processes, so its truth lives in the
store and is re-read on every decision. These functions take the stored
:class:`BreakerState`, the settings and an injected ``now`` and return the new
state; the store wraps each call in one locked transaction. No timers: OPEN
becomes HALF_OPEN lazily when someone looks after the cooldown (:func:`current`).

Rules
* CLOSED → OPEN after ``failure_threshold`` consecutive counted failures.
  Cooldown is ``cooldown_s`` or the provider's retry-after, whichever is longer.
* ``auth`` (401/403) opens at once for ``auth_cooldown_s``: the key must be fixed.
* Failures that do not count against the provider (our own bad request, a
  cancelled call) change nothing, except that a probe slot they held is freed.
* HALF_OPEN: at most ``half_open_max_probes`` calls in flight across all
  processes, each holding a slot that expires after ``probe_ttl_s`` (a crashed
  prober cannot wedge the breaker). ``success_threshold`` successes close it —
  any success seen while half-open counts, probe or not, since it proves the
  provider answers. Any counted failure re-opens it.
* A retry-after (429, or a 503 that says when) sets ``not_before``: every process
  reads it from the store and leaves the provider alone until then, whether or not
  the failure opened the circuit. It is handed out on the permit (the orchestrator
  decides: a retry this process already timed to the retry-after may go) and shown
  by status. It expires by itself (:func:`current`).
* Invalid model output (``trips_breaker=False`` on the event) is passed here as
  ``counts=False``: the provider is up, it only answered badly.
* OPEN: a late success (from a call started before it opened) is ignored; a late
  failure only extends the cooldown when it carries a longer retry-after.
"""

from __future__ import annotations

import datetime as dt
import math

from pydantic import BaseModel, Field

from collabiq_llm.settings import BreakerSettings
from collabiq_llm.state.api import BreakerStateName, Permit, UtcDatetime
from collabiq_llm.state.views import current, not_before, view  # noqa: F401  (re-exported)

AUTH_KIND = "auth"


class BreakerState(BaseModel):
    """What is persisted per provider."""

    state: BreakerStateName = "closed"
    consecutive_failures: int = 0
    opened_at: UtcDatetime | None = None
    open_until: UtcDatetime | None = None
    reason: str | None = None
    half_open_successes: int = 0
    probes: dict[str, UtcDatetime] = Field(default_factory=dict)  # token -> slot expiry
    trips: int = 0  # how often it opened, kept across resets
    not_before: UtcDatetime | None = None  # retry-after: no calls before this time


def _secs(delta: dt.timedelta) -> int:
    return max(0, math.ceil(delta.total_seconds()))


def _release(state: BreakerState, token: str | None) -> BreakerState:
    if token and token in state.probes:
        probes = {t: e for t, e in state.probes.items() if t != token}
        return state.model_copy(update={"probes": probes})
    return state


def acquire(
    state: BreakerState, cfg: BreakerSettings, now: dt.datetime, token: str
) -> tuple[BreakerState, Permit]:
    """May a call go out now? In HALF_OPEN this claims a probe slot under ``token``."""
    s = current(state, now)
    if s.state == "closed":
        return s, Permit(allowed=True, state="closed", not_before=s.not_before)
    if s.state == "open":
        until = s.open_until or now
        reason = f"circuit open ({s.reason or 'failing'}); retry in {_secs(until - now)} s"
        return s, Permit(allowed=False, state="open", reason=reason, retry_at=until)
    if len(s.probes) >= cfg.half_open_max_probes:
        reason = f"circuit half-open: {len(s.probes)} probe call(s) already in flight"
        return s, Permit(
            allowed=False, state="half_open", reason=reason, retry_at=min(s.probes.values())
        )
    expiry = now + dt.timedelta(seconds=cfg.probe_ttl_s)
    claimed = s.model_copy(update={"probes": {**s.probes, token: expiry}})
    return claimed, Permit(
        allowed=True, state="half_open", probe_token=token, not_before=s.not_before
    )


def _closed(state: BreakerState) -> BreakerState:
    return BreakerState(trips=state.trips, not_before=state.not_before)


def _open(
    state: BreakerState, now: dt.datetime, cooldown_s: float, reason: str, failures: int
) -> BreakerState:
    until = now + dt.timedelta(seconds=cooldown_s)
    if state.state == "open" and state.open_until is not None:
        until = max(until, state.open_until)
    return BreakerState(
        state="open",
        consecutive_failures=failures,
        opened_at=state.opened_at if state.state == "open" else now,
        open_until=until,
        reason=reason,
        trips=state.trips + (0 if state.state == "open" else 1),
        not_before=state.not_before,
    )


def auth_reason(cfg: BreakerSettings) -> str:
    return (
        "authentication/permission error: fix the API key "
        f"(blocked for {cfg.auth_cooldown_s:g} s or until reset)"
    )


def on_success(
    state: BreakerState, cfg: BreakerSettings, now: dt.datetime, probe_token: str | None = None
) -> BreakerState:
    """A call succeeded."""
    s = _release(current(state, now), probe_token)
    if s.state == "closed":
        if s.consecutive_failures == 0:
            return s
        return s.model_copy(update={"consecutive_failures": 0})
    if s.state == "open":
        return s
    successes = s.half_open_successes + 1
    if successes >= cfg.success_threshold:
        return _closed(s)
    return s.model_copy(update={"half_open_successes": successes, "consecutive_failures": 0})


def on_failure(
    state: BreakerState,
    cfg: BreakerSettings,
    now: dt.datetime,
    *,
    kind: str | None,
    retry_after_s: float | None = None,
    counts: bool = True,
    probe_token: str | None = None,
) -> BreakerState:
    """A call failed with error ``kind``; ``counts`` is False for our own bad requests."""
    s = _release(current(state, now), probe_token)
    wait = max(0.0, retry_after_s or 0.0)
    if wait:
        quiet_until = now + dt.timedelta(seconds=wait)
        if s.not_before is None or quiet_until > s.not_before:
            s = s.model_copy(update={"not_before": quiet_until})
    if not counts:
        return s
    failures = s.consecutive_failures + 1
    if kind == AUTH_KIND:
        return _open(s, now, max(cfg.auth_cooldown_s, wait), auth_reason(cfg), failures)
    what = kind or "error"
    if s.state == "half_open":
        return _open(s, now, max(cfg.cooldown_s, wait), f"probe call failed: {what}", failures)
    if s.state == "open":
        until = s.open_until or now
        if wait:
            until = max(until, now + dt.timedelta(seconds=wait))
        return s.model_copy(update={"consecutive_failures": failures, "open_until": until})
    if failures >= cfg.failure_threshold:
        reason = f"{failures} consecutive failures, last: {what}"
        return _open(s, now, max(cfg.cooldown_s, wait), reason, failures)
    return s.model_copy(update={"consecutive_failures": failures})


def record(
    state: BreakerState,
    cfg: BreakerSettings,
    now: dt.datetime,
    *,
    ok: bool,
    kind: str | None = None,
    retry_after_s: float | None = None,
    counts: bool = True,
    probe_token: str | None = None,
) -> BreakerState:
    """Dispatch one call outcome to :func:`on_success` or :func:`on_failure`."""
    if ok:
        return on_success(state, cfg, now, probe_token)
    return on_failure(
        state,
        cfg,
        now,
        kind=kind,
        retry_after_s=retry_after_s,
        counts=counts,
        probe_token=probe_token,
    )


def reset(state: BreakerState) -> BreakerState:
    """Close by hand (after fixing a key): clears failures, probes and any retry-after wait."""
    return BreakerState(trips=state.trips)
