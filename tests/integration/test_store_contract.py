"""The state-store contract, run against both backends: JSON files and a real Redis server.

Each test gets a ``make`` factory: every call returns a *new* store object on the
same shared state (same folder / same Redis namespace) and the same fake clock, so
two objects stand for two processes — or two hosts. The last test replays one
scripted history through both backends and compares every answer and snapshot.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from collabiq_llm.settings import BreakerSettings, CostSettings, Price
from collabiq_llm.state.api import (
    CallEvent,
    LedgerEntry,
    LedgerProviderCost,
    OrchestrationConfig,
    StateStore,
)
from collabiq_llm.state.costs import call_cost
from collabiq_llm.state.json_store import JsonStateStore
from collabiq_llm.state.redis_store import RedisStateStore
from tests.support.redis_server import RedisServer, require_redis_server

T0 = dt.datetime(2025, 11, 2, 9, 0, tzinfo=dt.UTC)
SONNET = Price(input=3.0, output=15.0)
Make = Callable[..., StateStore]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    require_redis_server()
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


def json_factory(folder: Path, clock: Clock) -> Make:
    def make(**cfg: Any) -> StateStore:
        cost = cfg.pop("cost", None)
        return JsonStateStore(folder, BreakerSettings(**cfg), cost=cost, clock=clock)

    return make


def redis_factory(server: RedisServer, spool: Path, clock: Clock) -> Make:
    namespace = f"t{uuid.uuid4().hex[:12]}"  # fresh state per test on the shared server

    def make(**cfg: Any) -> StateStore:
        cost = cfg.pop("cost", None)
        return RedisStateStore(
            server.url(namespace),
            BreakerSettings(**cfg),
            cost=cost,
            clock=clock,
            spool_dir=spool,
            op_timeout_s=2.0,  # a loaded CI box must not turn a test into a fallback test
        )

    return make


@pytest.fixture(params=["json", "redis"])
def make(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Make:
    if request.param == "json":
        return json_factory(tmp_path / "llm_health", clock)
    server = request.getfixturevalue("redis_server")
    return redis_factory(server, tmp_path / "spool", clock)


def call(provider: str = "claude", ok: bool = True, **kw: Any) -> CallEvent:
    fields: dict[str, Any] = {
        "provider": provider,
        "model": "claude-sonnet-4-5",
        "ok": ok,
        "at": T0,
    }
    if not ok:
        fields.setdefault("error_kind", "server")
    fields.update(kw)
    return CallEvent.model_validate(fields)


def email(email_id: str, strategy: str = "failover", cost: float | None = 3.201) -> LedgerEntry:
    part = LedgerProviderCost(
        provider="claude", model="m", input_tokens=527_000, output_tokens=108_000, cost_usd=cost
    )
    return LedgerEntry(
        email_id=email_id, at=T0, strategy=strategy, providers=[part], total_cost_usd=cost
    )


def test_record_call_and_snapshot(make: Make) -> None:
    s = make()
    cost = call_cost(SONNET, 527_000, 108_000)
    s.record_call(
        call(latency_ms=1200.0, input_tokens=527_000, output_tokens=108_000, cost_usd=cost)
    )
    s.record_call(call(ok=False, error_kind="timeout", error_message="timed out after 30 s"))
    s.record_call(call(ok=False, error_kind="bad_request", counts_against_provider=False))
    s.record_call(call(hedge=True, latency_ms=800.0))
    snap = make().snapshot().providers["claude"]
    assert (snap.calls, snap.successes, snap.failures, snap.hedges) == (4, 2, 2, 1)
    assert snap.failures_by_kind == {"timeout": 1, "bad_request": 1}
    assert snap.consecutive_failures == 0
    assert snap.success_rate == pytest.approx(2 / 3)
    assert snap.cost_usd == pytest.approx(3.201)
    assert (snap.input_tokens, snap.output_tokens) == (527_000, 108_000)
    assert (snap.avg_latency_ms, snap.p50_latency_ms, snap.p95_latency_ms) == (
        1000.0,
        800.0,
        1200.0,
    )
    assert snap.last_success == T0 and snap.last_failure == T0
    assert snap.last_error == "bad_request"
    assert snap.breaker == "closed" and snap.next_try_at is None


def test_unknown_price_makes_provider_cost_unknown(make: Make) -> None:
    s = make()
    s.record_call(call(input_tokens=10, output_tokens=10, cost_usd=None))
    snap = s.snapshot().providers["claude"]
    assert snap.cost_usd is None and snap.unpriced_calls == 1


def test_latency_window_is_bounded(make: Make) -> None:
    s = make()
    for i in range(230):
        s.record_call(call(latency_ms=float(i)))
    snap = s.snapshot().providers["claude"]
    assert snap.calls == 230
    assert snap.p50_latency_ms == 129.0 and snap.p95_latency_ms == 219.0  # window = last 200


def test_breaker_opened_by_one_is_respected_by_another(make: Make, clock: Clock) -> None:
    a, b = make(), make()
    for _ in range(5):
        a.record_call(call(ok=False))
    permit = b.acquire("claude")
    assert not permit.allowed and permit.state == "open"
    assert permit.retry_at == T0 + dt.timedelta(seconds=60)
    assert b.acquire("openai").allowed
    snap = b.snapshot().providers["claude"]
    assert snap.breaker == "open" and snap.next_try_at == T0 + dt.timedelta(seconds=60)


def test_half_open_probe_is_shared_and_closes(make: Make, clock: Clock) -> None:
    a, b = make(), make()
    for _ in range(5):
        a.record_call(call(ok=False))
    clock.advance(61)
    snap = b.snapshot().providers["claude"]
    assert snap.breaker == "half_open" and snap.next_try_at is None
    probe_a = a.acquire("claude")
    assert probe_a.allowed and probe_a.state == "half_open" and probe_a.probe_token
    refused = b.acquire("claude")
    assert not refused.allowed
    assert refused.reason == "circuit half-open: 1 probe call(s) already in flight"
    assert refused.retry_at == clock.now + dt.timedelta(seconds=60)
    assert b.snapshot().providers["claude"].next_try_at == refused.retry_at
    a.record_call(call(probe_token=probe_a.probe_token))
    probe_b = b.acquire("claude")
    assert probe_b.allowed
    b.record_call(call(probe_token=probe_b.probe_token))
    snap = make().snapshot().providers["claude"]
    assert snap.breaker == "closed" and snap.consecutive_failures == 0


def test_two_probe_slots_and_a_failed_probe_reopens(make: Make, clock: Clock) -> None:
    a, b = make(half_open_max_probes=2), make(half_open_max_probes=2)
    for _ in range(5):
        a.record_call(call(ok=False))
    clock.advance(61)
    p1, p2, p3 = a.acquire("claude"), b.acquire("claude"), a.acquire("claude")
    assert p1.allowed and p2.allowed and not p3.allowed
    assert "2 probe call(s)" in (p3.reason or "")
    b.record_call(
        call(
            ok=False,
            error_kind="bad_request",
            counts_against_provider=False,
            probe_token=p2.probe_token,
        )
    )  # our fault: frees the slot, nothing else
    assert b.acquire("claude").allowed
    a.record_call(call(ok=False, error_kind="overloaded", probe_token=p1.probe_token))
    permit = b.acquire("claude")
    assert not permit.allowed and permit.state == "open"
    assert "probe call failed: overloaded" in (permit.reason or "")
    clock.advance(61)
    assert a.acquire("claude").allowed  # a new half-open episode has free slots again


def test_crashed_prober_does_not_wedge_the_breaker(make: Make, clock: Clock) -> None:
    a, b = make(), make()
    for _ in range(5):
        a.record_call(call(ok=False))
    clock.advance(61)
    assert a.acquire("claude").allowed  # ... and process A dies without recording
    clock.advance(30)
    assert not b.acquire("claude").allowed
    clock.advance(30)  # probe_ttl_s = 60 has passed
    assert b.acquire("claude").allowed


def test_late_success_while_open_is_ignored(make: Make, clock: Clock) -> None:
    s = make()
    for _ in range(5):
        s.record_call(call(ok=False))
    s.record_call(call())
    snap = s.snapshot().providers["claude"]
    assert snap.breaker == "open" and snap.consecutive_failures == 5 and snap.successes == 1


def test_auth_failure_blocks_until_reset(make: Make) -> None:
    s = make()
    s.record_call(call(ok=False, error_kind="auth", error_message="401 invalid x-api-key"))
    snap = s.snapshot().providers["claude"]
    assert snap.breaker == "open" and "fix the API key" in (snap.breaker_reason or "")
    assert snap.next_try_at == T0 + dt.timedelta(seconds=3600)
    assert not make().acquire("claude").allowed
    make().reset("claude")
    snap = s.snapshot().providers["claude"]
    assert snap.breaker == "closed" and snap.consecutive_failures == 0
    assert snap.calls == 1 and snap.failures_by_kind == {"auth": 1}
    assert s.acquire("claude").allowed
    make().reset("never-called")  # nothing to reset: no error


def test_retry_after_extends_the_open_period(make: Make, clock: Clock) -> None:
    s = make()
    for _ in range(4):
        s.record_call(call(ok=False))
    s.record_call(call(ok=False, error_kind="rate_limit", retry_after_s=600))
    clock.advance(300)
    permit = s.acquire("claude")
    assert not permit.allowed and "retry in 300 s" in (permit.reason or "")


def test_budget_skips_provider_with_a_clear_reason(make: Make, clock: Clock) -> None:
    s = make()
    s.record_call(call(input_tokens=527_000, output_tokens=108_000, cost_usd=3.201))
    assert s.acquire("claude", budget_daily_usd=5.0).allowed
    s.record_call(call(input_tokens=527_000, output_tokens=108_000, cost_usd=3.201))
    permit = make().acquire("claude", budget_daily_usd=5.0, budget_monthly_usd=100.0)
    assert not permit.allowed
    assert permit.reason == "over daily budget: $6.40 spent of $5.00 today (UTC)"
    assert permit.retry_at == dt.datetime(2025, 11, 3, tzinfo=dt.UTC)
    clock.advance(86_400)
    assert s.acquire("claude", budget_daily_usd=5.0).allowed
    assert not s.acquire("claude", budget_monthly_usd=6.0).allowed


def test_record_email_ledger_and_totals(make: Make) -> None:
    s = make()
    for i, strategy in enumerate(("failover", "consensus", "consensus")):
        s.record_email(email(f"e{i}", strategy))
    s.record_email(email("e3", "failover", cost=None))
    snap = make().snapshot()
    assert snap.emails == 4 and snap.total_cost_usd == pytest.approx(9.603)
    assert snap.unpriced_emails == 1
    assert snap.cost_by_strategy["consensus"].emails == 2
    assert snap.cost_by_strategy["failover"].unpriced == 1
    by_claude = snap.email_cost_by_provider["claude"]
    assert by_claude.cost_usd == pytest.approx(9.603) and by_claude.calls == 4
    assert by_claude.input_tokens == 4 * 527_000 and by_claude.unpriced == 1
    assert [e.email_id for e in s.read_ledger()] == ["e0", "e1", "e2", "e3"]
    assert [e.email_id for e in s.read_ledger(limit=2)] == ["e2", "e3"]
    assert s.read_ledger()[3].total_cost_usd is None


def test_ledger_is_bounded_but_totals_are_not(make: Make) -> None:
    s = make(cost=CostSettings(ledger_max_bytes=10_000))
    n = 1500
    for i in range(n):
        s.record_email(
            LedgerEntry(email_id=f"email-{i:04d}", at=T0, strategy="failover", total_cost_usd=0.01)
        )
    kept = s.read_ledger()
    assert kept[-1].email_id == f"email-{n - 1:04d}" and len(kept) < n
    assert [e.email_id for e in kept] == sorted(e.email_id for e in kept)
    snap = s.snapshot()
    assert snap.emails == n and snap.total_cost_usd == pytest.approx(0.01 * n)


def test_orchestration_persists_and_merges(make: Make, clock: Clock) -> None:
    a, b = make(), make()
    assert b.get_orchestration() == OrchestrationConfig()
    saved = a.set_orchestration(
        OrchestrationConfig(strategy="best_match", providers=["claude", "openai"])
    )
    assert saved.strategy == "best-match" and saved.updated_at == T0
    clock.advance(5)
    a.set_orchestration(OrchestrationConfig(strategy="consensus"))
    got = b.get_orchestration()
    assert got.strategy == "consensus" and got.providers == ["claude", "openai"]
    assert got.updated_at == T0 + dt.timedelta(seconds=5)
    a.set_orchestration(OrchestrationConfig(providers=None))
    assert b.get_orchestration().providers is None
    assert b.snapshot().orchestration.strategy == "consensus"
    with pytest.raises(ValueError, match="unknown strategy"):
        a.set_orchestration(OrchestrationConfig(strategy="vote"))


# -- one scripted history, both backends, every answer compared ------------------------------


def _normal(data: Any) -> Any:
    """Floats rounded (Redis sums exact 1e-10 USD units, JSON rounds each step)."""
    if isinstance(data, float):
        return round(data, 8)
    if isinstance(data, dict):
        return {k: _normal(v) for k, v in data.items() if k not in ("backend", "location")}
    if isinstance(data, list):
        return [_normal(v) for v in data]
    return data


def test_same_history_same_answers_on_both_backends(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    cfg = {"failure_threshold": 3, "cooldown_s": 20, "half_open_max_probes": 1, "probe_ttl_s": 15}
    clocks = {"json": Clock(), "redis": Clock()}
    factories = {
        "json": json_factory(tmp_path / "json", clocks["json"]),
        "redis": redis_factory(redis_server, tmp_path / "spool", clocks["redis"]),
    }
    stores = {name: [make(**cfg) for _ in range(2)] for name, make in factories.items()}
    rng = random.Random(20251102)
    held: dict[str, list[str]] = {"json": [], "redis": []}
    kinds = ["server", "timeout", "rate_limit", "auth", "bad_request"]
    seen: set[str] = set()
    for step in range(400):
        roll = rng.random()
        who = rng.randrange(2)
        provider = rng.choice(["claude", "openai"])
        wait = rng.choice([0, 0, 1, 5, 25])
        fail = rng.random() < 0.45
        kind = rng.choice(kinds)
        tokens = (rng.randrange(1, 5000), rng.randrange(1, 900))
        use_probe = rng.random() < 0.6
        strategy = rng.choice(["failover", "consensus"])
        answers = {}
        for name in ("json", "redis"):
            clocks[name].advance(wait)
            store = stores[name][who]
            at = clocks[name].now
            if roll < 0.35:
                permit = store.acquire(provider, budget_daily_usd=40.0)
                if permit.probe_token:
                    held[name].append(permit.probe_token)
                answers[name] = permit.model_dump(exclude={"probe_token"}) | {
                    "probe": permit.probe_token is not None
                }
            elif roll < 0.9:
                token = held[name].pop(0) if held[name] and use_probe else None
                store.record_call(
                    call(
                        provider,
                        ok=not fail,
                        at=at,
                        error_kind=kind if fail else None,
                        retry_after_s=30.0 if kind == "rate_limit" else None,
                        counts_against_provider=kind != "bad_request",
                        latency_ms=float(tokens[1]),
                        input_tokens=tokens[0],
                        output_tokens=tokens[1],
                        cost_usd=call_cost(SONNET, *tokens),
                        probe_token=token,
                    )
                )
            elif roll < 0.97:
                store.record_email(email(f"e{step}", strategy))
            else:
                store.reset(provider)
            answers[name] = _normal(answers.get(name)) if name in answers else None
        assert answers["json"] == answers["redis"], f"step {step}"
        if answers["json"]:
            permit = answers["json"]
            seen.add(f"{permit['state']}:{'probe' if permit['probe'] else permit['allowed']}")
        if step % 25 == 0 or step == 399:
            snaps = {name: _normal(s[0].snapshot().model_dump()) for name, s in stores.items()}
            assert snaps["json"] == snaps["redis"], f"snapshot after step {step}"
    # the history went through every breaker state, probes granted and refused
    assert {"closed:True", "open:False", "half_open:probe", "half_open:False"} <= seen, seen
    ledgers = {n: [e.email_id for e in s[1].read_ledger()] for n, s in stores.items()}
    assert ledgers["json"] == ledgers["redis"] and ledgers["json"]
