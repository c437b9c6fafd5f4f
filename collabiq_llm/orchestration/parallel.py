"""Start several guarded calls at once and collect what arrives inside a window."""

from __future__ import annotations

import asyncio

from collabiq_llm.email.input import EmailInput
from collabiq_llm.orchestration.calls import (
    CallContext,
    CallHandle,
    CallOutcome,
    CancelReason,
    acquire,
    cancel_all,
    guarded_call,
    prepare_providers,
    skipped_attempt,
)
from collabiq_llm.orchestration.outcome import StrategyOutcome
from collabiq_llm.orchestration.timing import first_byte_timeout_s
from collabiq_llm.providers.base import LLMProvider


async def call_in_parallel(
    ctx: CallContext,
    providers: list[LLMProvider],
    email: EmailInput,
    outcome: StrategyOutcome,
    *,
    window_s: float | None = None,
) -> list[CallOutcome]:
    """Call every allowed provider concurrently; return the successes in priority order.

    Each call is bounded by its provider's timeout (and, streaming, by its first-event
    deadline); ``window_s`` additionally caps the wait (calls still running then are
    cancelled: a lost race, recorded as ``cancelled``, not as a failure).
    Every provider is prepared (SDK imported off the loop, client built) before the
    first call starts, so no call's latency includes another provider's set-up.
    """
    permits = await asyncio.gather(*(acquire(ctx, p) for p in providers))
    allowed = [p for p, permit in zip(providers, permits, strict=True) if permit.allowed]
    snapshot = await asyncio.to_thread(ctx.store.snapshot) if allowed else None
    await prepare_providers(allowed)
    running: dict[asyncio.Task[CallOutcome], CallHandle] = {}
    for provider, permit in zip(providers, permits, strict=True):
        if not permit.allowed:
            outcome.attempts.append(skipped_attempt(provider, permit))
            continue
        snap = snapshot.providers.get(provider.provider_name) if snapshot else None
        handle = CallHandle(
            provider=provider,
            permit=permit,
            started=ctx.monotonic(),
            first_byte_timeout_s=first_byte_timeout_s(ctx.settings.failover, provider, snap),
        )
        running[asyncio.create_task(guarded_call(ctx, handle, email))] = handle
    if not running:
        return []
    done, _ = await asyncio.wait(running, timeout=window_s)
    finished: list[CallOutcome] = []
    for task in list(running):
        if task in done:
            running.pop(task)
            finished.append(task.result())
    outcome.attempts += [f.attempt for f in finished]
    if running:
        outcome.attempts += await cancel_all(ctx, running, CancelReason.TOO_SLOW)
    order = {p.provider_name: i for i, p in enumerate(providers)}
    finished.sort(key=lambda f: order[f.provider])
    for failed in (f for f in finished if not f.ok):
        assert failed.error is not None
        outcome.errors[failed.provider] = failed.error
    return [f for f in finished if f.ok]
