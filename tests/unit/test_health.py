"""Health metric updates: pure functions over plain data."""

from __future__ import annotations

import datetime as dt

import pytest

from collabiq_llm.redact import register_secret
from collabiq_llm.state import health
from collabiq_llm.state.api import CallEvent
from collabiq_llm.state.health import HealthStats

T0 = dt.datetime(2025, 11, 2, 9, 0, tzinfo=dt.UTC)


def ok(latency: float | None = 100.0, at: dt.datetime = T0, **kw: object) -> CallEvent:
    return CallEvent(provider="p", model="m", ok=True, at=at, latency_ms=latency, **kw)  # type: ignore[arg-type]


def bad(kind: str = "server", msg: str | None = "boom", **kw: object) -> CallEvent:
    return CallEvent(
        provider="p",
        model="m",
        ok=False,
        at=T0,
        error_kind=kind,
        error_message=msg,
        **kw,  # type: ignore[arg-type]
    )


def apply(*events: CallEvent, window: int = health.LATENCY_WINDOW) -> HealthStats:
    stats = HealthStats()
    for event in events:
        stats = health.record(stats, event, window)
    return stats


def test_counts_and_failures_by_kind() -> None:
    stats = apply(ok(), bad("server"), bad("timeout"), bad("server"), ok(hedge=True))
    assert (stats.calls, stats.successes, stats.failures) == (5, 2, 3)
    assert stats.failures_by_kind == {"server": 2, "timeout": 1}
    assert stats.hedges == 1
    assert health.success_rate(stats) == pytest.approx(0.4)


def test_own_bad_requests_count_as_calls_but_not_against_success_rate() -> None:
    stats = apply(ok(), bad("bad_request", counts_against_provider=False))
    assert stats.calls == 2 and stats.failures == 1
    assert stats.failures_by_kind == {"bad_request": 1}
    assert stats.own_failures == 1
    assert health.success_rate(stats) == 1.0


def test_success_rate_is_none_before_any_call() -> None:
    assert health.success_rate(HealthStats()) is None


def test_last_success_and_failure_timestamps_are_utc() -> None:
    naive = dt.datetime(2025, 11, 2, 10, 0)
    stats = apply(ok(at=naive), bad())
    assert stats.last_success == dt.datetime(2025, 11, 2, 10, 0, tzinfo=dt.UTC)
    assert stats.last_failure == T0
    assert stats.last_success is not None and stats.last_success.tzinfo is not None


def test_latency_percentiles_hand_computed() -> None:
    stats = apply(*(ok(float(ms)) for ms in range(1, 101)))
    mean, p50, p95 = health.latency_summary(stats)
    assert (mean, p50, p95) == (50.5, 50.0, 95.0)


def test_latency_window_is_bounded_and_keeps_the_newest() -> None:
    stats = apply(*(ok(float(ms)) for ms in range(250)))
    assert len(stats.latencies_ms) == health.LATENCY_WINDOW
    assert stats.latencies_ms[0] == 50.0 and stats.latencies_ms[-1] == 249.0
    assert stats.calls == 250


def test_failed_calls_do_not_pollute_latency() -> None:
    stats = apply(ok(200.0), bad(kind="timeout", latency_ms=30_000.0))
    assert health.latency_summary(stats) == (200.0, 200.0, 200.0)
    assert health.latency_summary(HealthStats()) == (None, None, None)


def test_percentile_edges() -> None:
    assert health.percentile([], 50) is None
    assert health.percentile([7.0], 95) == 7.0
    assert health.percentile([3.0, 1.0, 2.0], 0) == 1.0
    assert health.percentile([3.0, 1.0, 2.0], 100) == 3.0


def test_last_error_is_redacted_single_line_and_truncated() -> None:
    register_secret("my-very-secret-key-123")
    msg = "401 with key my-very-secret-key-123\nand sk-ant-abcdefghijklmnop\n" + "x" * 500
    stats = apply(bad("auth", msg))
    assert stats.last_error is not None
    assert "my-very-secret" not in stats.last_error and "sk-ant-abc" not in stats.last_error
    assert "\n" not in stats.last_error
    assert len(stats.last_error) == health.ERROR_MAX_CHARS and stats.last_error.endswith("…")
    assert stats.last_error_kind == "auth"


def test_missing_error_message_falls_back_to_kind() -> None:
    assert apply(bad("timeout", None)).last_error == "timeout"
    assert apply(bad(None, None)).failures_by_kind == {"error": 1}  # type: ignore[arg-type]


def test_record_is_pure() -> None:
    before = HealthStats()
    health.record(before, ok())
    assert before == HealthStats()


def test_cancelled_call_is_counted_but_is_not_the_last_error() -> None:
    import datetime as _dt

    from collabiq_llm.state import health as _health
    from collabiq_llm.state.api import CallEvent as _CallEvent

    at = _dt.datetime(2025, 11, 2, tzinfo=_dt.UTC)
    stats = _health.record(
        _health.HealthStats(),
        _CallEvent(
            provider="claude",
            model="m",
            ok=False,
            at=at,
            error_kind="timeout",
            error_message="slow",
        ),
    )
    later = at + _dt.timedelta(seconds=5)
    stats = _health.record(
        stats,
        _CallEvent(
            provider="claude",
            model="m",
            ok=False,
            at=later,
            error_kind="cancelled",
            counts_against_provider=False,
            hedge=True,
        ),
    )
    # a lost race is counted as a call and as cancelled, never as a failure
    assert stats.calls == 2 and stats.failures_by_kind == {"timeout": 1}
    assert stats.failures == 1 and stats.cancelled == 1 and stats.hedges == 1
    assert stats.last_failure == at and stats.last_error_kind == "timeout"
    assert _health.success_rate(stats) == 0.0
