"""Strategy logic with scripted in-process providers and the real JSON state store.

Wire-level behaviour (real SDKs over HTTP) is covered in tests/integration; here
the providers are fakes so ordering, hedging, voting and recording run in ms.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from collabiq_llm.email.input import EmailInput
from collabiq_llm.errors import (
    AllProvidersFailed,
    LLMAuthenticationError,
    LLMBadRequestError,
    LLMRateLimitError,
    LLMServerError,
)
from collabiq_llm.orchestration.orchestrator import Orchestrator
from collabiq_llm.settings import Settings
from collabiq_llm.state.json_store import JsonStateStore
from tests.support.fakes import ScriptedProvider, Step, answer

EMAIL = EmailInput(
    text="어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅. 담당자: 김철수",
    received_at=dt.date(2025, 11, 2),
)


def make(
    providers,
    *,
    settings: Settings | None = None,
    sleeps: list | None = None,
    fake_clock: bool = False,
    **failover,
) -> Orchestrator:
    """``fake_clock``: the orchestrator's monotonic clock moves only when it sleeps, so
    waits it computes are exact whatever the machine's load."""
    s = settings or Settings()
    s = s.model_copy(
        update={
            "failover": s.failover.model_copy(
                update={"hedge_min_s": 0.05, "hedge_max_s": 0.2, **failover}
            )
        }
    )
    store = JsonStateStore(s.state_dir, s.breaker, cost=s.cost)

    clock = [1000.0]

    async def fake_sleep(seconds: float) -> None:
        (sleeps if sleeps is not None else []).append(seconds)
        clock[0] += seconds

    extra = {"monotonic": lambda: clock[0]} if fake_clock else {}
    return Orchestrator(
        s,
        store=store,
        providers={p.provider_name: p for p in providers},
        sleep=fake_sleep,
        **extra,
    )


def run(orch: Orchestrator, strategy: str | None = None):
    return orch.extract(EMAIL, strategy)


def test_failover_moves_to_next_provider_at_once() -> None:
    a = ScriptedProvider("gemini", [Step(error=LLMServerError("503 unavailable"))])
    b = ScriptedProvider("claude", [answer(delay_s=0.01)])
    sleeps: list[float] = []
    result = run(make([a, b], sleeps=sleeps))
    assert sleeps == [] and not result.meta.hedged  # no back-off, no waiting for a hedge
    assert result.meta.provider == "claude" and result.meta.fallback_used
    assert [x.outcome for x in result.meta.attempts] == ["error", "success"]
    assert result.meta.attempts[0].error_kind == "server"
    assert result.person_in_charge == "김철수"


def test_hedge_starts_secondary_when_primary_is_slow_and_records_loser() -> None:
    slow = ScriptedProvider("gemini", [Step(hang=True)])
    fast = ScriptedProvider("claude", [answer(delay_s=0.01)])
    orch = make([slow, fast])
    started = time.perf_counter()
    result = run(orch)
    elapsed = time.perf_counter() - started
    assert elapsed >= 0.2  # the hedge waited for its delay (no history -> hedge_max_s)
    assert result.meta.hedged and result.meta.provider == "claude"
    assert slow.cancelled == 1
    outcomes = {a.provider: a.outcome for a in result.meta.attempts}
    assert outcomes == {"gemini": "cancelled", "claude": "success"}
    snap = orch.store.snapshot().providers
    # a lost race is not a failure (issue 12): counted as cancelled, breaker untouched
    assert snap["gemini"].failures == 0 and snap["gemini"].failures_by_kind == {}
    assert snap["gemini"].cancelled == 1 and snap["gemini"].consecutive_failures == 0
    assert snap["claude"].hedges == 1


def test_no_hedge_when_budget_is_spent() -> None:
    slow = ScriptedProvider("gemini", [answer(delay_s=0.4, person="박지민")])
    fast = ScriptedProvider("claude", [answer()])
    result = run(make([slow, fast], hedge_burst=0, hedge_budget=0.0))
    assert result.meta.provider == "gemini" and not result.meta.hedged
    assert fast.calls == 0


