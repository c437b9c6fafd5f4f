"""Hang deadlines and hedge delays (issue 12) and latency that excludes set-up (issue 13).

Pure functions checked with hypothesis; the latency test runs the real orchestrator
with an injected monotonic clock that only moves when a provider "works" or "sets
up", so the recorded figures are exact and no wall time is involved.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabiq_llm.email.input import EmailInput
from collabiq_llm.entities import ConfidenceScores, ExtractedEntities
from collabiq_llm.orchestration.orchestrator import Orchestrator
from collabiq_llm.orchestration.timing import first_byte_timeout_s, hedge_delay_s
from collabiq_llm.providers.base import LLMProvider, ProviderResult
from collabiq_llm.settings import FailoverSettings, ProviderConfig, Settings
from collabiq_llm.state.api import ProviderSnapshot
from collabiq_llm.state.json_store import JsonStateStore

EMAIL = EmailInput(text="어제 본봄과 미팅. 담당자: 김철수", received_at=dt.date(2025, 11, 2))


class _Remote(LLMProvider):
    """A provider that claims to stream (or not), for the pure timing functions."""

    def __init__(
        self,
        *,
        stream: bool,
        timeout_s: float = 30.0,
        first: float | None = None,
        name: str = "gemini",
    ):
        super().__init__(
            ProviderConfig(
                name=name,
                kind="openai",
                model="m",
                timeout_s=timeout_s,
                stream=stream,
                first_byte_timeout_s=first,
            )
        )
        self._stream = stream

    @property
    def streams(self) -> bool:
        return self._stream

    async def aextract(self, email: EmailInput) -> ProviderResult:  # pragma: no cover
        raise NotImplementedError


ms = st.floats(min_value=1.0, max_value=120_000.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(p95_ttfe=st.none() | ms, p95=st.none() | ms, timeout=st.floats(0.5, 300.0))
def test_hung_deadline_is_bounded_and_a_hedge_comes_before_it(
    p95_ttfe: float | None, p95: float | None, timeout: float
) -> None:
    cfg = FailoverSettings()
    snap = ProviderSnapshot(p95_first_event_ms=p95_ttfe, p95_latency_ms=p95)
    streaming = _Remote(stream=True, timeout_s=timeout)
    hung = first_byte_timeout_s(cfg, streaming, snap)
    assert hung is not None
    low = min(cfg.first_byte_floor_s, timeout)
    high = min(max(cfg.first_byte_cap_s, cfg.first_byte_default_s), timeout)
    assert low <= hung <= high
    if p95_ttfe is None:
        assert hung == min(cfg.first_byte_default_s, timeout)
    delay = hedge_delay_s(cfg, streaming, snap)
    assert delay is None or cfg.hedge_min_s <= delay < hung
    # not streaming: no hang deadline; the hedge follows the provider's own p95, uncapped
    plain = _Remote(stream=False, timeout_s=timeout)
    assert first_byte_timeout_s(cfg, plain, snap) is None
    plain_delay = hedge_delay_s(cfg, plain, snap)
    assert plain_delay is not None
    expected = cfg.hedge_default_s if p95 is None else max(p95 / 1000.0, cfg.hedge_min_s)
    assert plain_delay == pytest.approx(min(expected, timeout))


def test_non_streaming_hedge_follows_a_slow_providers_p95_past_1_5_s() -> None:
    """Issue 12: a provider that normally takes 4 s is hedged after ~4 s, not at 1.5 s."""
    cfg = FailoverSettings()
    snap = ProviderSnapshot(p95_latency_ms=4000.0)
    assert hedge_delay_s(cfg, _Remote(stream=False, timeout_s=120.0), snap) == 4.0
    capped = cfg.model_copy(update={"hedge_max_s": 2.0})
    assert hedge_delay_s(capped, _Remote(stream=False, timeout_s=120.0), snap) == 2.0


@settings(max_examples=60, deadline=None)
@given(p95_ttfe=ms, timeout=st.floats(0.5, 300.0))
def test_an_extra_endpoint_is_never_hung_before_its_first_answer(
    p95_ttfe: float, timeout: float
) -> None:
    """A self-hosted model may process the prompt for many seconds before its first token
    (make interop, llama.cpp on a CPU): without 5 first-event times, no hang verdict and
    no hedge; then its own p95 sets the deadline, bounded only by its timeout."""
    cfg = FailoverSettings()
    local = _Remote(stream=True, timeout_s=timeout, name="local-llama")
    assert first_byte_timeout_s(cfg, local, ProviderSnapshot()) is None
    assert hedge_delay_s(cfg, local, ProviderSnapshot()) is None
    few = ProviderSnapshot(p95_first_event_ms=p95_ttfe, first_event_samples=4)
    assert first_byte_timeout_s(cfg, local, few) is None  # 4 times are no p95
    snap = ProviderSnapshot(p95_first_event_ms=p95_ttfe, first_event_samples=5)
    hung = first_byte_timeout_s(cfg, local, snap)
    derived = max(cfg.first_byte_factor * p95_ttfe / 1000.0, cfg.first_byte_floor_s)
    assert hung == pytest.approx(min(derived, timeout))


def test_explicit_first_byte_timeout_wins_for_a_slow_local_model() -> None:
    cfg = FailoverSettings()
    slow_local = _Remote(stream=True, timeout_s=120.0, first=20.0)
    snap = ProviderSnapshot(p95_first_event_ms=100.0)
    assert first_byte_timeout_s(cfg, slow_local, snap) == 20.0


# -- issue 13: a provider's latency excludes another provider's preparation -----------


class Clock:
    """Monotonic seconds that move only when told to."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class TimedFake(LLMProvider):
    """``prepare`` costs ``prepare_s`` (like ``import anthropic``), the call ``work_s``;
    both advance the injected clock instead of sleeping."""

    def __init__(self, name: str, clock: Clock, *, prepare_s: float, work_s: float) -> None:
        super().__init__(ProviderConfig(name=name, kind="openai", model="fake", key_required=False))
        self.clock, self.prepare_s, self.work_s = clock, prepare_s, work_s
        self.prepared = False

    def prepare(self) -> None:
        if not self.prepared:
            self.prepared = True
            self.clock.t += self.prepare_s

    async def aextract(self, email: EmailInput) -> ProviderResult:
        self.prepare()  # like a real client: built on first use unless prepared already
        await asyncio.sleep(0)  # the request is "in flight": others run now
        self.clock.t += self.work_s
        await asyncio.sleep(0)
        entities = ExtractedEntities(
            person_in_charge="김철수",
            startup_name="본봄",
            partner_org=None,
            details="미팅",
            date=None,
            confidence=ConfidenceScores(person=0.9, startup=0.9, partner=0.0, details=0.9),
            email_id=email.email_id,
        )
        return ProviderResult(provider=self.provider_name, model="fake", entities=entities)


