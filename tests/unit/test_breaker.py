"""Every breaker transition, as pure functions with a fake clock (no I/O, no sleeping).

"Two processes" are simulated by passing the state through JSON between them,
exactly as the store does: nothing survives in memory from one call to the next.
"""

from __future__ import annotations

import datetime as dt

import pytest

from collabiq_llm.settings import BreakerSettings
from collabiq_llm.state import breaker as br
from collabiq_llm.state.breaker import BreakerState

T0 = dt.datetime(2025, 11, 2, 9, 0, tzinfo=dt.UTC)
CFG = BreakerSettings()  # 5 failures, 60 s, auth 3600 s, 1 probe, 2 successes, ttl 60 s


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def persisted(state: BreakerState) -> BreakerState:
    """What another process reads back from the file."""
    return BreakerState.model_validate_json(state.model_dump_json())


def fail(state: BreakerState, now: dt.datetime, kind: str = "server", **kw: object) -> BreakerState:
    return persisted(br.on_failure(state, CFG, now, kind=kind, **kw))  # type: ignore[arg-type]


def opened(now: dt.datetime = T0, cfg: BreakerSettings = CFG) -> BreakerState:
    state = BreakerState()
    for _ in range(cfg.failure_threshold):
        state = persisted(br.on_failure(state, cfg, now, kind="server"))
    return state


def test_closed_allows_and_counts_failures_below_threshold() -> None:
    state = BreakerState()
    for n in range(1, CFG.failure_threshold):
        state = fail(state, at(n))
        assert state.state == "closed"
        assert state.consecutive_failures == n
    _, permit = br.acquire(state, CFG, at(10), "tok")
    assert permit.allowed and permit.state == "closed" and permit.probe_token is None


def test_success_in_closed_resets_consecutive_failures() -> None:
    state = fail(fail(BreakerState(), T0), T0)
    state = br.on_success(state, CFG, T0)
    assert state.consecutive_failures == 0 and state.state == "closed"


def test_threshold_failures_open_for_cooldown() -> None:
    state = opened()
    assert state.state == "open"
    assert state.open_until == at(60)
    assert state.trips == 1
    assert state.reason == "5 consecutive failures, last: server"
    _, permit = br.acquire(state, CFG, at(18), "tok")
    assert not permit.allowed
    assert permit.state == "open"
    assert permit.retry_at == at(60)
    assert "retry in 42 s" in (permit.reason or "")


def test_retry_after_longer_than_cooldown_extends_it() -> None:
    state = BreakerState()
    for _ in range(4):
        state = fail(state, T0)
    state = fail(state, T0, kind="rate_limit", retry_after_s=300)
    assert state.state == "open" and state.open_until == at(300)


def test_retry_after_shorter_than_cooldown_does_not_shorten_it() -> None:
    state = BreakerState()
    for _ in range(5):
        state = fail(state, T0, kind="rate_limit", retry_after_s=5)
    assert state.open_until == at(60)


def test_rate_limit_with_retry_after_below_threshold_is_only_counted() -> None:
    state = fail(BreakerState(), T0, kind="rate_limit", retry_after_s=120)
    assert state.state == "closed" and state.consecutive_failures == 1
    assert state.open_until is None


def test_late_failure_while_open_extends_only_with_longer_retry_after() -> None:
    state = opened()
    same = fail(state, at(10))
    assert same.open_until == at(60) and same.consecutive_failures == 6
    longer = fail(state, at(10), kind="rate_limit", retry_after_s=120)
    assert longer.open_until == at(130) and longer.trips == 1


def test_late_success_while_open_is_ignored() -> None:
    state = opened()
    assert br.on_success(state, CFG, at(30)) == state


def test_open_becomes_half_open_lazily_after_cooldown() -> None:
    state = opened()
    assert br.current(state, at(59.9)).state == "open"
    assert br.current(state, at(60)).state == "half_open"
    assert state.state == "open"  # pure: the input is unchanged


def test_half_open_admits_one_probe_across_two_processes() -> None:
    stored = opened()
    # process A: first look after the cooldown claims the only probe slot
    stored, permit_a = br.acquire(stored, CFG, at(61), "A")
    stored = persisted(stored)
    assert permit_a.allowed and permit_a.state == "half_open" and permit_a.probe_token == "A"
    # process B reads the stored state: the slot is taken
    stored, permit_b = br.acquire(stored, CFG, at(62), "B")
    stored = persisted(stored)
    assert not permit_b.allowed
    assert permit_b.state == "half_open"
    assert permit_b.retry_at == at(121)  # when A's slot expires
    assert "1 probe call(s) already in flight" in (permit_b.reason or "")


