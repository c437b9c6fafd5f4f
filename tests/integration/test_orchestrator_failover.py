"""Failover through the real SDKs over HTTP against the emulators (SC-001, SC-002, SC-007).

Every test drives ``Orchestrator.aextract`` with real provider classes whose SDK
clients talk to local emulators; nothing in the SDKs or providers is patched. The
store is the real :class:`JsonStateStore` with an injected clock (breaker cooldowns
pass instantly) and an injected ``sleep`` that records what the strategy waited for.
No test reads a stopwatch against a tight bound: "fast" is checked as behaviour
(which provider, how many requests, no back-off, no hedge, which hedge delay), so
the suite passes on a busy machine; timings live in ``bench/``.
"""

from __future__ import annotations

import asyncio

import pytest

from collabiq_llm.email.input import EmailInput
from collabiq_llm.entities import ExtractionResult
from collabiq_llm.errors import AllProvidersFailed
from collabiq_llm.orchestration.orchestrator import Orchestrator
from collabiq_llm.orchestration.timing import first_byte_timeout_s
from collabiq_llm.providers.base import LLMProvider
from collabiq_llm.settings import FailoverSettings, Settings
from tests.emulators import DEFAULT_EXTRACTION, Behaviour, Emulator
from tests.integration.conftest import (
    MODEL_FOR_KIND,
    PRICES_PER_M,
    SAMPLE_EMAIL,
    FakeClock,
    RecordingSleep,
    expected_cost,
    orchestrator_for,
    refusing,
    remote,
    run_in_loop,
    timed,
    warm_up,
)

SECONDARY_LATENCY_S = 0.2

# fault name -> (what the primary emulator answers, or None = connection refused;
#                the error kind the attempt must carry)
FAULTS: dict[str, tuple[Behaviour | None, str]] = {
    "500": (Behaviour.status(500), "server"),
    "503": (Behaviour.status(503), "server"),
    "429": (Behaviour.status(429), "rate_limit"),
    "401": (Behaviour.status(401), "auth"),
    "malformed-output": (Behaviour.malformed_json("output"), "invalid_output"),
    # providers stream by default: junk in the event stream is a broken server (issue 12)
    "malformed-body": (Behaviour.malformed_json("body"), "server"),
    "refused": (None, "connection"),
}
# primary kind -> secondary kind (every SDK is the failing one once)
PAIRS: dict[str, str] = {"gemini": "claude", "claude": "openai", "openai": "gemini"}

SECONDARY_ANSWER = {**DEFAULT_EXTRACTION, "person_in_charge": "박지민"}


def _email(i: int) -> EmailInput:
    return EmailInput(text=f"{SAMPLE_EMAIL.text}\n(메일 {i})", received_at=SAMPLE_EMAIL.received_at)


def _stainless_retry_counts(emu: Emulator) -> set[str | None]:
    return {r.header("x-stainless-retry-count") for r in emu.requests}