def test_primary_answering_during_hedge_wins_and_hedge_is_not_blamed() -> None:
    primary = ScriptedProvider("gemini", [answer(delay_s=0.3, person="박지민")])
    hedge = ScriptedProvider("claude", [answer(delay_s=2.0)])
    orch = make([primary, hedge])
    result = run(orch)
    assert result.meta.provider == "gemini" and result.meta.hedged
    assert not result.meta.fallback_used
    hedge_stats = orch.store.snapshot().providers["claude"]
    # the cancelled hedge is counted (traffic sent, hedge budget) but not blamed
    assert hedge_stats.cancelled == 1 and hedge_stats.hedges == 1
    assert hedge_stats.failures == 0 and hedge_stats.failures_by_kind == {}
    assert hedge_stats.consecutive_failures == 0 and hedge_stats.breaker == "closed"


def test_second_round_honours_retry_after_with_injected_sleep() -> None:
    sleeps: list[float] = []
    a = ScriptedProvider(
        "gemini", [Step(error=LLMRateLimitError("slow down", retry_after=7.0)), answer()]
    )
    b = ScriptedProvider("claude", [Step(error=LLMServerError("500"))])
    result = run(make([a, b], sleeps=sleeps, fake_clock=True))
    assert result.meta.provider == "gemini"
    # round 2: claude (no retry-after) at once, then gemini after its 7 s retry-after
    assert sleeps == [7.0]
    assert a.calls == 2 and b.calls == 2


def test_retry_after_beyond_deadline_gives_up_instead_of_sleeping() -> None:
    sleeps: list[float] = []
    a = ScriptedProvider("gemini", [Step(error=LLMRateLimitError("quota", retry_after=600))])
    s = Settings()
    s = s.model_copy(update={"offline_last_resort": False})
    with pytest.raises(AllProvidersFailed) as info:
        run(make([a], settings=s, sleeps=sleeps, deadline_s=5.0))
    assert sleeps == [] and a.calls == 1
    assert isinstance(info.value.failures["gemini"], LLMRateLimitError)


def test_non_retryable_errors_are_not_retried() -> None:
    a = ScriptedProvider("gemini", [Step(error=LLMAuthenticationError("bad key"))])
    b = ScriptedProvider("claude", [Step(error=LLMBadRequestError("too long"))])
    s = Settings().model_copy(update={"offline_last_resort": False})
    with pytest.raises(AllProvidersFailed) as info:
        run(make([a, b], settings=s))
    assert a.calls == 1 and b.calls == 1
    assert set(info.value.failures) == {"gemini", "claude"}


def test_breaker_bypasses_primary_after_five_failures() -> None:
    a = ScriptedProvider("gemini", [Step(error=LLMServerError("503"))])
    b = ScriptedProvider("claude", [answer()])
    orch = make([a, b])
    for _ in range(7):
        assert run(orch).meta.provider == "claude"
    assert a.calls == 5
    snap = orch.store.snapshot().providers["gemini"]
    assert snap.breaker == "open" and snap.consecutive_failures == 5


def test_all_down_gives_degraded_offline_result() -> None:
    a = ScriptedProvider("gemini", [Step(error=LLMServerError("503"))])
    offline = ScriptedProvider("offline", [answer(conf=0.4)])
    result = run(make([a, offline]))
    assert result.meta.provider == "offline" and result.meta.degraded
    assert result.meta.fallback_used


def test_all_down_without_last_resort_raises_listing_each_error() -> None:
    a = ScriptedProvider("gemini", [Step(error=LLMServerError("503"))])
    b = ScriptedProvider("claude", [Step(error=LLMAuthenticationError("401"))])
    s = Settings().model_copy(update={"offline_last_resort": False})
    with pytest.raises(AllProvidersFailed) as info:
        run(make([a, b], settings=s))
    assert {k: v.kind for k, v in info.value.failures.items()} == {
        "gemini": "server",
        "claude": "auth",
    }