def test_half_open_probe_limit_of_two() -> None:
    cfg = BreakerSettings(half_open_max_probes=2)
    stored = opened(cfg=cfg)
    answers = []
    for token in ("A", "B", "C"):
        stored, permit = br.acquire(stored, cfg, at(61), token)
        stored = persisted(stored)
        answers.append(permit.allowed)
    assert answers == [True, True, False]
    assert set(stored.probes) == {"A", "B"}


def test_expired_probe_slot_is_reclaimed() -> None:
    stored, _ = br.acquire(opened(), CFG, at(61), "crashed")
    stored = persisted(stored)
    _, refused = br.acquire(stored, CFG, at(61 + 59), "B")
    assert not refused.allowed
    stored, permit = br.acquire(stored, CFG, at(61 + 60), "B")
    assert permit.allowed and permit.probe_token == "B"
    assert set(stored.probes) == {"B"}


def test_two_probe_successes_close_it_across_processes() -> None:
    stored, p1 = br.acquire(opened(), CFG, at(61), "A")
    stored = persisted(br.on_success(persisted(stored), CFG, at(62), p1.probe_token))
    assert stored.state == "half_open"
    assert stored.half_open_successes == 1
    assert stored.probes == {}  # A's slot was released
    stored, p2 = br.acquire(stored, CFG, at(63), "B")
    assert p2.allowed
    stored = persisted(br.on_success(persisted(stored), CFG, at(64), p2.probe_token))
    assert stored.state == "closed"
    assert stored.consecutive_failures == 0 and stored.probes == {}
    assert stored.trips == 1


def test_failure_in_half_open_reopens() -> None:
    stored, permit = br.acquire(opened(), CFG, at(61), "A")
    stored = fail(stored, at(65), kind="timeout", probe_token=permit.probe_token)
    assert stored.state == "open"
    assert stored.open_until == at(125)
    assert stored.reason == "probe call failed: timeout"
    assert stored.trips == 2
    assert stored.probes == {}


def test_failure_in_half_open_honours_retry_after() -> None:
    stored, _permit = br.acquire(opened(), CFG, at(61), "A")
    stored = fail(stored, at(61), kind="rate_limit", retry_after_s=600, probe_token="A")
    assert stored.open_until == at(661)


def test_auth_error_opens_at_once_with_long_cooldown() -> None:
    state = fail(BreakerState(), T0, kind="auth")
    assert state.state == "open"
    assert state.open_until == at(CFG.auth_cooldown_s)
    assert "fix the API key" in (state.reason or "")
    name, reason, next_try = br.view(state, CFG, at(10))
    assert name == "open" and "authentication" in (reason or "") and next_try == at(3600)


def test_auth_error_while_half_open_uses_auth_cooldown() -> None:
    stored, _ = br.acquire(opened(), CFG, at(61), "A")
    stored = fail(stored, at(61), kind="auth", probe_token="A")
    assert stored.state == "open" and stored.open_until == at(61 + 3600)


def test_auth_error_while_open_lengthens_it() -> None:
    stored = fail(opened(), at(10), kind="auth")
    assert stored.open_until == at(10 + 3600)
    assert "fix the API key" in (stored.reason or "")


@pytest.mark.parametrize("start", ["closed", "half_open"])
def test_our_bad_request_does_not_count(start: str) -> None:
    if start == "closed":
        state = fail(BreakerState(), T0)
        after = fail(state, T0, kind="bad_request", counts=False)
        assert after == state
    else:
        state, _permit = br.acquire(opened(), CFG, at(61), "A")
        after = fail(state, at(62), kind="bad_request", counts=False, probe_token="A")
        assert after.state == "half_open"
        assert after.probes == {}  # the slot is free for a real probe
        assert after.consecutive_failures == state.consecutive_failures


def test_record_dispatches_both_outcomes() -> None:
    state = br.record(BreakerState(), CFG, T0, ok=False, kind="server")
    assert state.consecutive_failures == 1
    assert br.record(state, CFG, T0, ok=True).consecutive_failures == 0


def test_reset_closes_and_keeps_trip_count() -> None:
    state = br.reset(fail(BreakerState(), T0, kind="auth"))
    assert state.state == "closed" and state.consecutive_failures == 0
    assert state.trips == 1 and state.reason is None


def test_view_reports_when_it_may_next_be_tried() -> None:
    assert br.view(BreakerState(), CFG, T0) == ("closed", None, None)
    state = opened()
    assert br.view(state, CFG, at(30))[::2] == ("open", at(60))
    # cooldown passed: shown as half-open, may be tried now
    assert br.view(state, CFG, at(61))[::2] == ("half_open", None)
    claimed, _ = br.acquire(state, CFG, at(61), "A")
    assert br.view(claimed, CFG, at(70))[::2] == ("half_open", at(121))


def test_timestamps_round_trip_as_aware_utc() -> None:
    stored = persisted(opened())
    assert stored.open_until is not None and stored.open_until.tzinfo is not None
    assert '"open_until":"2025-11-02T09:01:00Z"' in stored.model_dump_json()
