"""JsonStateStore end to end on real files, with a fake clock.

Two store objects on one folder stand for two cron processes: nothing is shared
between them except the files.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest

from collabiq_llm.errors import ConfigurationError
from collabiq_llm.settings import BreakerSettings, CostSettings, Price, Settings
from collabiq_llm.state import make_store
from collabiq_llm.state.api import (
    CallEvent,
    LedgerEntry,
    LedgerProviderCost,
    OrchestrationConfig,
    StateStore,
)
from collabiq_llm.state.costs import call_cost
from collabiq_llm.state.json_store import JsonStateStore

T0 = dt.datetime(2025, 11, 2, 9, 0, tzinfo=dt.UTC)
SONNET = Price(input=3.0, output=15.0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "llm_health"


def store(folder: Path, clock: Clock, **cfg: object) -> JsonStateStore:
    return JsonStateStore(folder, BreakerSettings(**cfg), clock=clock)  # type: ignore[arg-type]


def call(provider: str = "claude", ok: bool = True, **kw: object) -> CallEvent:
    fields: dict[str, object] = {
        "provider": provider,
        "model": "claude-sonnet-4-5",
        "ok": ok,
        "at": T0,
    }
    if not ok:
        fields.setdefault("error_kind", "server")
    fields.update(kw)
    return CallEvent.model_validate(fields)


def test_store_satisfies_the_protocol(folder: Path, clock: Clock) -> None:
    s: StateStore = store(folder, clock)
    assert s.snapshot().backend == "json"


def test_record_call_and_snapshot(folder: Path, clock: Clock) -> None:
    s = store(folder, clock)
    cost = call_cost(SONNET, 527_000, 108_000)
    s.record_call(
        call(latency_ms=1200.0, input_tokens=527_000, output_tokens=108_000, cost_usd=cost)
    )
    s.record_call(call(ok=False, error_kind="timeout", error_message="timed out after 30 s"))
    s.record_call(call(ok=False, error_kind="bad_request", counts_against_provider=False))
    snap = s.snapshot().providers["claude"]
    assert (snap.calls, snap.successes, snap.failures) == (3, 1, 2)
    assert snap.failures_by_kind == {"timeout": 1, "bad_request": 1}
    assert snap.consecutive_failures == 1  # the bad request did not count
    assert snap.success_rate == pytest.approx(0.5)
    assert snap.cost_usd == pytest.approx(3.201)
    assert (snap.input_tokens, snap.output_tokens) == (527_000, 108_000)
    assert snap.avg_latency_ms == 1200.0 and snap.p95_latency_ms == 1200.0
    assert snap.last_success == T0 and snap.last_failure == T0
    assert snap.last_error == "bad_request"
    assert snap.breaker == "closed" and snap.next_try_at is None


def test_unknown_price_makes_provider_cost_unknown(folder: Path, clock: Clock) -> None:
    s = store(folder, clock)
    s.record_call(call(input_tokens=10, output_tokens=10, cost_usd=None))
    snap = s.snapshot().providers["claude"]
    assert snap.cost_usd is None and snap.unpriced_calls == 1


def test_breaker_opens_and_refuses_from_another_process(folder: Path, clock: Clock) -> None:
    a, b = store(folder, clock), store(folder, clock)
    for _ in range(5):
        a.record_call(call(ok=False))
    permit = b.acquire("claude")
    assert not permit.allowed and permit.state == "open"
    assert permit.retry_at == T0 + dt.timedelta(seconds=60)
    assert b.acquire("openai").allowed  # other providers are untouched


def test_half_open_probe_is_shared_and_closes_across_processes(folder: Path, clock: Clock) -> None:
    a, b = store(folder, clock), store(folder, clock)
    for _ in range(5):
        a.record_call(call(ok=False))
    clock.advance(61)
    snap = b.snapshot().providers["claude"]
    assert snap.breaker == "half_open" and snap.next_try_at is None  # may be tried now

    probe_a = a.acquire("claude")
    assert probe_a.allowed and probe_a.state == "half_open" and probe_a.probe_token
    refused = b.acquire("claude")
    assert not refused.allowed and "probe" in (refused.reason or "")

    a.record_call(call(probe_token=probe_a.probe_token))  # first success, in process A
    probe_b = b.acquire("claude")  # the slot is free again, for process B
    assert probe_b.allowed
    b.record_call(call(probe_token=probe_b.probe_token))  # second success, in process B
    snap = store(folder, clock).snapshot().providers["claude"]
    assert snap.breaker == "closed" and snap.consecutive_failures == 0


def test_crashed_prober_does_not_wedge_the_breaker(folder: Path, clock: Clock) -> None:
    a, b = store(folder, clock), store(folder, clock)
    for _ in range(5):
        a.record_call(call(ok=False))
    clock.advance(61)
    assert a.acquire("claude").allowed  # ... and process A dies without recording
    clock.advance(30)
    assert not b.acquire("claude").allowed
    clock.advance(30)  # probe_ttl_s = 60 has passed
    assert b.acquire("claude").allowed


def test_auth_failure_blocks_until_reset(folder: Path, clock: Clock) -> None:
    s = store(folder, clock)
    s.record_call(call(ok=False, error_kind="auth", error_message="401 invalid x-api-key"))
    snap = s.snapshot().providers["claude"]
    assert snap.breaker == "open" and "fix the API key" in (snap.breaker_reason or "")
    assert snap.next_try_at == T0 + dt.timedelta(seconds=3600)
    assert not s.acquire("claude").allowed
    s.reset("claude")
    snap = s.snapshot().providers["claude"]
    assert snap.breaker == "closed" and snap.consecutive_failures == 0
    assert snap.calls == 1 and snap.failures_by_kind == {"auth": 1}  # history kept
    assert s.acquire("claude").allowed


def test_retry_after_extends_the_open_period(folder: Path, clock: Clock) -> None:
    s = store(folder, clock)
    for _ in range(4):
        s.record_call(call(ok=False))
    s.record_call(call(ok=False, error_kind="rate_limit", retry_after_s=600))
    clock.advance(300)
    permit = s.acquire("claude")
    assert not permit.allowed and "retry in 300 s" in (permit.reason or "")


def test_budget_skips_provider_with_a_clear_reason(folder: Path, clock: Clock) -> None:
    s = store(folder, clock)
    s.record_call(call(input_tokens=527_000, output_tokens=108_000, cost_usd=3.201))
    assert s.acquire("claude", budget_daily_usd=5.0).allowed
    s.record_call(call(input_tokens=527_000, output_tokens=108_000, cost_usd=3.201))
    permit = s.acquire("claude", budget_daily_usd=5.0, budget_monthly_usd=100.0)
    assert not permit.allowed
    assert permit.reason == "over daily budget: $6.40 spent of $5.00 today (UTC)"
    assert permit.retry_at == dt.datetime(2025, 11, 3, tzinfo=dt.UTC)
    clock.advance(86_400)
    assert s.acquire("claude", budget_daily_usd=5.0).allowed
    assert not s.acquire("claude", budget_monthly_usd=6.0).allowed


def test_closed_acquire_writes_nothing(folder: Path, clock: Clock) -> None:
    s = store(folder, clock)
    assert s.acquire("claude").allowed
    assert not (folder / "health.json").exists()


def test_record_email_ledger_and_totals(folder: Path, clock: Clock) -> None:
    s = store(folder, clock)
    for i, strategy in enumerate(("failover", "consensus", "consensus")):
        s.record_email(
            LedgerEntry(
                email_id=f"e{i}",
                at=T0,
                strategy=strategy,
                providers=[
                    LedgerProviderCost(
                        provider="claude",
                        model="m",
                        input_tokens=527_000,
                        output_tokens=108_000,
                        cost_usd=3.201,
                    )
                ],
                total_cost_usd=3.201,
            )
        )
    snap = s.snapshot()
    assert snap.emails == 3 and snap.total_cost_usd == pytest.approx(9.603)
    assert snap.cost_by_strategy["consensus"].emails == 2
    assert snap.email_cost_by_provider["claude"].cost_usd == pytest.approx(9.603)
    assert [e.email_id for e in s.read_ledger()] == ["e0", "e1", "e2"]
    assert [e.email_id for e in s.read_ledger(limit=1)] == ["e2"]


def test_ledger_rotates_and_stays_bounded(folder: Path, clock: Clock) -> None:
    s = JsonStateStore(
        folder,
        BreakerSettings(),
        cost=CostSettings(ledger_max_bytes=10_000),
        clock=clock,
        ledger_keep=2,
    )
    n = 300  # ~ 60 KB of ledger lines
    for i in range(n):
        s.record_email(
            LedgerEntry(email_id=f"email-{i:04d}", at=T0, strategy="failover", total_cost_usd=0.01)
        )
    files = sorted(p.name for p in folder.glob("ledger*.jsonl"))
    assert files == ["ledger.1.jsonl", "ledger.2.jsonl", "ledger.jsonl"]
    assert all(p.stat().st_size < 10_000 + 300 for p in folder.glob("ledger*.jsonl"))
    kept = s.read_ledger()
    assert kept[-1].email_id == f"email-{n - 1:04d}"
    assert [e.email_id for e in kept] == sorted(e.email_id for e in kept)
    assert len(kept) < n
    snap = s.snapshot()
    assert snap.emails == n and snap.total_cost_usd == pytest.approx(0.01 * n)  # totals survive


def test_orchestration_persists_and_merges(folder: Path, clock: Clock) -> None:
    a, b = store(folder, clock), store(folder, clock)
    assert b.get_orchestration() == OrchestrationConfig()
    saved = a.set_orchestration(
        OrchestrationConfig(strategy="best_match", providers=["claude", "openai"])
    )
    assert saved.strategy == "best-match" and saved.updated_at == T0
    clock.advance(5)
    a.set_orchestration(OrchestrationConfig(strategy="consensus"))  # providers untouched
    got = b.get_orchestration()
    assert got.strategy == "consensus" and got.providers == ["claude", "openai"]
    assert got.updated_at == T0 + dt.timedelta(seconds=5)
    a.set_orchestration(OrchestrationConfig(providers=None))  # explicit None clears
    assert b.get_orchestration().providers is None
    assert b.snapshot().orchestration.strategy == "consensus"
    with pytest.raises(ValueError, match="unknown strategy"):
        a.set_orchestration(OrchestrationConfig(strategy="vote"))


def test_on_disk_layout_and_modes(folder: Path, clock: Clock) -> None:
    s = store(folder, clock)
    s.record_call(call())
    s.record_email(LedgerEntry(email_id="e", at=T0, strategy="failover"))
    s.set_orchestration(OrchestrationConfig(strategy="failover"))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("health.json", "costs.json", "orchestration.json", "ledger.jsonl"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    for name in ("health.json", "costs.json", "orchestration.json"):
        assert json.loads((folder / name).read_text())["schema"] == 1
    assert json.loads((folder / "ledger.jsonl").read_text())["schema"] == 1


def test_make_store_backends(tmp_path: Path, isolated_home: Path) -> None:
    default = make_store(Settings())
    assert isinstance(default, JsonStateStore)
    assert default.state_dir == isolated_home / "llm_health"
    custom = make_store(Settings(state_url=f"file://{tmp_path / 'elsewhere'}"))
    assert isinstance(custom, JsonStateStore) and custom.state_dir == tmp_path / "elsewhere"
    assert make_store(Settings(state_url="file://")).state_dir == isolated_home / "llm_health"  # type: ignore[attr-defined]
    from collabiq_llm.state.redis_store import RedisStateStore  # constructing does not connect

    assert isinstance(make_store(Settings(state_url="redis://localhost:6379/0")), RedisStateStore)
    with pytest.raises(ConfigurationError, match="unsupported state_url"):
        make_store(Settings(state_url="s3://bucket"))
