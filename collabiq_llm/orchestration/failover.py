"""Failover with hedging: providers in priority order, the first valid answer wins.

A failed call moves to the next provider at once; the same provider is retried
only after every provider was tried (next round), honouring ``retry-after``,
within an overall deadline. A streaming call with no first event by its
first-event deadline is hung: it fails (timeout) and the next provider starts at
once. A call that shows no progress past its hedge delay (``timing.py``: late
first event when streaming, the provider's own p95 latency when not) gets the
next provider started in parallel, subject to a fleet-wide hedge budget. Whoever
loses a race is recorded as ``cancelled``, never as a failure.
"""

from __future__ import annotations

import asyncio

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
    prepare_providers,
    skipped_attempt,
)
from collabiq_llm.orchestration.outcome import StrategyOutcome
from collabiq_llm.orchestration.timing import first_byte_timeout_s
from collabiq_llm.orchestration.timing import hedge_delay_s as _hedge_delay
from collabiq_llm.providers.base import LLMProvider
from collabiq_llm.state.api import StateSnapshot


def hedge_delay_s(ctx: CallContext, snapshot: StateSnapshot, provider: LLMProvider) -> float | None:
    """When to hedge ``provider`` (seconds after its start); None = not on time."""
    snap = snapshot.providers.get(provider.provider_name)
    return _hedge_delay(ctx.settings.failover, provider, snap)


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
        *,
        retrying: bool = False,
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
        self.retrying = retrying  # round 2+: retry-afters were waited out in this process

    async def start_next(self, *, hedge: bool) -> bool:
        while self.queue:
            provider = self.queue.pop(0)
            permit = await acquire(self.ctx, provider, retrying=self.retrying)
            if not permit.allowed:
                self.outcome.attempts.append(skipped_attempt(provider, permit))
                continue
            snap = self.snapshot.providers.get(provider.provider_name)
            hung_after = first_byte_timeout_s(self.ctx.settings.failover, provider, snap)
            handle = CallHandle(
                provider=provider, permit=permit, hedge=hedge, first_byte_timeout_s=hung_after
            )
            # SDK import off the loop + client build: before this call's clock starts, and
            # without stalling (and so slowing the recorded latency of) a call in flight
            await prepare_providers([provider])
            handle.started = self.ctx.monotonic()
            task = asyncio.create_task(guarded_call(self.ctx, handle, self.email))
            self.running[task] = handle
            return True
        return False

    def _hedge_at(self) -> float | None:
        """Monotonic time at which the single running call should be hedged, if ever."""
        if not self.queue or len(self.running) != 1:
            return None
        handle = next(iter(self.running.values()))
        if handle.first_event_seen:  # the answer is streaming in: a long generation
            return None
        delay = hedge_delay_s(self.ctx, self.snapshot, handle.provider)
        if delay is None or not hedge_allowed(self.ctx, self.snapshot, self.hedges_used):
            return None
        return handle.started + delay

    def _wait_timeout(self) -> float:
        now = self.ctx.monotonic()
        remaining = self.deadline - now
        hedge_at = self._hedge_at()
        if hedge_at is not None and hedge_at - now < remaining:
            return max(hedge_at - now, 0.0)
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
                hedge_at = self._hedge_at()
                due = hedge_at is not None and self.ctx.monotonic() >= hedge_at
                if due and await self.start_next(hedge=True):
                    self.hedges_used += 1
                    self.outcome.hedged = True
                continue
            for task in done:
                self.running.pop(task)
                result = task.result()
                self.outcome.attempts.append(result.attempt)
                if result.ok:
                    assert result.result is not None
                    # whoever is still running lost the race: cancelled, not failed
                    self.outcome.attempts += await cancel_all(
                        self.ctx, self.running, CancelReason.NOT_NEEDED
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
    retrying = False
    while queue:
        one_pass = _Pass(ctx, queue, email, snapshot, outcome, deadline, retry_due)
        one_pass.retrying = retrying
        if await one_pass.run():
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
        retrying = True
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