@pytest.mark.parametrize("primary_kind", list(PAIRS))
@pytest.mark.parametrize("fault", list(FAULTS))
def test_primary_fault_fails_over_at_once_to_the_secondary(
    fault: str, primary_kind: str, trio: dict[str, Emulator]
) -> None:
    """500/503/429/401/malformed/refused on the primary ⇒ the secondary's answer, at once.

    "At once" is checked as behaviour, not by a stopwatch: one request to each
    provider, no SDK retry, no wait asked of the injected ``sleep`` (no back-off),
    and no hedge (a hedge would mean the failover waited for the hedge delay).
    """
    behaviour, kind = FAULTS[fault]
    secondary_kind = PAIRS[primary_kind]
    primary_emu, secondary_emu = trio[primary_kind], trio[secondary_kind]
    primary = remote(primary_emu) if behaviour is not None else refusing(primary_emu)
    secondary = remote(secondary_emu)
    sleep = RecordingSleep()
    orch = orchestrator_for(primary, secondary, sleep=sleep)

    async def body() -> ExtractionResult:
        await warm_up(primary, secondary)
        primary_emu.reset()
        secondary_emu.reset()
        if behaviour is not None:
            primary_emu.set_default(behaviour)
        secondary_emu.set_default(Behaviour.ok(SECONDARY_ANSWER, latency_s=SECONDARY_LATENCY_S))
        return await orch.aextract(SAMPLE_EMAIL)

    result = run_in_loop(orch, body)

    assert sleep.waits == []  # failed over without waiting
    assert result.person_in_charge == "박지민"
    meta = result.meta
    assert (meta.strategy, meta.provider) == ("failover", secondary_kind)
    assert meta.fallback_used and not meta.hedged and not meta.degraded
    # one request each: no hidden SDK retry, no second round
    assert primary_emu.request_count == (0 if behaviour is None else 1)
    assert secondary_emu.request_count == 1
    assert _stainless_retry_counts(secondary_emu) <= {"0", None}

    cost = expected_cost(MODEL_FOR_KIND[secondary_kind])
    first, second = meta.attempts
    assert (first.provider, first.outcome, first.error_kind) == (primary_kind, "error", kind)
    if kind != "invalid_output":  # no answer, nothing billed (a bad 200 may carry usage)
        assert (first.input_tokens, first.output_tokens, first.cost_usd) == (0, 0, 0.0)
    assert first.cost_usd is not None and first.latency_ms is not None
    assert (second.provider, second.outcome, second.error_kind) == (secondary_kind, "success", None)
    assert (second.input_tokens, second.output_tokens) == (120, 40)
    assert second.cost_usd == pytest.approx(cost)
    assert second.latency_ms is not None and second.latency_ms >= SECONDARY_LATENCY_S * 1000
    assert (meta.input_tokens, meta.output_tokens) == (
        120 + first.input_tokens,
        40 + first.output_tokens,
    )
    assert meta.cost_usd == pytest.approx(cost + first.cost_usd)
    assert meta.latency_ms >= SECONDARY_LATENCY_S * 1000

    snap = orch.store.snapshot()
    p, s = snap.providers[primary_kind], snap.providers[secondary_kind]
    assert (p.calls, p.successes, p.failures, p.failures_by_kind) == (1, 0, 1, {kind: 1})
    assert (p.input_tokens, p.output_tokens) == (first.input_tokens, first.output_tokens)
    assert p.cost_usd == pytest.approx(first.cost_usd)
    assert p.breaker == ("open" if kind == "auth" else "closed")  # a bad key opens at once
    assert (s.calls, s.successes, s.failures) == (1, 1, 0)
    assert (s.input_tokens, s.output_tokens) == (120, 40)
    assert s.cost_usd == pytest.approx(cost)
    assert snap.emails == 1 and snap.total_cost_usd == pytest.approx(meta.cost_usd)
    (entry,) = orch.store.read_ledger()
    assert entry.strategy == "failover" and entry.ok and entry.email_id == SAMPLE_EMAIL.email_id
    assert {c.provider: c.cost_usd for c in entry.providers} == {
        primary_kind: pytest.approx(first.cost_usd),
        secondary_kind: pytest.approx(cost),
    }