class InFlight(ScriptedProvider):
    """Counts how many calls of this class are running at once (``peak``)."""

    running = 0
    peak = 0

    async def aextract(self, email: EmailInput):
        cls = type(self)
        cls.running += 1
        cls.peak = max(cls.peak, cls.running)
        try:
            return await super().aextract(email)
        finally:
            cls.running -= 1


def test_consensus_runs_in_parallel_and_merges() -> None:
    class Counted(InFlight):
        pass

    a = Counted("gemini", [answer(partner="신세계", delay_s=0.2)])
    b = Counted("claude", [answer(partner="신세계인터내셔널", delay_s=0.2)])
    c = Counted("openai", [answer(partner="(주)신세계인터내셔널", delay_s=0.2)])
    result = run(make([a, b, c]), "consensus")
    assert Counted.peak == 3  # all three in flight together, not one after another
    assert result.partner_org == "신세계인터내셔널"
    assert result.meta.providers_agreeing["partner_org"] == ["claude", "openai"]
    assert not result.meta.degraded
    assert result.meta.input_tokens == 300


def test_consensus_with_one_answer_is_degraded() -> None:
    a = ScriptedProvider("gemini", [Step(error=LLMServerError("503"))])
    b = ScriptedProvider("claude", [answer()])
    result = run(make([a, b]), "consensus")
    assert result.meta.degraded and result.meta.provider == "claude"


def test_best_match_picks_highest_mean_confidence_and_ignores_late() -> None:
    a = ScriptedProvider("gemini", [answer(conf=0.85, person="A")])
    b = ScriptedProvider("claude", [answer(conf=0.92, person="B")])
    c = ScriptedProvider("openai", [answer(conf=0.78, person="C")])
    late = ScriptedProvider("extra", [answer(conf=0.99, person="D", delay_s=5)])
    s = Settings()
    s = s.model_copy(update={"best_match": s.best_match.model_copy(update={"window_s": 0.3})})
    result = run(make([a, b, c, late], settings=s), "best-match")
    assert result.person_in_charge == "B" and result.meta.provider == "claude"
    assert {x.provider: x.outcome for x in result.meta.attempts}["extra"] == "late"


def test_best_match_tie_goes_to_priority() -> None:
    a = ScriptedProvider("gemini", [answer(conf=0.9, person="A")])
    b = ScriptedProvider("claude", [answer(conf=0.9, person="B")])
    assert run(make([a, b]), "best-match").person_in_charge == "A"


def test_costs_are_recorded_per_call_and_in_the_ledger() -> None:
    a = ScriptedProvider("gemini", [Step(error=LLMServerError("500"))], model="gpt-5-mini")
    b = ScriptedProvider("claude", [answer()], model="claude-sonnet-4-5")
    orch = make([a, b])
    result = run(orch)
    # 100 in + 20 out tokens on Sonnet 4.5 at $3/$15 per 1M = 0.0003 + 0.0003
    assert result.meta.cost_usd == pytest.approx(0.0006)
    snap = orch.store.snapshot()
    assert snap.emails == 1 and snap.total_cost_usd == pytest.approx(0.0006)
    assert snap.providers["claude"].cost_usd == pytest.approx(0.0006)


def test_circuit_opening_between_rounds_ends_the_email_at_once() -> None:
    """A provider whose breaker opened mid-email is not polled until the deadline."""
    s = Settings()
    s = s.model_copy(
        update={
            "offline_last_resort": False,
            "breaker": s.breaker.model_copy(update={"failure_threshold": 1}),
        }
    )
    a = ScriptedProvider("gemini", [Step(error=LLMServerError("503"))])
    sleeps: list[float] = []
    with pytest.raises(AllProvidersFailed):
        run(make([a], settings=s, sleeps=sleeps, deadline_s=5.0, max_rounds=3))
    assert sleeps == []  # did not wait for a retry that can never come
    assert a.calls == 1


