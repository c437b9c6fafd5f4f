"""Hang detection, hedging and retry-after against slow-but-healthy emulated providers.

Issue 12: a primary that answers correctly but slowly must not be hedged on every
email, blamed for losing a race, or have its breaker opened; a hung one (no first
event) must still fail over quickly; a retry-after must hold across processes.

Real SDKs over real HTTP against the emulators, real JSON store with an injected
clock. No assertion here is on elapsed wall time: the emulators take real time to
answer, but what is checked is which provider answered, what state recorded and
which deadline decided (see bench/bench_failover.py for the same-run timings).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from collabiq_llm.email.input import EmailInput
from collabiq_llm.entities import ExtractionResult
from collabiq_llm.orchestration.orchestrator import Orchestrator
from collabiq_llm.orchestration.timing import first_byte_timeout_s, hedge_delay_s
from collabiq_llm.settings import FailoverSettings
from collabiq_llm.state.api import CallEvent, ProviderSnapshot
from collabiq_llm.state.json_store import JsonStateStore
from collabiq_llm.status import build_status
from tests.emulators import DEFAULT_EXTRACTION, Behaviour, Emulator
from tests.integration.conftest import (
    SAMPLE_EMAIL,
    FakeClock,
    orchestrator_for,
    remote,
    run_in_loop,
)

SECONDARY_ANSWER = {**DEFAULT_EXTRACTION, "person_in_charge": "박지민"}


def _email(i: int) -> EmailInput:
    return EmailInput(text=f"{SAMPLE_EMAIL.text}\n(메일 {i})", received_at=SAMPLE_EMAIL.received_at)


def _ten_at_once(orch: Orchestrator) -> list[ExtractionResult]:
    async def body() -> list[ExtractionResult]:
        return list(await asyncio.gather(*(orch.aextract(_email(i)) for i in range(10))))

    return run_in_loop(orch, body)


def _hedge_budget_ok(orch: Orchestrator) -> bool:
    cfg = orch.settings.failover
    providers = orch.store.snapshot().providers.values()
    hedges = sum(p.hedges for p in providers)
    calls = sum(p.calls for p in providers)
    return hedges <= cfg.hedge_burst + cfg.hedge_budget * calls


def test_slow_streaming_primary_answers_every_email_unhedged_and_unblamed(
    trio: dict[str, Emulator], sdks_imported: None
) -> None:
    """Primary streams a correct answer over 2.5 s, secondary answers in 0.1 s: 10 emails,
    all from the primary, no hedge, breaker closed, 0 failures (default settings)."""
    primary_emu, secondary_emu = trio["claude"], trio["openai"]
    primary_emu.set_default(Behaviour.ok(latency_s=0.05).streaming(2.5))
    secondary_emu.set_default(Behaviour.ok(SECONDARY_ANSWER, latency_s=0.1))
    orch = orchestrator_for(remote(primary_emu), remote(secondary_emu))
    assert orch.settings.failover == FailoverSettings()

    results = _ten_at_once(orch)

    assert [r.meta.provider for r in results] == ["claude"] * 10
    assert all(r.person_in_charge == "김철수" and not r.meta.hedged for r in results)
    assert secondary_emu.request_count == 0
    claude = orch.store.snapshot().providers["claude"]
    assert (claude.breaker, claude.failures, claude.cancelled, claude.successes) == (
        "closed",
        0,
        0,
        10,
    )
    assert claude.consecutive_failures == 0 and claude.p95_first_event_ms is not None
    assert _hedge_budget_ok(orch)


def test_slow_non_streaming_primary_loses_races_without_being_blamed(
    trio: dict[str, Emulator], sdks_imported: None
) -> None:
    """Same, with a server that cannot stream (``stream = false``): whole-response timing,
    so without history the primary is hedged; each lost race is ``cancelled``, never a
    failure, and the hedges stay within the budget."""
    primary_emu, secondary_emu = trio["gemini"], trio["claude"]
    primary_emu.set_default(Behaviour.ok(latency_s=2.5))
    secondary_emu.set_default(Behaviour.ok(SECONDARY_ANSWER, latency_s=0.1))
    orch = orchestrator_for(remote(primary_emu, stream=False), remote(secondary_emu))

    results = _ten_at_once(orch)

    assert all(r.person_in_charge in ("김철수", "박지민") for r in results)
    gem = orch.store.snapshot().providers["gemini"]
    assert (gem.breaker, gem.failures, gem.consecutive_failures) == ("closed", 0, 0)
    assert gem.failures_by_kind == {}
    assert gem.cancelled + gem.successes == 10
    assert gem.success_rate in (None, 1.0)  # lost races are not judged
    for r in results:
        if r.meta.provider == "claude":
            assert r.meta.hedged
            loser = next(a for a in r.meta.attempts if a.provider == "gemini")
            assert (loser.outcome, loser.error_kind) == ("cancelled", None)
    assert _hedge_budget_ok(orch)


@pytest.mark.parametrize(
    "hang",
    [Behaviour.hang(max_s=20), Behaviour.ok().stalled(after_events=0)],
    ids=["no-first-byte", "headers-then-nothing"],
)
def test_hung_primary_fails_over_at_its_first_event_deadline(
    hang: Behaviour, trio: dict[str, Emulator], sdks_imported: None
) -> None:
    """No first event ⇒ hung at ``first_byte_default_s`` (1.5 s with default settings and
    no history; a 30 s ``timeout_s`` is irrelevant), then failover, not a hedge."""
    primary_emu, secondary_emu = trio["gemini"], trio["claude"]
    primary_emu.set_default(hang)
    secondary_emu.set_default(Behaviour.ok(SECONDARY_ANSWER, latency_s=0.1))
    primary, secondary = remote(primary_emu), remote(secondary_emu)
    orch = orchestrator_for(primary, secondary)
    deadline = first_byte_timeout_s(orch.settings.failover, primary, None)
    assert primary.timeout_s == 30.0 and deadline == 1.5
    assert deadline + 0.1 < 2.0  # hang decided + the secondary's answer: inside SC-002

    result = run_in_loop(orch, lambda: orch.aextract(SAMPLE_EMAIL))

    assert result.person_in_charge == "박지민"
    meta = result.meta
    assert meta.provider == "claude" and meta.fallback_used and not meta.hedged
    first = meta.attempts[0]
    assert (first.provider, first.outcome, first.error_kind) == ("gemini", "error", "timeout")
    assert "hung: no first event within 1.5 s" in (first.error or "")
    gem = orch.store.snapshot().providers["gemini"]
    assert gem.failures_by_kind == {"timeout": 1}  # a real hang is blamed


def _seed_first_event_history(orch: Orchestrator, name: str, model: str) -> None:
    """Five earlier streaming calls whose first event came after 50 ms."""
    for _ in range(5):
        orch.store.record_call(
            CallEvent(
                provider=name,
                model=model,
                ok=True,
                at=orch.ctx.now(),
                latency_ms=2000.0,
                first_event_ms=50.0,
            )
        )


def test_long_generation_is_not_hedged_but_a_late_first_event_is(
    trio: dict[str, Emulator], sdks_imported: None
) -> None:
    """History: first event after 50 ms. So a call is hedged at 0.5 s (hedge_min_s) if no
    event has come, and hung at 1.0 s (3 × p95, floored). A stream that started at once
    and runs 1.5 s is left alone; one whose first byte comes at 0.9 s gets hedged."""
    primary_emu, secondary_emu = trio["claude"], trio["gemini"]
    primary, secondary = remote(primary_emu), remote(secondary_emu)
    orch = orchestrator_for(primary, secondary)
    _seed_first_event_history(orch, "claude", primary.model_id)
    snap = orch.store.snapshot().providers["claude"]
    cfg = orch.settings.failover
    assert hedge_delay_s(cfg, primary, snap) == 0.5
    assert first_byte_timeout_s(cfg, primary, snap) == 1.0
    secondary_emu.set_default(Behaviour.ok(SECONDARY_ANSWER, latency_s=0.1))

    primary_emu.set_default(Behaviour.ok(latency_s=0.02).streaming(1.5))
    long_answer = run_in_loop(orch, lambda: orch.aextract(_email(1)))
    assert long_answer.meta.provider == "claude" and not long_answer.meta.hedged
    assert secondary_emu.request_count == 0

    primary_emu.set_default(Behaviour.ok(latency_s=0.9))
    late_start = run_in_loop(orch, lambda: orch.aextract(_email(2)))
    assert late_start.meta.hedged and secondary_emu.request_count == 1
    if late_start.meta.provider == "gemini":  # the usual case: the hedge answers first
        loser = next(a for a in late_start.meta.attempts if a.provider == "claude")
        assert loser.outcome == "cancelled"
    claude = orch.store.snapshot().providers["claude"]
    assert (claude.failures, claude.breaker) == (0, "closed")


def test_invalid_output_is_not_retried_and_does_not_open_the_breaker(
    trio: dict[str, Emulator], sdks_imported: None
) -> None:
    """Schema-invalid JSON in a 200, six emails in a row: each goes to the secondary at
    once; round 2 retries only the provider that had an outage; the breaker stays closed."""
    primary_emu, secondary_emu = trio["openai"], trio["gemini"]
    primary_emu.set_default(Behaviour.schema_violation())
    secondary_emu.set_default(Behaviour.ok(SECONDARY_ANSWER))
    orch = orchestrator_for(remote(primary_emu), remote(secondary_emu))

    async def six() -> list[ExtractionResult]:
        return [await orch.aextract(_email(i)) for i in range(6)]

    results = run_in_loop(orch, six)
    assert [r.meta.provider for r in results] == ["gemini"] * 6
    assert primary_emu.request_count == 6
    oa = orch.store.snapshot().providers["openai"]
    assert oa.failures_by_kind == {"invalid_output": 6}
    assert (oa.breaker, oa.consecutive_failures) == ("closed", 0)
    assert oa.success_rate == 0.0  # still the provider's fault for the success rate

    # round 2: the secondary's 503 is retried, the invalid output is not
    primary_emu.reset()
    secondary_emu.reset()
    primary_emu.set_default(Behaviour.schema_violation())
    secondary_emu.enqueue(Behaviour.status(503))
    secondary_emu.set_default(Behaviour.ok(SECONDARY_ANSWER))
    again = run_in_loop(orch, lambda: orch.aextract(_email(9)))
    assert again.meta.provider == "gemini"
    assert (primary_emu.request_count, secondary_emu.request_count) == (1, 2)


def test_retry_after_120_holds_for_the_next_process_and_status_shows_until_when(
    trio: dict[str, Emulator], sdks_imported: None, tmp_path: Path
) -> None:
    """A 429 with ``retry-after: 120`` on the primary: a new process (new orchestrator and
    store over the same state folder) does not call it until then; status says when."""
    primary_emu, secondary_emu = trio["gemini"], trio["claude"]
    primary_emu.set_default(Behaviour.status(429, retry_after=120))
    secondary_emu.set_default(Behaviour.ok(SECONDARY_ANSWER))
    clock = FakeClock()
    first = orchestrator_for(remote(primary_emu), remote(secondary_emu), clock=clock)
    done = run_in_loop(first, lambda: first.aextract(_email(1)))
    assert done.meta.provider == "claude" and primary_emu.request_count == 1
    quiet_until = clock.now + dt.timedelta(seconds=120)

    def next_process(seconds_later: float) -> tuple[Orchestrator, ExtractionResult]:
        clock.advance(seconds_later)
        orch = orchestrator_for(remote(primary_emu), remote(secondary_emu), clock=clock)
        return orch, run_in_loop(orch, lambda: orch.aextract(_email(2)))

    cron, result = next_process(60)  # a cron run a minute later
    assert primary_emu.request_count == 1  # not called
    skipped = result.meta.attempts[0]
    assert (skipped.provider, skipped.outcome) == ("gemini", "skipped")
    assert "rate-limited" in (skipped.error or "") and "retry in 60 s" in (skipped.error or "")
    store = JsonStateStore(cron.settings.state_dir, cron.settings.breaker, clock=clock)
    report = build_status(cron.settings, store)
    assert report.providers["gemini"].not_before == quiet_until
    assert report.providers["gemini"].breaker == "closed"  # one 429 opens nothing

    primary_emu.set_default(Behaviour.ok())
    _, later = next_process(61)  # past the 120 s: called again
    assert later.meta.provider == "gemini" and primary_emu.request_count == 2
    assert build_status(cron.settings, store).providers["gemini"].not_before is None


def test_snapshot_defaults_carry_no_retry_after() -> None:
    assert ProviderSnapshot().not_before is None and ProviderSnapshot().cancelled == 0
