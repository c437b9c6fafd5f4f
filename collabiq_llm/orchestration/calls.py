"""One guarded provider call: permit, timeout, health/cost record, attempt entry.

Every strategy calls providers only through here, so breaker, health and cost
bookkeeping cannot be forgotten by one of them. Store I/O runs in a worker thread
(it may wait for a file lock); it is never held across the network call.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from collabiq_llm.email.input import EmailInput
from collabiq_llm.entities import Attempt, utc_now
from collabiq_llm.errors import InternalProviderError, LLMAPIError, LLMTimeoutError, StateError
from collabiq_llm.providers.base import LLMProvider, ProviderResult
from collabiq_llm.providers.watch import CallWatch, watching
from collabiq_llm.redact import redact
from collabiq_llm.settings import Settings
from collabiq_llm.state.api import CallEvent, Permit, StateStore
from collabiq_llm.state.costs import call_cost, price_for


@dataclass
class CallContext:
    """What a strategy needs besides providers: settings, state and injected clocks."""

    settings: Settings
    store: StateStore
    monotonic: Callable[[], float] = time.monotonic
    now: Callable[[], dt.datetime] = utc_now
    sleep: Callable[[float], object] = asyncio.sleep


class CancelReason:
    """Why a running call was cancelled. Either way it is a lost race, recorded as
    ``cancelled`` (never a failure): the reason only labels the attempt in ``meta``."""

    NOT_NEEDED = "not_needed"  # another answer won the race
    TOO_SLOW = "too_slow"  # still running when the strategy's window / deadline closed


@dataclass
class CallHandle:
    """A running call; set ``cancel_reason`` before cancelling its task."""

    provider: LLMProvider
    permit: Permit
    hedge: bool = False
    started: float = 0.0
    cancel_reason: str = CancelReason.NOT_NEEDED
    first_byte_timeout_s: float | None = None  # streaming: no first event by then = hung
    watch: CallWatch | None = None
    cancel_cost: float | None = 0.0  # cost of billed tokens of a cancelled stream

    @property
    def first_event_seen(self) -> bool:
        return self.watch is not None and self.watch.first_event_at is not None


@dataclass
class CallOutcome:
    provider: str
    attempt: Attempt
    result: ProviderResult | None = None
    error: LLMAPIError | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.result is not None


_state_warned = False


def state_unavailable(exc: StateError) -> None:
    """One warning per process: bookkeeping failed, extraction goes on."""
    global _state_warned
    if not _state_warned:
        _state_warned = True
        sys.stderr.write(
            f"collabiq: warning: state store unavailable ({redact(exc)}); extraction goes on, "
            "breaker decisions fall back to closed and this event is not recorded\n"
        )


def in_memory(store: StateStore) -> bool:
    """True when the store's records and reads never wait for a lock or the network (the
    group-committing JSON store): then they run on the event loop, saving a thread hop
    per event; otherwise in a worker thread, so a stuck store never blocks the loop."""
    return getattr(store, "records_block", True) is False


async def record(ctx: CallContext, fn: Callable[..., object], *args: object) -> None:
    """Write one state event (off the event loop unless the store only queues it); a stuck
    store never costs an email."""
    try:
        if in_memory(ctx.store):
            fn(*args)
        else:
            await asyncio.to_thread(fn, *args)
    except StateError as exc:
        state_unavailable(exc)


async def acquire(ctx: CallContext, provider: LLMProvider, *, retrying: bool = False) -> Permit:
    """Ask the breaker (and budget) whether this provider may be called now.

    A provider that asked for quiet (retry-after, persisted as ``not_before`` so every
    process sees it) is refused until then — unless ``retrying``: this process already
    waited out that very retry-after before its second round.
    """
    cfg = provider.config
    budgets = {
        "budget_daily_usd": cfg.budget_daily_usd,
        "budget_monthly_usd": cfg.budget_monthly_usd,
    }
    try:
        nowait = getattr(ctx.store, "acquire_nowait", None)
        permit = None
        if nowait is not None and in_memory(ctx.store):
            permit = nowait(provider.provider_name, **budgets)
        if permit is None:
            permit = await asyncio.to_thread(ctx.store.acquire, provider.provider_name, **budgets)
    except StateError as exc:
        state_unavailable(exc)
        return Permit(allowed=True, reason="state store unavailable")
    return _honour_not_before(ctx, permit, retrying=retrying)


def _honour_not_before(ctx: CallContext, permit: Permit, *, retrying: bool) -> Permit:
    quiet_until = permit.not_before
    if not permit.allowed or retrying or quiet_until is None:
        return permit
    wait = (quiet_until - ctx.now()).total_seconds()
    if wait <= 0:
        return permit
    return Permit(
        allowed=False,
        state=permit.state,
        reason=(
            f"rate-limited: asked for quiet until {quiet_until:%Y-%m-%d %H:%M:%S} UTC "
            f"(retry in {math.ceil(wait)} s)"
        ),
        retry_at=quiet_until,
        not_before=quiet_until,
    )


def skipped_attempt(provider: LLMProvider, permit: Permit) -> Attempt:
    return Attempt(
        provider=provider.provider_name,
        model=provider.model_id,
        outcome="skipped",
        error=permit.reason or f"circuit {permit.state}",
        cost_usd=0.0,
    )


def _cost(ctx: CallContext, model: str, input_tokens: int, output_tokens: int) -> float | None:
    return call_cost(price_for(model, ctx.settings.prices), input_tokens, output_tokens)


async def prepare_providers(providers: list[LLMProvider]) -> None:
    """SDK import off the event loop, then each client built, before any clock starts.

    ``import anthropic`` takes ~0.7 s: done on the loop it would stall every call
    already in flight and be counted in their latency (issue 13: "latency lies").
    """
    modules = [m for p in providers for m in getattr(p, "sdk_modules", ())]
    if any(m not in sys.modules for m in modules):  # else no thread hop: once per email
        await asyncio.to_thread(_import_all, modules)
    for provider in providers:
        with contextlib.suppress(Exception):  # a failure here resurfaces in the call
            provider.prepare()


def _import_all(modules: list[str]) -> None:
    import importlib

    for module in modules:
        with contextlib.suppress(Exception):  # a broken SDK surfaces on first call
            importlib.import_module(module)


def _first_event_ms(handle: CallHandle) -> float | None:
    watch = handle.watch
    if watch is None or watch.first_event_at is None:
        return None
    return max(0.0, (watch.first_event_at - handle.started) * 1000.0)


async def _call(provider: LLMProvider, handle: CallHandle, email: EmailInput) -> ProviderResult:
    """``aextract`` under one timer: the first-event deadline until the answer starts
    streaming, then ``timeout_s`` from the start (a long generation is not a hang)."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    first = handle.first_byte_timeout_s
    limit = provider.timeout_s if first is None else min(first, provider.timeout_s)
    async with asyncio.timeout_at(t0 + limit) as timer:

        def extend() -> None:
            if not timer.expired():
                timer.reschedule(t0 + provider.timeout_s)

        assert handle.watch is not None
        handle.watch.listeners.append(extend)
        return await provider.aextract(email)


