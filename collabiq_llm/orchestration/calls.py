"""One guarded provider call: permit, timeout, health/cost record, attempt entry.

Every strategy calls providers only through here, so breaker, health and cost
bookkeeping cannot be forgotten by one of them. Store I/O runs in a worker thread
(it may wait for a file lock); it is never held across the network call.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from collabiq_llm.email.input import EmailInput
from collabiq_llm.entities import Attempt, utc_now
from collabiq_llm.errors import InternalProviderError, LLMAPIError, LLMTimeoutError, StateError
from collabiq_llm.providers.base import LLMProvider, ProviderResult
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
    """Why a running call was cancelled; decides whether it counts against the provider."""

    NOT_NEEDED = "not_needed"  # another answer won; not the provider's fault
    TOO_SLOW = "too_slow"  # hedged and beaten, or past the strategy's window


@dataclass
class CallHandle:
    """A running call; set ``cancel_reason`` before cancelling its task."""

    provider: LLMProvider
    permit: Permit
    hedge: bool = False
    started: float = 0.0
    cancel_reason: str = CancelReason.NOT_NEEDED


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


async def acquire(ctx: CallContext, provider: LLMProvider) -> Permit:
    """Ask the breaker (and budget) whether this provider may be called now."""
    cfg = provider.config
    budgets = {
        "budget_daily_usd": cfg.budget_daily_usd,
        "budget_monthly_usd": cfg.budget_monthly_usd,
    }
    try:
        nowait = getattr(ctx.store, "acquire_nowait", None)
        if nowait is not None and in_memory(ctx.store):
            permit = nowait(provider.provider_name, **budgets)
            if permit is not None:
                return permit
        return await asyncio.to_thread(ctx.store.acquire, provider.provider_name, **budgets)
    except StateError as exc:
        state_unavailable(exc)
        return Permit(allowed=True, reason="state store unavailable")


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


async def guarded_call(ctx: CallContext, handle: CallHandle, email: EmailInput) -> CallOutcome:
    """Run one provider call within its timeout and record the outcome in state."""
    provider = handle.provider
    name = provider.provider_name
    handle.started = ctx.monotonic()
    try:
        # the first call of a process imports the SDK and builds its client (up to ~1 s);
        # that is not the provider's response time, so the clock starts after it
        provider.prepare()
        handle.started = ctx.monotonic()
        async with asyncio.timeout(provider.timeout_s):
            result = await provider.aextract(email)
    except asyncio.CancelledError:
        _record_cancelled(ctx, handle)
        raise
    except TimeoutError:
        error: LLMAPIError = LLMTimeoutError(
            f"no answer within {provider.timeout_s:g} s", provider=name
        )
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
        input_tokens=error.input_tokens,
        output_tokens=error.output_tokens,
        cost_usd=_cost(ctx, model, error.input_tokens, error.output_tokens) if billed else 0.0,
        probe_token=handle.permit.probe_token,
        hedge=handle.hedge,
    )


def _record_cancelled(ctx: CallContext, handle: CallHandle) -> None:
    """A cancelled call: too slow counts as a timeout against the provider; a probe or hedge
    that merely lost is recorded as kind "cancelled" (frees the probe slot, counts toward
    the hedge budget, never touches the breaker); anything else leaves no trace."""
    latency = (ctx.monotonic() - handle.started) * 1000.0
    if handle.cancel_reason == CancelReason.TOO_SLOW:
        error = LLMTimeoutError(
            f"no answer after {latency / 1000:.2f} s; cancelled",
            provider=handle.provider.provider_name,
        )
        with contextlib.suppress(StateError):
            ctx.store.record_call(_failure_event(ctx, handle, error, latency))
    elif handle.permit.probe_token or handle.hedge:
        # a real request was sent: free its probe slot / count it against the hedge budget,
        # without blaming the provider (kind "cancelled" does not touch the breaker)
        event = _failure_event(
            ctx, handle, LLMAPIError("cancelled: another provider answered first"), latency
        )
        with contextlib.suppress(StateError):
            ctx.store.record_call(
                event.model_copy(
                    update={"error_kind": "cancelled", "counts_against_provider": False}
                )
            )


def cancelled_attempt(handle: CallHandle, latency_ms: float) -> Attempt:
    too_slow = handle.cancel_reason == CancelReason.TOO_SLOW
    return Attempt(
        provider=handle.provider.provider_name,
        model=handle.provider.model_id,
        outcome="late" if too_slow else "cancelled",
        error_kind="timeout" if too_slow else None,
        error="no answer in time; cancelled" if too_slow else "cancelled: not needed",
        latency_ms=round(latency_ms, 2),
        cost_usd=None,
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
