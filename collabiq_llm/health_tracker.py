"""``HealthTracker``: the plan's health API as a thin facade over the state store.

Services written against the original interface (``is_healthy``,
``record_success``, ``record_failure``, ``get_metrics``) keep working; every call
is one atomic event in the same shared state the orchestrator uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from collabiq_llm.entities import utc_now
from collabiq_llm.errors import LLMAPIError
from collabiq_llm.redact import redact
from collabiq_llm.settings import Settings
from collabiq_llm.state.api import CallEvent, ProviderSnapshot, StateStore


class HealthTracker:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: StateStore | None = None,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.settings = settings or Settings()
        if store is None:
            from collabiq_llm.state import make_store

            store = make_store(self.settings)
        self.store = store
        self.now = now

    def _model(self, name: str) -> str:
        cfg = self.settings.providers.get(name)
        return cfg.model if cfg else "unknown"

    def is_healthy(self, name: str) -> bool:
        """False while the circuit is open (the provider gets no traffic)."""
        return self.get_metrics(name).breaker != "open"

    def record_success(self, name: str, response_time_ms: float) -> None:
        self.store.record_call(
            CallEvent(
                provider=name,
                model=self._model(name),
                ok=True,
                at=self.now(),
                latency_ms=response_time_ms,
            )
        )

    def record_failure(self, name: str, error: BaseException | str) -> None:
        kind = error.kind if isinstance(error, LLMAPIError) else "error"
        counts = error.counts_against_provider if isinstance(error, LLMAPIError) else True
        retry_after = error.retry_after if isinstance(error, LLMAPIError) else None
        trips = error.trips_breaker if isinstance(error, LLMAPIError) else True
        self.store.record_call(
            CallEvent(
                provider=name,
                model=self._model(name),
                ok=False,
                at=self.now(),
                error_kind=kind,
                error_message=redact(error),
                retry_after_s=retry_after,
                counts_against_provider=counts,
                trips_breaker=trips,
            )
        )

    def get_metrics(self, name: str) -> ProviderSnapshot:
        return self.store.snapshot().providers.get(name, ProviderSnapshot())
