"""Failover with hedging: providers in priority order, the first valid answer wins.

A failed call moves to the next provider at once; the same provider is retried
only after every provider was tried (next round), honouring ``retry-after``,
within an overall deadline. If the current provider is slow past its hedge delay
(its recent p95 latency clamped to [hedge_min_s, hedge_max_s]) the next provider
starts in parallel, subject to a fleet-wide hedge budget.
"""

from __future__ import annotations

import asyncio
import contextlib

from collabiq_llm.email.input import EmailInput
from collabiq_llm.errors import LLMAPIError, LLMTimeoutError
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
from collabiq_llm.state.api import StateSnapshot


def hedge_delay_s(ctx: CallContext, snapshot: StateSnapshot, provider: str) -> float:
    """The provider's recent p95 latency, clamped; the upper bound when there is no history."""
    cfg = ctx.settings.failover
    stats = snapshot.providers.get(provider)
    p95 = stats.p95_latency_ms if stats else None
    if p95 is None:
        return cfg.hedge_max_s
    return min(max(p95 / 1000.0, cfg.hedge_min_s), cfg.hedge_max_s)


def hedge_allowed(ctx: CallContext, snapshot: StateSnapshot, used_here: int) -> bool:
    """Fleet-wide budget: hedges ≤ burst + budget × calls (a token-bucket style cap)."""
    cfg = ctx.settings.failover
    if not cfg.hedge:
        return False
    calls = sum(p.calls for p in snapshot.providers.values())
    hedges = sum(p.hedges for p in snapshot.providers.values()) + used_here
    return hedges < cfg.hedge_burst + cfg.hedge_budget * calls


class _Pass:
    """One pass over the provider list, with hedging."""

    def __init__(
        self,
        ctx: CallContext,
        providers: list[LLMProvider],
        email: EmailInput,
        snapshot: StateSnapshot,
        outcome: StrategyOutcome,
        deadline: float,
        retry_due: dict[str, float],
    ) -> None:
        self.ctx = ctx
        self.queue = list(providers)
        self.email = email
        self.snapshot = snapshot
        self.outcome = outcome
        self.deadline = deadline
        self.retry_due = retry_due  # provider -> when its last error allows a retry
        self.running: dict[asyncio.Task[CallOutcome], CallHandle] = {}
        self.hedges_used = 0
        self._finished: dict[asyncio.Task[CallOutcome], CallHandle] = {}

    def _started_of(self, task: asyncio.Task[CallOutcome]) -> float:
        return self._finished[task].started

    async def start_next(self, *, hedge: bool) -> bool:
        while self.queue:
            provider = self.queue.pop(0)
            permit = await acquire(self.ctx, provider)
            if not permit.allowed:
                self.outcome.attempts.append(skipped_attempt(provider, permit))
                continue
            handle = CallHandle(provider=provider, permit=permit, hedge=hedge)
            with contextlib.suppress(Exception):  # a failure here resurfaces in the call
                provider.prepare()  # SDK import + client build: not part of the hedge delay
            handle.started = self.ctx.monotonic()
            task = asyncio.create_task(guarded_call(self.ctx, handle, self.email))
            self.running[task] = handle
            return True
        return False

    def _wait_timeout(self) -> float:
        remaining = self.deadline - self.ctx.monotonic()
        if self.queue and len(self.running) == 1:
            handle = next(iter(self.running.values()))
            delay = hedge_delay_s(self.ctx, self.snapshot, handle.provider.provider_name)
            until_hedge = handle.started + delay - self.ctx.monotonic()
            if until_hedge < remaining and hedge_allowed(self.ctx, self.snapshot, self.hedges_used):
                return max(until_hedge, 0.0)
        return max(remaining, 0.0)

    async def run(self) -> bool:
        """True when a provider answered; attempts and errors go to ``outcome``."""
        await self.start_next(hedge=False)
        while self.running:
            done, _ = await asyncio.wait(
                self.running, timeout=self._wait_timeout(), return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                if self.ctx.monotonic() >= self.deadline:
                    for handle in self.running.values():
                        name = handle.provider.provider_name
                        self.outcome.errors[name] = LLMTimeoutError(
                            "overall deadline passed", provider=name
                        )
                    self.outcome.attempts += await cancel_all(
                        self.ctx, self.running, CancelReason.TOO_SLOW
                    )
                    return False
                if await self.start_next(hedge=True):
                    self.hedges_used += 1
                    self.outcome.hedged = True
                continue
            for task in done:
                self._finished[task] = self.running.pop(task)
                result = task.result()
                self.outcome.attempts.append(result.attempt)
                if result.ok:
                    assert result.result is not None
                    winner_started = self._started_of(task)
                    # a call started before the winner had more time and lost: too slow;
                    # one started after it (a hedge) is merely not needed
                    self.outcome.attempts += await cancel_all(
                        self.ctx,
                        self.running,
                        lambda h, won_at=winner_started: (
                            CancelReason.TOO_SLOW if h.started < won_at else CancelReason.NOT_NEEDED
                        ),
                    )
                    self.outcome.entities = result.result.entities
                    self.outcome.provider = result.provider
                    self.outcome.model = result.result.model
                    return True
                assert result.error is not None
                self.outcome.errors[result.provider] = result.error
                self.retry_due[result.provider] = self.ctx.monotonic() + _retry_after(result.error)
            if not self.running:
                await self.start_next(hedge=False)
        return False


async def run_failover(
    ctx: CallContext,
    providers: list[LLMProvider],
    email: EmailInput,
    snapshot: StateSnapshot,
) -> StrategyOutcome:
    """Try providers in order (with hedging); then retry the retryable ones.

    A provider is retried only after every provider was tried, at most
    ``max_rounds`` calls each, and not before its ``retry-after`` has passed;
    nothing sleeps past the overall deadline.
    """
    cfg = ctx.settings.failover
    outcome = StrategyOutcome()
    deadline = ctx.monotonic() + cfg.deadline_s
    queue = list(providers)
    retry_due: dict[str, float] = {}  # counted from when each error arrived
    while queue:
        if await _Pass(ctx, queue, email, snapshot, outcome, deadline, retry_due).run():
            outcome.fallback_used = outcome.provider != providers[0].provider_name
            return outcome
        now = ctx.monotonic()
        ready_at = {
            p.provider_name: retry_due.get(p.provider_name, now)
            for p in providers
            if _retryable(outcome.errors.get(p.provider_name))
            and _calls(outcome, p.provider_name) < cfg.max_rounds
            and not _refused_last(outcome, p.provider_name)
        }
        if not ready_at:
            break
        wake = max(min(ready_at.values()), now)  # every provider already due goes now
        if wake >= deadline:
            break
        if wake > now:
            await ctx.sleep(wake - now)  # type: ignore[misc]
        queue = [p for p in providers if ready_at.get(p.provider_name, float("inf")) <= wake]
    return outcome


def _calls(outcome: StrategyOutcome, provider: str) -> int:
    return sum(1 for a in outcome.attempts if a.provider == provider and a.outcome != "skipped")


def _refused_last(outcome: StrategyOutcome, provider: str) -> bool:
    """The provider's latest permit was refused (circuit opened, budget spent): stop here."""
    mine = [a for a in outcome.attempts if a.provider == provider]
    return bool(mine) and mine[-1].outcome == "skipped"


def _retryable(error: LLMAPIError | None) -> bool:
    return error is not None and error.retryable


def _retry_after(error: LLMAPIError) -> float:
    return float(error.retry_after or 0.0)