def test_offline_provider_uses_the_configured_company_directory(tmp_path) -> None:
    companies = tmp_path / "companies.toml"
    companies.write_text(
        '[[startups]]\nname = "새벽별랩"\naliases = ["Saebyeol Lab"]\n'
        '[[partners]]\nname = "푸른항만공사"\naliases = []\n',
        encoding="utf-8",
    )
    orch = Orchestrator(Settings(companies_file=companies))
    email = EmailInput(
        text="어제 Saebyeol Lab과 푸른항만공사가 PoC 미팅을 했습니다. 담당자: 윤하늘",
        received_at=dt.date(2025, 11, 2),
    )
    result = orch.extract(email)
    assert result.meta.provider == "offline"
    assert (result.startup_name, result.partner_org) == ("새벽별랩", "푸른항만공사")


def test_first_call_set_up_time_does_not_trigger_a_hedge() -> None:
    """A cold process imports the SDK (blocking) before its first call: not slowness."""
    cold = ScriptedProvider("gemini", [answer(delay_s=0.05)], prepare_s=1.0)
    other = ScriptedProvider("claude", [answer()])
    result = run(make([cold, other]))  # hedge_max_s = 0.2 < the 1 s set-up
    assert result.meta.provider == "gemini" and not result.meta.hedged
    assert other.calls == 0
    # the 1 s set-up is not in the provider's latency (a generous bound: the call is 50 ms)
    assert result.meta.attempts[0].latency_ms < 1000


def test_received_at_as_iso_string_is_accepted_and_garbage_fails_before_any_call() -> None:
    a = ScriptedProvider("gemini", [answer()])
    orch = make([a])
    result = orch.extract("어제 본봄 미팅. 담당자: 김철수", received_at="2025-11-02")
    assert result.meta.provider == "gemini"
    with pytest.raises(TypeError, match="received_at"):
        orch.extract("어제 본봄 미팅", received_at=20251102)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ISO date"):
        orch.extract("어제 본봄 미팅", received_at="yesterday")
    assert a.calls == 1


def test_unexpected_exceptions_fail_over_but_never_open_the_breaker() -> None:
    class Broken(ScriptedProvider):
        async def aextract(self, email: EmailInput):  # type: ignore[override]
            self.calls += 1
            raise AttributeError("'str' object has no attribute 'isoformat'")

    broken = Broken("gemini", [answer()])
    ok = ScriptedProvider("claude", [answer()])
    orch = make([broken, ok])
    for _ in range(7):
        result = orch.extract(EMAIL)
        assert result.meta.provider == "claude"
        assert result.meta.attempts[0].error_kind == "internal"
    snap = orch.store.snapshot().providers["gemini"]
    assert broken.calls == 7
    assert snap.breaker == "closed" and snap.consecutive_failures == 0


def test_a_stuck_state_lock_costs_a_warning_not_the_email_nor_its_events(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Locks held past their timeout: both emails are extracted, one warning, and every
    event is kept and written once the locks are free (issue 11: never dropped)."""
    from filelock import FileLock

    s = Settings()
    store = JsonStateStore(s.state_dir, s.breaker, cost=s.cost, lock_timeout_s=0.1)
    a = ScriptedProvider("gemini", [answer()])
    orch = Orchestrator(s, store=store, providers={"gemini": a})
    store.snapshot()  # creates the folder
    with (
        FileLock(str(s.state_dir / "health.json.lock")),
        FileLock(str(s.state_dir / "costs.json.lock")),
    ):
        first = orch.extract(EMAIL)
        second = orch.extract(EMAIL)
        assert store.snapshot().pending_events == 4  # 2 calls + 2 emails, none on disk
    assert first.meta.provider == second.meta.provider == "gemini"
    err = capsys.readouterr().err
    assert err.count("kept in memory and retried, none dropped") == 1
    assert store.flush()
    on_disk = JsonStateStore(s.state_dir, s.breaker, cost=s.cost).snapshot()
    assert on_disk.providers["gemini"].calls == 2 and on_disk.emails == 2
    assert on_disk.pending_events == 0
