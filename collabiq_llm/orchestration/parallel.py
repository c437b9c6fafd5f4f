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
    skipped_attempt,
)
from collabiq_llm.orchestration.outcome import StrategyOutcome
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

    Each call is bounded by its provider's timeout; ``window_s`` additionally caps
    the wait (calls still running then are cancelled and count as too slow).
    """
    permits = await asyncio.gather(*(acquire(ctx, p) for p in providers))
    running: dict[asyncio.Task[CallOutcome], CallHandle] = {}
    for provider, permit in zip(providers, permits, strict=True):
        if not permit.allowed:
            outcome.attempts.append(skipped_attempt(provider, permit))
            continue
        handle = CallHandle(provider=provider, permit=permit, started=ctx.monotonic())
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
