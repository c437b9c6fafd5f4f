"""``collabiq llm metrics``: the status report in Prometheus text exposition format.

Written for node_exporter's textfile collector (``collabiq llm metrics > x.prom.$$ &&
mv x.prom.$$ /var/lib/node_exporter/textfile/collabiq.prom`` from cron), rendered by
``prometheus_client`` so the format (escaping, ``_total`` suffixes, histogram
buckets) is right by construction. Counters are the lifetime totals from state, so
they only go up; the latency histogram covers the recent window of successful
calls kept in state (the last 200 per provider).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from collabiq_llm.health_view import HEALTH_STATES
from collabiq_llm.status import StatusReport

PREFIX = "collabiq_llm"
LATENCY_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BREAKER_STATES = ("closed", "open", "half_open")


def histogram_buckets(latencies_ms: list[float]) -> tuple[list[tuple[str, float]], float]:
    """Cumulative (le, count) buckets in seconds, +Inf last, and the sum (pure)."""
    seconds = [ms / 1000.0 for ms in latencies_ms]
    buckets = [(f"{le:g}", float(sum(1 for s in seconds if s <= le))) for le in LATENCY_BUCKETS_S]
    buckets.append(("+Inf", float(len(seconds))))
    return buckets, sum(seconds)


class _StatusCollector:
    """A one-shot collector over one status report (no live process metrics)."""

    def __init__(self, report: StatusReport) -> None:
        self.report = report

    def collect(self):
        r = self.report
        p = PREFIX
        calls = CounterMetricFamily(
            f"{p}_provider_calls", "Provider calls recorded", labels=["provider"]
        )
        ok = CounterMetricFamily(
            f"{p}_provider_successes", "Successful provider calls", labels=["provider"]
        )
        failures = CounterMetricFamily(
            f"{p}_provider_failures",
            "Failed provider calls by error kind",
            labels=["provider", "kind"],
        )
        breaker = GaugeMetricFamily(
            f"{p}_provider_breaker_state",
            "1 for the circuit breaker's current state",
            labels=["provider", "state"],
        )
        health = GaugeMetricFamily(
            f"{p}_provider_health",
            "1 for the provider's current health state",
            labels=["provider", "state"],
        )
        up = GaugeMetricFamily(
            f"{p}_provider_can_take_calls",
            "1 when the provider can take calls now",
            labels=["provider"],
        )
        until = GaugeMetricFamily(
            f"{p}_provider_health_until_timestamp_seconds",
            "When the current health state ends by itself (Unix time)",
            labels=["provider"],
        )
        latency = HistogramMetricFamily(
            f"{p}_provider_latency_seconds",
            "Latency of recent successful calls (window kept in state)",
            labels=["provider"],
        )
        tokens = CounterMetricFamily(
            f"{p}_provider_tokens", "Tokens used", labels=["provider", "direction"]
        )
        cost = CounterMetricFamily(
            f"{p}_provider_cost_usd", "Known cost of every call in USD", labels=["provider"]
        )
        spend = GaugeMetricFamily(
            f"{p}_provider_spend_usd",
            "Known spend in the current UTC day / month",
            labels=["provider", "period"],
        )
        budget = GaugeMetricFamily(
            f"{p}_provider_budget_usd", "Configured budget", labels=["provider", "period"]
        )
        remaining = GaugeMetricFamily(
            f"{p}_provider_budget_remaining_usd",
            "Budget left (the tighter of daily and monthly)",
            labels=["provider"],
        )
        for name, row in r.providers.items():
            calls.add_metric([name], row.calls)
            ok.add_metric([name], row.successes)
            for kind, n in sorted(row.failures_by_kind.items()):
                failures.add_metric([name, kind], n)
            for state in BREAKER_STATES:
                breaker.add_metric([name, state], 1.0 if row.breaker == state else 0.0)
            for state in HEALTH_STATES:
                health.add_metric([name, state], 1.0 if row.health == state else 0.0)
            up.add_metric([name], 1.0 if row.can_take_calls else 0.0)
            if row.health_until is not None:
                until.add_metric([name], row.health_until.timestamp())
            buckets, total = histogram_buckets(row.latency_window_ms)
            latency.add_metric([name], buckets, total)
            tokens.add_metric([name, "input"], row.input_tokens)
            tokens.add_metric([name, "output"], row.output_tokens)
            if row.cost_usd is not None:
                cost.add_metric([name], row.cost_usd)
            spend.add_metric([name, "day"], row.spent_today_usd)
            spend.add_metric([name, "month"], row.spent_month_usd)
            if row.budget_daily_usd is not None:
                budget.add_metric([name, "day"], row.budget_daily_usd)
            if row.budget_monthly_usd is not None:
                budget.add_metric([name, "month"], row.budget_monthly_usd)
            if row.budget_remaining_usd is not None:
                remaining.add_metric([name], row.budget_remaining_usd)
        yield from (calls, ok, failures, breaker, health, up, until, latency, tokens, cost)
        yield from (spend, budget, remaining)
        t = r.totals
        emails = CounterMetricFamily(f"{p}_emails", "Emails extracted or attempted (ledger)")
        emails.add_metric([], t.emails)
        yield emails
        email_cost = CounterMetricFamily(f"{p}_emails_cost_usd", "Known cost of emails in USD")
        email_cost.add_metric([], t.cost_usd)
        yield email_cost
        strategy = GaugeMetricFamily(
            f"{p}_strategy_info",
            "The active strategy and primary provider",
            labels=["strategy", "primary"],
        )
        strategy.add_metric([r.strategy, r.primary], 1.0)
        yield strategy


def render_metrics(report: StatusReport) -> str:
    """The Prometheus text exposition of ``report``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StatusCollector(report))  # type: ignore[arg-type]
    return generate_latest(registry).decode("utf-8")
