"""The orchestrator: strategy choice, provider set, last resort, ledger — nothing else.

Async inside (``aextract``), plain synchronous outside (``extract``). The only
retry/failover loop of the system lives in the strategies it calls.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from collections.abc import Callable

from collabiq_llm.email.input import EmailInput, as_date
from collabiq_llm.entities import Attempt, ExtractionResult, ResultMeta, utc_now
from collabiq_llm.errors import AllProvidersFailed, InputError, LLMAPIError
from collabiq_llm.orchestration.best_match import run_best_match
from collabiq_llm.orchestration.calls import (
    CallContext,
    CallHandle,
    guarded_call,
    in_memory,
    record,
)
from collabiq_llm.orchestration.consensus import run_consensus
from collabiq_llm.orchestration.failover import run_failover
from collabiq_llm.orchestration.outcome import StrategyOutcome
from collabiq_llm.providers.base import LLMProvider
from collabiq_llm.providers.registry import build_provider, remote_order
from collabiq_llm.settings import Settings, normalise_strategy
from collabiq_llm.state.api import (
    LedgerEntry,
    LedgerProviderCost,
    OrchestrationConfig,
    Permit,
    StateStore,
)
from collabiq_llm.status import checked_orchestration, ignored_warning

OFFLINE = "offline"


class Orchestrator:
    """Turns providers + breaker + cost tracking into the three strategies.

    ``providers`` lets tests and embedding services inject ready-made providers;
    by default they are built from settings on first use (no SDK imported before).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: StateStore | None = None,
        providers: dict[str, LLMProvider] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] = utc_now,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        self.settings = settings or Settings()
        if store is None:
            from collabiq_llm.state import make_store

            store = make_store(self.settings)
        self.store = store
        self._providers: dict[str, LLMProvider] = dict(providers or {})
        self._injected = providers is not None
        self._warned_persisted = False
        self.ctx = CallContext(
            settings=self.settings, store=store, monotonic=monotonic, now=now, sleep=sleep
        )
        self._canonicaliser: Callable[[str], str | None] | bool | None = False
        # remote_order checks keys (env, .env file) on every call: once per explicit order
        self._orders: dict[tuple[tuple[str, ...] | None, bool], list[str]] = {}

    # ---- configuration -------------------------------------------------
    def active_strategy(self, override: str | None = None) -> str:
        """CLI/API argument > ``set-strategy`` (state) > settings (env > config file)."""
        if override:
            return normalise_strategy(override)
        persisted = self._persisted().strategy
        return normalise_strategy(persisted) if persisted else self.settings.strategy

    def _persisted(self) -> OrchestrationConfig:
        """What ``set-strategy`` saved, minus any value that is no longer valid (an edited
        file, a provider since removed from the config): that value is ignored with one
        warning, so ``status`` still works and ``set-strategy`` can repair it."""
        checked, bad = checked_orchestration(
            self.settings, self.store.get_orchestration(), self._remote_order
        )
        if bad and not self._warned_persisted:
            self._warned_persisted = True
            sys.stderr.write(ignored_warning(bad))
        return checked

    def provider_order(self, strategy: str | None = None) -> list[str]:
        """Providers in priority order (``set-strategy --providers`` > config).

        The offline extractor is the last resort, not in this list, except under
        consensus when the list names it: then it is one more (low-weight) voter.
        """
        voter = self.active_strategy(strategy) == "consensus"
        explicit = self._persisted().providers
        if self._injected:
            named = explicit or self.settings.priority
            if voter and named and OFFLINE in named and OFFLINE in self._providers:
                return [n for n in named if n in self._providers]
            return [n for n in self._providers if n != OFFLINE]
        return self._remote_order(explicit, keep_offline=voter)

    def _remote_order(self, explicit: list[str] | None, *, keep_offline: bool = False) -> list[str]:
        """``remote_order`` checks keys (env, .env file) on every call: once per order."""
        key = (tuple(explicit) if explicit else None, keep_offline)
        if key not in self._orders:
            self._orders[key] = remote_order(self.settings, explicit, keep_offline=keep_offline)
        return list(self._orders[key])

    def set_strategy(self, name: str, providers: list[str] | None = None) -> OrchestrationConfig:
        """Persist the strategy (and optionally the provider order) for every process."""
        strategy = normalise_strategy(name)
        if providers is not None:
            if not providers or len(set(providers)) != len(providers):
                raise ValueError("providers must be a non-empty list without repeats")
            remote_order(self.settings, providers)  # validates names
        current = self._persisted()
        return self.store.set_orchestration(
            OrchestrationConfig(
                strategy=strategy,
                providers=providers if providers is not None else current.providers,
                updated_at=self.ctx.now(),
            )
        )

    def provider(self, name: str) -> LLMProvider:
        """The provider instance for ``name``, built on first use and then reused."""
        if name not in self._providers:
            provider = build_provider(
                self.settings.provider(name),
                company_context=self._company_context(),
                companies_path=self.settings.companies_path(),
            )
            self._providers[name] = provider
        return self._providers[name]

    def _company_context(self) -> str | None:
        try:
            from collabiq_llm.companies import load_directory

            return load_directory(self.settings.companies_path()).prompt_context()
        except (ImportError, OSError):
            return None

    def _canonicalise(self) -> Callable[[str], str | None] | None:
        if self._canonicaliser is False:
            try:
                from collabiq_llm.companies import load_directory

                directory = load_directory(self.settings.companies_path())

                def canonical(text: str) -> str | None:
                    match = directory.match(text)
                    return match[0] if match else None

                self._canonicaliser = canonical
            except (ImportError, OSError):
                self._canonicaliser = None
        return self._canonicaliser or None  # type: ignore[return-value]

    # ---- extraction ----------------------------------------------------
    def extract(
        self,
        email: str | EmailInput,
        strategy: str | None = None,
        *,
        received_at: dt.date | None = None,
        email_id: str | None = None,
    ) -> ExtractionResult:
        """Synchronous API: parse the email if needed, run the strategy, return the result.

        Inside a running event loop (Jupyter, an async web handler) the work runs on a
        worker thread with its own loop, since ``asyncio.run`` cannot nest.
        """
        email = as_email_input(email, received_at=received_at, email_id=email_id)

        async def _run() -> ExtractionResult:
            try:
                return await self.aextract(email, strategy)
            finally:
                await self.aclose()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(_run())
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="collabiq") as pool:
            return pool.submit(asyncio.run, _run()).result()

    extract_entities = extract  # the name the plan promises

    async def aextract(
        self,
        email: str | EmailInput,
        strategy: str | None = None,
        *,
        received_at: dt.date | None = None,
        email_id: str | None = None,
    ) -> ExtractionResult:
        """Extract one email with the active strategy; the offline last resort if all fail.

        ``email`` may be raw text (parsed and validated here, before any provider is
        called) or a ready :class:`EmailInput`.
        """
        email = as_email_input(email, received_at=received_at, email_id=email_id)
        name = self.active_strategy(strategy)
        started = self.ctx.monotonic()
        order = self.provider_order(name)
        remote = [self.provider(n) for n in order]
        if not remote:
            outcome = await self._offline(email, primary=True)
        else:
            outcome = await self._run_strategy(name, remote, email)
            if not outcome.ok and self._last_resort_enabled() and OFFLINE not in order:
                fallback = await self._offline(email, primary=False)
                fallback.attempts = outcome.attempts + fallback.attempts
                fallback.errors = {**outcome.errors, **fallback.errors}
                fallback.hedged = outcome.hedged
                outcome = fallback
        latency_ms = (self.ctx.monotonic() - started) * 1000.0
        bookkeeping = [record(self.ctx, self._record_ledger, email, name, outcome)]
        if outcome.agreement is not None:
            keep = self.settings.consensus.reliability_window
            bookkeeping.append(
                record(self.ctx, self.store.record_agreement, outcome.agreement, keep)
            )
        await asyncio.gather(*bookkeeping)
        if not outcome.ok:
            raise AllProvidersFailed(outcome.errors or _skips_as_errors(outcome.attempts))
        return _to_result(email, name, outcome, latency_ms)

    async def _run_strategy(
        self, name: str, providers: list[LLMProvider], email: EmailInput
    ) -> StrategyOutcome:
        if name == "consensus":
            return await run_consensus(
                self.ctx, providers, email, canonicalise=self._canonicalise()
            )
        if name == "best-match":
            return await run_best_match(self.ctx, providers, email)
        # import the secondary's SDK in the background now (anthropic alone takes ~0.7 s)
        # so a failover or hedge target is ready; later ones are imported if ever needed
        for provider in providers[1:2]:
            preload = getattr(provider, "preload_sdk", None)
            if preload is not None:
                preload()
        if in_memory(self.store):  # unlocked read: no StateError
            snapshot = self.store.snapshot()
        else:
            snapshot = await asyncio.to_thread(self.store.snapshot)
        return await run_failover(self.ctx, providers, email, snapshot)

    def _last_resort_enabled(self) -> bool:
        return self.settings.offline_last_resort and (
            OFFLINE in self._providers or OFFLINE in self.settings.providers
        )

    async def _offline(self, email: EmailInput, *, primary: bool) -> StrategyOutcome:
        """The offline provider: primary when no key is configured, else the last resort."""
        outcome = StrategyOutcome()
        provider = self.provider(OFFLINE)
        handle = CallHandle(provider=provider, permit=Permit(allowed=True))
        call = await guarded_call(self.ctx, handle, email)
        outcome.attempts.append(call.attempt)
        if call.result is not None:
            outcome.entities, outcome.provider = call.result.entities, OFFLINE
            outcome.model = call.result.model
            outcome.degraded = not primary
            outcome.fallback_used = not primary
        elif call.error is not None:
            outcome.errors[OFFLINE] = call.error
        return outcome

    def _record_ledger(self, email: EmailInput, strategy: str, outcome: StrategyOutcome) -> None:
        per_provider: dict[str, LedgerProviderCost] = {}
        for att in outcome.attempts:
            if att.outcome == "skipped":
                continue
            entry = per_provider.setdefault(
                att.provider, LedgerProviderCost(provider=att.provider, model=att.model or "")
            )
            entry.input_tokens += att.input_tokens
            entry.output_tokens += att.output_tokens
            # a cancelled stream that had reported billed tokens carries its cost too
            entry.cost_usd = _add_cost(entry.cost_usd, att.cost_usd)
        total: float | None = 0.0
        for entry in per_provider.values():
            total = _add_cost(total, entry.cost_usd)
        self.store.record_email(
            LedgerEntry(
                email_id=email.email_id,
                at=self.ctx.now(),
                strategy=strategy,
                providers=list(per_provider.values()),
                total_cost_usd=total,
                ok=outcome.ok,
            )
        )

    async def aclose(self) -> None:
        """Close every SDK client (they are bound to the event loop that made them) and
        commit the state events the store still holds (it group-commits a batch's events)."""
        for provider in self._providers.values():
            await provider.aclose()
        flush = getattr(self.store, "flush", None)
        if flush is not None:
            await asyncio.to_thread(flush)

    # ---- admin ---------------------------------------------------------
    def get_provider_status(self):
        """Per-provider health, breaker and cost, plus strategy and order (state only)."""
        from collabiq_llm.status import build_status

        return build_status(self.settings, self.store, self._persisted())

    def test_provider(self, name: str) -> bool:
        """A real lightweight call through ``name``; the outcome is recorded in health."""
        from collabiq_llm.provider_check import check_provider

        return check_provider(self, name).ok