@pytest.mark.parametrize("strategy", ["consensus", "best-match"])
def test_recorded_latency_excludes_another_providers_preparation(strategy: str) -> None:
    """The fast provider comes first and is already prepared; the slow-to-prepare one
    (5 s of set-up on the injected clock) comes second. Before the fix the first one's
    clock was running while the second imported its SDK on the event loop: 5.1 s."""
    clock = Clock()
    fast = TimedFake("gemini", clock, prepare_s=0.0, work_s=0.1)
    heavy = TimedFake("claude", clock, prepare_s=5.0, work_s=0.0)  # only its set-up costs
    s = Settings().model_copy(update={"offline_last_resort": False})
    store = JsonStateStore(s.state_dir, s.breaker, cost=s.cost)
    orch = Orchestrator(
        s, store=store, providers={"gemini": fast, "claude": heavy}, monotonic=clock
    )

    result = orch.extract(EMAIL, strategy)

    latencies = {a.provider: a.latency_ms for a in result.meta.attempts}
    assert latencies["gemini"] == pytest.approx(100.0)  # its own work only, not the 5 s
    assert latencies["claude"] <= 100.0 + 1e-6  # at most the overlap with gemini's work
    snap = store.snapshot().providers  # what status and the hedge delays read
    assert snap["gemini"].avg_latency_ms == pytest.approx(100.0)
    assert heavy.prepared and clock.t == pytest.approx(5.1)  # the set-up did happen
