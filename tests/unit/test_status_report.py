"""Status report maths: cost per email by provider (emails it served) and by strategy."""

from __future__ import annotations

import datetime as dt

import pytest

from collabiq_llm.settings import Settings
from collabiq_llm.state.api import LedgerEntry, LedgerProviderCost
from collabiq_llm.state.json_store import JsonStateStore
from collabiq_llm.status import build_status

AT = dt.datetime(2025, 11, 2, 9, 0, tzinfo=dt.UTC)


def entry(strategy: str, *costs: tuple[str, float | None]) -> LedgerEntry:
    providers = [LedgerProviderCost(provider=p, model="m", cost_usd=c) for p, c in costs]
    known = [c for _, c in costs]
    total = None if None in known else sum(c for c in known if c is not None)
    return LedgerEntry(
        email_id=f"em_{strategy}_{len(costs)}_{known}",
        at=AT,
        strategy=strategy,
        providers=providers,
        total_cost_usd=total,
    )


def test_cost_per_email_by_provider_and_by_strategy() -> None:
    s = Settings()
    store = JsonStateStore(s.state_dir, s.breaker, cost=s.cost)
    store.record_email(entry("failover", ("gemini", 0.002)))
    store.record_email(entry("failover", ("gemini", 0.004), ("claude", 0.010)))
    store.record_email(entry("consensus", ("gemini", 0.003), ("claude", 0.012), ("openai", 0.001)))
    report = build_status(s, store)
    gemini, claude, openai = (report.providers[n] for n in ("gemini", "claude", "openai"))
    assert (gemini.emails, gemini.cost_per_email_usd) == (3, pytest.approx(0.003))
    assert (claude.emails, claude.cost_per_email_usd) == (2, pytest.approx(0.011))
    assert (openai.emails, openai.cost_per_email_usd) == (1, pytest.approx(0.001))
    assert report.providers["offline"].emails == 0
    assert report.providers["offline"].cost_per_email_usd is None
    t = report.totals
    assert t.emails == 3 and t.cost_usd == pytest.approx(0.032)
    assert t.cost_per_email_usd == pytest.approx(0.032 / 3)
    assert t.by_strategy["failover"].emails == 2
    assert t.by_strategy["failover"].cost_per_email_usd == pytest.approx(0.008)
    assert t.by_strategy["consensus"].cost_per_email_usd == pytest.approx(0.016)


def test_unknown_price_makes_cost_per_email_unknown_not_zero() -> None:
    s = Settings()
    store = JsonStateStore(s.state_dir, s.breaker, cost=s.cost)
    store.record_email(entry("failover", ("claude", None)))
    report = build_status(s, store)
    assert report.totals.by_strategy["failover"].cost_per_email_usd is None


def test_totals_say_how_many_emails_had_an_unknown_price() -> None:
    s = Settings()
    store = JsonStateStore(s.state_dir, s.breaker, cost=s.cost)
    store.record_email(entry("failover", ("gemini", 0.002)))
    store.record_email(entry("failover", ("local-llama", None)))
    t = build_status(s, store).totals
    assert t.emails == 2 and t.unpriced_emails == 1
    assert t.cost_usd == pytest.approx(0.002)  # the known part
    assert t.cost_per_email_usd is None  # not $0.001: one email's cost is unknown