def as_email_input(
    email: object, *, received_at: dt.date | None = None, email_id: str | None = None
) -> EmailInput:
    """Text -> parsed, validated :class:`EmailInput`; anything else is a clear error."""
    if isinstance(email, EmailInput):
        return email
    if isinstance(email, (str, bytes)):
        from collabiq_llm.email.parsing import parse_email

        return parse_email(email, received_at=as_date(received_at), email_id=email_id)
    raise InputError(f"email must be text (str) or an EmailInput, not {type(email).__name__}")


def _add_cost(total: float | None, cost: float | None) -> float | None:
    if total is None or cost is None:
        return None
    return total + cost


def _skips_as_errors(attempts: list[Attempt]) -> dict[str, LLMAPIError]:
    return {
        a.provider: LLMAPIError(a.error or "not called", provider=a.provider)
        for a in attempts
        if a.outcome == "skipped"
    }


def _to_result(
    email: EmailInput, strategy: str, outcome: StrategyOutcome, latency_ms: float
) -> ExtractionResult:
    assert outcome.entities is not None
    cost: float | None = 0.0
    for att in outcome.attempts:
        if att.outcome != "skipped":
            cost = _add_cost(cost, att.cost_usd)
    meta = ResultMeta(
        strategy=strategy,
        provider=outcome.provider,
        model=outcome.model,
        attempts=outcome.attempts,
        input_tokens=sum(a.input_tokens for a in outcome.attempts),
        output_tokens=sum(a.output_tokens for a in outcome.attempts),
        cost_usd=None if cost is None else round(cost, 8),
        latency_ms=round(latency_ms, 2),
        degraded=outcome.degraded,
        fallback_used=outcome.fallback_used,
        hedged=outcome.hedged,
        providers_agreeing=outcome.providers_agreeing,
    )
    data = outcome.entities.model_dump()
    data["email_id"] = email.email_id
    return ExtractionResult(**data, meta=meta)