@pytest.mark.parametrize("primary_kind", ["gemini", "claude"])
def test_hung_primary_fails_over_to_secondary_at_the_first_event_deadline(
    primary_kind: str, trio: dict[str, Emulator], sdks_imported: None
) -> None:
    """Primary accepts the connection and never answers ⇒ the secondary starts at the
    first-event deadline (1.5 s < 2 s, SC-002) and its answer is the result.

    Default settings throughout, provider timeouts included (30 s): the first-event
    deadline (no history ⇒ ``first_byte_default_s`` = 1.5 s) declares the primary hung
    and failover starts the secondary (issue 12: a hang, not a hedge). Checked: the
    deadline the strategy computes, that the secondary's request came no earlier than
    that after the primary's, and, as a generous smoke bound only, that the run ended
    long before the primary's 20 s hang or 30 s timeout.
    """
    secondary_kind = PAIRS[primary_kind]
    primary_emu, secondary_emu = trio[primary_kind], trio[secondary_kind]
    primary_emu.set_default(Behaviour.hang(max_s=20))
    secondary_emu.set_default(Behaviour.ok(SECONDARY_ANSWER, latency_s=0.1))
    primary, secondary = remote(primary_emu), remote(secondary_emu)
    assert primary.timeout_s == secondary.timeout_s == 30.0
    orch = orchestrator_for(primary, secondary)
    assert orch.settings.failover == FailoverSettings()  # the documented defaults
    assert orch.settings.failover.first_byte_default_s == 1.5
    assert first_byte_timeout_s(orch.settings.failover, primary, None) == 1.5 < 2.0

    result, elapsed = run_in_loop(orch, lambda: timed(orch.aextract(SAMPLE_EMAIL)))

    (sent_primary,), (sent_secondary,) = primary_emu.requests, secondary_emu.requests
    assert sent_secondary.time - sent_primary.time >= 1.5  # started at the first-event deadline
    assert elapsed < 10.0  # smoke: not the 20 s hang, nor the 30 s timeout
    meta = result.meta
    assert result.person_in_charge == "박지민"
    assert meta.provider == secondary_kind and not meta.hedged and meta.fallback_used
    outcomes = {a.provider: (a.outcome, a.error_kind, a.hedge) for a in meta.attempts}
    assert outcomes == {
        primary_kind: ("error", "timeout", False),
        secondary_kind: ("success", None, False),
    }
    assert primary_emu.request_count == 1 and secondary_emu.request_count == 1
    snap = orch.store.snapshot().providers
    assert snap[primary_kind].failures_by_kind == {"timeout": 1}  # hung: blamed
    assert snap[secondary_kind].hedges == 0 and snap[secondary_kind].successes == 1


def test_unavailable_primary_breaker_opens_after_5_then_single_probe(
    trio: dict[str, Emulator],
) -> None:
    """SC-001 + SC-007 with the real breaker defaults (5 failures, 60 s cooldown).

    10 emails while the primary answers 503: all 10 come from the secondary, and the
    primary sees exactly 5 requests. After the (injected) clock passes the cooldown,
    the next email sends exactly one probe; a failed probe re-opens the breaker. After
    the next cooldown, three concurrent emails still send a single probe, and a second
    successful probe closes the breaker.
    """
    primary_emu, secondary_emu = trio["gemini"], trio["claude"]
    primary_emu.set_default(Behaviour.status(503))
    clock = FakeClock()
    primary, secondary = remote(primary_emu), remote(secondary_emu)
    orch = orchestrator_for(primary, secondary, clock=clock)
    cfg = orch.settings.breaker
    assert (cfg.failure_threshold, cfg.cooldown_s, cfg.success_threshold) == (5, 60.0, 2)
    emails = [_email(i) for i in range(10)]

    async def body() -> list[ExtractionResult]:
        results = []
        for i, email in enumerate(emails):
            results.append(await orch.aextract(email))
            assert primary_emu.request_count == min(i + 1, 5), f"email {i}"
            clock.advance(1)
        return results

    results = run_in_loop(orch, body)

    assert [r.meta.provider for r in results] == ["claude"] * 10  # SC-001
    assert all(r.person_in_charge == "김철수" for r in results)
    assert [r.meta.attempts[0].outcome for r in results] == ["error"] * 5 + ["skipped"] * 5
    assert "circuit open" in (results[-1].meta.attempts[0].error or "")
    assert primary_emu.request_count == 5 and secondary_emu.request_count == 10
    snap = orch.store.snapshot()
    gem = snap.providers["gemini"]
    assert (gem.breaker, gem.calls, gem.failures, gem.consecutive_failures) == ("open", 5, 5, 5)
    assert gem.failures_by_kind == {"server": 5}
    assert snap.providers["claude"].successes == 10 and snap.emails == 10
    assert snap.providers["claude"].cost_usd == pytest.approx(
        10 * expected_cost(MODEL_FOR_KIND["claude"])
    )

    def one(email: EmailInput) -> ExtractionResult:
        return run_in_loop(orch, lambda: orch.aextract(email))

    # still inside the cooldown (10 s of fake time passed): not called
    one(_email(10))
    assert primary_emu.request_count == 5
    # cooldown passed: exactly one probe, which fails and re-opens the breaker
    clock.advance(61)
    probed = one(_email(11))
    assert primary_emu.request_count == 6
    assert probed.meta.provider == "claude"
    assert [a.outcome for a in probed.meta.attempts] == ["error", "success"]
    one(_email(12))
    assert primary_emu.request_count == 6
    assert orch.store.snapshot().providers["gemini"].breaker == "open"
    # next cooldown: the primary has recovered. Three emails at once: ONE probe goes
    # out (half_open_max_probes = 1), the other two skip the primary while it runs
    clock.advance(61)
    primary_emu.set_default(Behaviour.ok(latency_s=0.3))

    async def three_at_once() -> list[ExtractionResult]:
        return list(await asyncio.gather(*(orch.aextract(_email(i)) for i in (13, 14, 15))))

    batch = run_in_loop(orch, three_at_once)
    assert primary_emu.request_count == 7
    assert sorted(r.meta.provider or "" for r in batch) == ["claude", "claude", "gemini"]
    probe = next(r for r in batch if r.meta.provider == "gemini")
    assert not probe.meta.fallback_used and not probe.meta.hedged
    for r in batch:
        if r.meta.provider == "claude":
            assert r.meta.attempts[0].outcome == "skipped"
            assert "probe" in (r.meta.attempts[0].error or "")
    assert orch.store.snapshot().providers["gemini"].breaker == "half_open"  # 1 of 2 successes
    one(_email(16))
    assert primary_emu.request_count == 8
    assert orch.store.snapshot().providers["gemini"].breaker == "closed"
    one(_email(17))  # closed: called as usual
    assert primary_emu.request_count == 9
    assert secondary_emu.request_count == 15  # emails 10-12, and two of 13-15


