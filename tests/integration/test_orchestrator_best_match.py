"""Best-match through the real SDKs over HTTP: the most confident answer in time (SC-008).

Each emulator answers with a record whose five field confidences are all the
same number, so its mean confidence is that number. Clients are warmed up first
(one direct call on the same loop, not recorded). "In parallel" is checked with an
emulator barrier (every request held until all arrived), not with a stopwatch;
only lower bounds on elapsed time (a window or timeout was waited out) are read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from collabiq_llm.entities import ExtractionResult
from collabiq_llm.orchestration.orchestrator import Orchestrator
from collabiq_llm.providers.base import LLMProvider
from tests.emulators import DEFAULT_EXTRACTION, Behaviour, Emulator
from tests.integration.conftest import (
    MODEL_FOR_KIND,
    SAMPLE_EMAIL,
    all_at_once,
    expected_cost,
    orchestrator_for,
    remote,
    run_in_loop,
    timed,
    warm_up,
)


def answer(person: str, conf: float, latency_s: float) -> Behaviour:
    """A valid record naming ``person`` with every field confidence ``conf``."""
    keys = ("person", "startup", "partner", "details", "date")
    extraction: dict[str, Any] = {
        **DEFAULT_EXTRACTION,
        "person_in_charge": person,
        "confidence": dict.fromkeys(keys, conf),
    }
    return Behaviour.ok(extraction, latency_s=latency_s)


def _best_match(
    emus: dict[str, Emulator],
    behaviours: dict[str, Behaviour],
    providers: list[LLMProvider],
    **overrides: Any,
) -> tuple[Orchestrator, ExtractionResult, float]:
    """Warm up, script each emulator (all calls must be in flight at once), then time one
    best-match ``aextract``."""
    orch = orchestrator_for(*providers, strategy="best-match", **overrides)

    async def body() -> tuple[ExtractionResult, float]:
        await warm_up(*providers)
        gated = all_at_once(behaviours)
        for name, emu in emus.items():
            emu.reset()
            emu.set_default(gated[name])
        return await timed(orch.aextract(SAMPLE_EMAIL))

    result, elapsed = run_in_loop(orch, body)
    assert all(emu.request_count == 1 for emu in emus.values())  # one call each
    return orch, result, elapsed


def test_highest_mean_confidence_wins(trio: dict[str, Emulator]) -> None:
    """0.85 / 0.92 / 0.78 ⇒ the 0.92 provider's record, whatever order they arrive in."""
    behaviours = {
        "gemini": answer("가나다", 0.85, latency_s=0.1),
        "claude": answer("박지민", 0.92, latency_s=0.4),  # best, and last to answer
        "openai": answer("이영희", 0.78, latency_s=0.3),
    }
    providers = [remote(trio[k]) for k in ("gemini", "claude", "openai")]
    orch, result, elapsed = _best_match(trio, behaviours, providers)

    assert elapsed >= 0.4  # waited for the slowest (and best) answer
    assert result.person_in_charge == "박지민"
    assert result.confidence.overall() == pytest.approx(0.92)
    meta = result.meta
    assert (meta.strategy, meta.provider, meta.model) == (
        "best-match",
        "claude",
        "claude-sonnet-4-6",
    )
    assert not (meta.degraded or meta.fallback_used or meta.hedged)
    assert {a.provider: a.outcome for a in meta.attempts} == {
        "gemini": "success",
        "claude": "success",
        "openai": "success",
    }
    # every answer was paid for, not only the winner's
    costs = {k: expected_cost(MODEL_FOR_KIND[k]) for k in MODEL_FOR_KIND}
    assert meta.cost_usd == pytest.approx(sum(costs.values()))
    snap = orch.store.snapshot()
    assert {k: p.cost_usd for k, p in snap.providers.items()} == pytest.approx(costs)
    assert all(p.successes == 1 and p.input_tokens == 120 for p in snap.providers.values())
    assert snap.cost_by_strategy["best-match"].emails == 1


def test_provider_that_times_out_is_ignored(trio: dict[str, Emulator]) -> None:
    """SC-008: the 0.92 provider never answers (timeout 0.5 s) ⇒ the 0.85 answer wins."""
    behaviours = {
        "gemini": answer("가나다", 0.85, latency_s=0.1),
        "claude": Behaviour.hang(max_s=10),
        "openai": answer("이영희", 0.78, latency_s=0.1),
    }
    providers = [
        remote(trio["gemini"]),
        remote(trio["claude"], timeout_s=0.5),
        remote(trio["openai"]),
    ]
    orch, result, elapsed = _best_match(trio, behaviours, providers)

    assert elapsed >= 0.5  # waited out the timeout / window, then stopped waiting
    assert result.person_in_charge == "가나다" and result.meta.provider == "gemini"
    attempts = {a.provider: (a.outcome, a.error_kind) for a in result.meta.attempts}
    assert attempts == {
        "gemini": ("success", None),
        "claude": ("error", "timeout"),
        "openai": ("success", None),
    }
    snap = orch.store.snapshot().providers
    assert snap["claude"].failures_by_kind == {"timeout": 1}
    assert (snap["claude"].input_tokens, snap["claude"].cost_usd) == (0, 0.0)


def test_answer_after_the_window_is_ignored(
    trio: dict[str, Emulator], emulator_factory: Callable[..., Emulator]
) -> None:
    """A fourth (OpenAI-compatible, Chat Completions) provider would win with 0.99 but
    answers after ``best_match.window_s``: it is cancelled as late and the 0.92 wins."""
    local_emu = emulator_factory("openai")
    emus = {**trio, "local": local_emu}
    behaviours = {
        "gemini": answer("가나다", 0.85, latency_s=0.1),
        "claude": answer("박지민", 0.92, latency_s=0.1),
        "openai": answer("이영희", 0.78, latency_s=0.1),
        "local": answer("최고야", 0.99, latency_s=20.0),
    }
    # its first-event deadline (1.5 s with no history) is moved past the window, so the
    # window is what ends its wait, not a hang
    local = remote(local_emu, "openai", api="chat", name="local", first_byte_timeout_s=30.0)
    providers = [remote(trio[k]) for k in ("gemini", "claude", "openai")] + [local]
    # a window far longer than the three 0.1 s answers and far shorter than the fourth's
    # 20 s: a busy machine cannot move an answer to the other side of it
    orch, result, elapsed = _best_match(emus, behaviours, providers, best_match={"window_s": 2.0})

    assert elapsed >= 2.0  # waited out the window, then stopped waiting
    assert result.person_in_charge == "박지민" and result.meta.provider == "claude"
    assert local_emu.requests[0].path == "/v1/chat/completions"
    late = next(a for a in result.meta.attempts if a.provider == "local")
    assert (late.outcome, late.error_kind, late.input_tokens) == ("late", "timeout", 0)
    snap = orch.store.snapshot()
    # still running when the window closed: a lost race (issue 12), not a failure
    assert snap.providers["local"].failures_by_kind == {} and snap.providers["local"].cancelled == 1
    (entry,) = orch.store.read_ledger()
    assert {c.provider: c.cost_usd for c in entry.providers}["local"] == 0.0