async def guarded_call(ctx: CallContext, handle: CallHandle, email: EmailInput) -> CallOutcome:
    """Run one provider call within its timeout and record the outcome in state."""
    provider = handle.provider
    name = provider.provider_name
    handle.watch = CallWatch(clock=ctx.monotonic)
    if not provider.streams:
        handle.first_byte_timeout_s = None
    try:
        # strategies prepare providers before starting calls (prepare_providers); a
        # provider built here still keeps its client construction out of the latency
        provider.prepare()
        handle.started = ctx.monotonic()
        with watching(handle.watch):
            result = await _call(provider, handle, email)
    except asyncio.CancelledError:
        _record_cancelled(ctx, handle)
        raise
    except TimeoutError:
        if handle.first_byte_timeout_s is not None and not handle.first_event_seen:
            message = f"hung: no first event within {handle.first_byte_timeout_s:g} s"
        else:
            message = f"no answer within {provider.timeout_s:g} s"
        error: LLMAPIError = LLMTimeoutError(message, provider=name)
    except LLMAPIError as exc:
        error = exc
    except Exception as exc:  # a bug (ours or an SDK mismatch) must not stop failover ...
        error = InternalProviderError(
            f"unexpected {type(exc).__name__}: {redact(exc)}", provider=name
        )
    else:
        latency = (ctx.monotonic() - handle.started) * 1000.0
        cost = _cost(ctx, result.model, result.input_tokens, result.output_tokens)
        await record(
            ctx,
            ctx.store.record_call,
            CallEvent(
                provider=name,
                model=result.model,
                ok=True,
                at=ctx.now(),
                latency_ms=latency,
                input_tokens=result.input_tokens,
                output_tokens=result.output_tokens,
                cost_usd=cost,
                probe_token=handle.permit.probe_token,
                hedge=handle.hedge,
                first_event_ms=_first_event_ms(handle),
            ),
        )
        attempt = Attempt(
            provider=name,
            model=result.model,
            outcome="success",
            latency_ms=round(latency, 2),
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            cost_usd=cost,
            hedge=handle.hedge,
        )
        return CallOutcome(
            provider=name, attempt=attempt, result=result.model_copy(update={"latency_ms": latency})
        )
    error.provider = error.provider or name
    if not (error.input_tokens or error.output_tokens) and handle.watch.input_tokens:
        # a stream that broke after the provider reported usage: still billed
        error.with_usage(handle.watch.input_tokens, handle.watch.output_tokens, handle.watch.model)
    latency = (ctx.monotonic() - handle.started) * 1000.0
    event = _failure_event(ctx, handle, error, latency)
    await record(ctx, ctx.store.record_call, event)
    attempt = Attempt(
        provider=name,
        model=event.model,
        outcome="error",
        error_kind=error.kind,
        error=redact(error.message)[:300],
        latency_ms=round(latency, 2),
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cost_usd=event.cost_usd,
        hedge=handle.hedge,
    )
    return CallOutcome(provider=name, attempt=attempt, error=error)