def test_retry_after_counts_from_the_error_not_from_later_retries(
    trio: dict[str, Emulator],
) -> None:
    """Round 2 retries a rate-limited provider once its retry-after has passed.

    Gemini answers 429 with ``retry-after-ms: 800`` at t ≈ 0, then recovers; Claude
    fails slowly (503 after 0.5 s, twice). Gemini is due at ≈ 0.8 s, i.e. after Claude's
    first failure (≈ 0.5 s: 0.3 s of slack for a loaded machine) and before its second
    (≈ 1.0 s) — not 0.8 s after that, as when the wait was re-counted from the end of
    every retry pass.
    """
    gem_emu, claude_emu = trio["gemini"], trio["claude"]
    gemini, claude = remote(gem_emu), remote(claude_emu)
    sleep = RecordingSleep()
    orch = orchestrator_for(gemini, claude, sleep=sleep)

    async def body() -> ExtractionResult:
        await warm_up(gemini, claude)
        gem_emu.reset()
        claude_emu.reset()
        gem_emu.enqueue(Behaviour.status(429, retry_after_ms=800), Behaviour.ok())
        claude_emu.set_default(Behaviour.status(503, latency_s=0.5))
        return await orch.aextract(SAMPLE_EMAIL)

    result = run_in_loop(orch, body)

    assert result.meta.provider == "gemini" and not result.meta.fallback_used
    attempts = [(a.provider, a.outcome, a.error_kind) for a in result.meta.attempts]
    assert attempts == [
        ("gemini", "error", "rate_limit"),
        ("claude", "error", "server"),
        ("claude", "error", "server"),
        ("gemini", "success", None),
    ]
    first, retry = (r.time for r in gem_emu.requests)
    assert retry - first >= 0.8  # retry-after honoured
    # Claude's two slow failures (≥ 1.0 s) outlast Gemini's 0.8 s, so the strategy may at
    # most wait out what is left of it once (< 0.3 s): re-counting the retry-after from
    # the end of a pass would ask the injected sleep for another ≈ 0.8 s
    assert all(wait < 0.8 - 0.5 for wait in sleep.waits), sleep.waits


def test_hand_written_prices_are_the_configured_ones() -> None:
    """The expected costs above are computed from these numbers, not from settings."""
    prices = Settings().prices
    for model, (price_in, price_out) in PRICES_PER_M.items():
        assert (prices[model].input, prices[model].output) == (price_in, price_out)
    assert expected_cost("claude-sonnet-4-6") == pytest.approx(0.00096)  # 120×3 + 40×15 per 1 M


def _all_down(trio: dict[str, Emulator]) -> list[LLMProvider]:
    trio["gemini"].set_default(Behaviour.status(503))
    trio["claude"].set_default(Behaviour.status(401))
    trio["openai"].set_default(Behaviour.status(429, retry_after_ms=50))
    return [remote(trio[k]) for k in ("gemini", "claude", "openai")]


def test_all_providers_down_gives_degraded_offline_result(trio: dict[str, Emulator]) -> None:
    """Every remote provider fails ⇒ the offline last resort answers, marked degraded.

    Retryable failures get one more round (``max_rounds`` = 2) after the whole list
    was tried, honouring retry-after; the bad key is not retried.
    """
    orch = orchestrator_for(*_all_down(trio))

    result = run_in_loop(orch, lambda: orch.aextract(SAMPLE_EMAIL))

    meta = result.meta
    assert meta.provider == "offline" and meta.model == "offline-rules-1"
    assert meta.degraded and meta.fallback_used and not meta.hedged
    assert result.person_in_charge == "김철수"  # the rules read "담당자: 김철수"
    attempts = [(a.provider, a.outcome, a.error_kind) for a in meta.attempts]
    assert attempts == [
        ("gemini", "error", "server"),
        ("claude", "error", "auth"),
        ("openai", "error", "rate_limit"),
        ("gemini", "error", "server"),
        ("openai", "error", "rate_limit"),
        ("offline", "success", None),
    ]
    assert [trio[k].request_count for k in ("gemini", "claude", "openai")] == [2, 1, 2]
    assert meta.cost_usd == 0.0 and meta.input_tokens == 0
    snap = orch.store.snapshot()
    assert {n: (p.calls, p.failures) for n, p in snap.providers.items()} == {
        "gemini": (2, 2),
        "claude": (1, 1),
        "openai": (2, 2),
        "offline": (1, 0),
    }
    assert snap.providers["claude"].breaker == "open"
    (entry,) = orch.store.read_ledger()
    assert entry.ok and entry.total_cost_usd == 0.0


def test_all_providers_down_without_last_resort_raises_each_error(
    trio: dict[str, Emulator],
) -> None:
    """With ``offline_last_resort = false``: ``AllProvidersFailed`` names every provider's error."""
    orch = orchestrator_for(*_all_down(trio), offline_last_resort=False)

    with pytest.raises(AllProvidersFailed) as info:
        run_in_loop(orch, lambda: orch.aextract(SAMPLE_EMAIL))

    failures = info.value.failures
    assert {name: err.kind for name, err in failures.items()} == {
        "gemini": "server",
        "claude": "auth",
        "openai": "rate_limit",
    }
    assert {name: err.status_code for name, err in failures.items()} == {
        "gemini": 503,
        "claude": 401,
        "openai": 429,
    }
    assert failures["openai"].retry_after == pytest.approx(0.05)
    for name in ("gemini", "claude", "openai"):
        assert name in str(info.value)
    snap = orch.store.snapshot()
    assert "offline" not in snap.providers
    (entry,) = orch.store.read_ledger()
    assert not entry.ok and entry.total_cost_usd == 0.0


def test_sync_extract_api_fails_over_too(trio: dict[str, Emulator], sdks_imported: None) -> None:
    """``Orchestrator.extract`` (new loop per call, clients rebuilt) fails over the same way."""
    trio["gemini"].set_default(Behaviour.drop())
    orch: Orchestrator = orchestrator_for(remote(trio["gemini"]), remote(trio["claude"]))
    for _ in range(2):
        result = orch.extract(SAMPLE_EMAIL)
        assert result.meta.provider == "claude"
        assert result.meta.attempts[0].error_kind == "connection"
    assert trio["gemini"].request_count == 2 and trio["claude"].request_count == 2