def _failure_event(
    ctx: CallContext, handle: CallHandle, error: LLMAPIError, latency_ms: float
) -> CallEvent:
    model = error.model or handle.provider.model_id
    billed = error.input_tokens or error.output_tokens
    return CallEvent(
        provider=handle.provider.provider_name,
        model=model,
        ok=False,
        at=ctx.now(),
        latency_ms=latency_ms,
        error_kind=error.kind,
        error_message=redact(str(error)),
        retry_after_s=error.retry_after,
        counts_against_provider=error.counts_against_provider,
        trips_breaker=error.trips_breaker,
        input_tokens=error.input_tokens,
        output_tokens=error.output_tokens,
        cost_usd=_cost(ctx, model, error.input_tokens, error.output_tokens) if billed else 0.0,
        probe_token=handle.permit.probe_token,
        hedge=handle.hedge,
        first_event_ms=_first_event_ms(handle),
    )


def _record_cancelled(ctx: CallContext, handle: CallHandle) -> None:
    """A call cancelled because another answered (or the strategy's window closed) lost a
    race: recorded as kind ``cancelled`` — a call (hedge budget), its cost if the stream had
    reported billed tokens, a freed probe slot — but never a failure: not in the breaker,
    the success rate or the latency percentiles. A hang is caught by the call's own
    first-event deadline, before anyone cancels it."""
    latency = (ctx.monotonic() - handle.started) * 1000.0
    watch = handle.watch
    error = LLMAPIError(
        f"cancelled after {latency / 1000:.2f} s: another answer won",
        provider=handle.provider.provider_name,
    )
    if watch is not None and (watch.input_tokens or watch.output_tokens):
        error.with_usage(watch.input_tokens, watch.output_tokens, watch.model)
    event = _failure_event(ctx, handle, error, latency)
    with contextlib.suppress(StateError):
        ctx.store.record_call(
            event.model_copy(
                update={
                    "error_kind": "cancelled",
                    "counts_against_provider": False,
                    "trips_breaker": False,
                    "retry_after_s": None,
                }
            )
        )
    handle.cancel_cost = event.cost_usd


def cancelled_attempt(handle: CallHandle, latency_ms: float) -> Attempt:
    too_slow = handle.cancel_reason == CancelReason.TOO_SLOW
    return Attempt(
        provider=handle.provider.provider_name,
        model=handle.provider.model_id,
        outcome="late" if too_slow else "cancelled",
        error_kind="timeout" if too_slow else None,
        error=(
            "still running when the window closed; cancelled"
            if too_slow
            else "cancelled: another answer won"
        ),
        latency_ms=round(latency_ms, 2),
        input_tokens=handle.watch.input_tokens if handle.watch else 0,
        output_tokens=handle.watch.output_tokens if handle.watch else 0,
        cost_usd=handle.cancel_cost,
        hedge=handle.hedge,
    )


async def cancel_all(
    ctx: CallContext,
    running: dict[asyncio.Task[CallOutcome], CallHandle],
    reason: str | Callable[[CallHandle], str],
) -> list[Attempt]:
    """Cancel every running call, wait for them to settle, return their attempts."""
    attempts: list[Attempt] = []
    for task, handle in running.items():
        handle.cancel_reason = reason(handle) if callable(reason) else reason
        task.cancel()
    for task, handle in running.items():
        try:
            outcome = await task
        except asyncio.CancelledError:
            attempts.append(cancelled_attempt(handle, (ctx.monotonic() - handle.started) * 1000))
        else:  # finished just before the cancel landed: keep its real outcome
            attempts.append(outcome.attempt)
    running.clear()
    return attempts
