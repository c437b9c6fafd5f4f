"""Cost maths against hand-computed figures for the documented prices (USD per 1 M tokens)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from collabiq_llm.settings import Price, Settings
from collabiq_llm.state import costs
from collabiq_llm.state.api import LedgerEntry, LedgerProviderCost

T0 = dt.datetime(2025, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def prices() -> dict[str, Price]:
    return Settings().prices  # the shipped config/collabiq.toml


@pytest.mark.parametrize(
    ("model", "in_tok", "out_tok", "expected"),
    [
        # 527,000 × $3/1M + 108,000 × $15/1M = 1.581 + 1.620
        ("claude-sonnet-4-5", 527_000, 108_000, 3.201),
        ("claude-sonnet-4-5-20250929", 527_000, 108_000, 3.201),
        # 12,345 × $0.25/1M + 678 × $2/1M = 0.00308625 + 0.001356
        ("gpt-5-mini", 12_345, 678, 0.00444225),
        # 1,000 × $0.30/1M + 500 × $2.50/1M = 0.0003 + 0.00125
        ("gemini-2.5-flash", 1_000, 500, 0.00155),
        # one full million of each: the price itself, never 1000× it
        ("gpt-5-mini", 1_000_000, 1_000_000, 2.25),
        ("claude-haiku-4-5", 2_000, 1_000, 0.007),
        ("offline-rules-1", 5_000, 5_000, 0.0),
    ],
)
def test_call_cost_matches_hand_computed_figures(
    prices: dict[str, Price], model: str, in_tok: int, out_tok: int, expected: float
) -> None:
    price = costs.price_for(model, prices)
    assert price is not None
    assert costs.call_cost(price, in_tok, out_tok) == pytest.approx(expected, abs=1e-12)


def test_one_token_costs_price_over_a_million() -> None:
    price = Price(input=3.0, output=15.0)
    assert costs.call_cost(price, 1, 0) == pytest.approx(0.000003)
    assert costs.call_cost(price, 0, 1) == pytest.approx(0.000015)


def test_unknown_model_has_unknown_cost_not_zero(prices: dict[str, Price]) -> None:
    assert costs.price_for("mystery-model-9", prices) is None
    assert costs.call_cost(None, 1000, 1000) is None


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5-20990101", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
        ("gpt-5-mini-2025-08-07", "gpt-5-mini"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("Gemini-2.5-Flash", "gemini-2.5-flash"),
        ("claude-haiku-4-5-latest", "claude-haiku-4-5"),
    ],
)
def test_price_for_exact_and_dated_fallback(
    prices: dict[str, Price], model: str, expected: str
) -> None:
    assert costs.price_for(model, prices) == prices[expected]


def test_price_for_never_borrows_a_family_price() -> None:
    table = {"gpt-5": Price(input=1.25, output=10.0)}
    assert costs.price_for("gpt-5-mini", table) is None
    assert costs.price_for("gpt-5-2025-08-07", table) == table["gpt-5"]
    assert (
        costs.price_for("claude-sonnet-4-5-extra", {"claude-sonnet-4-5": Price(input=3, output=15)})
        is None
    )


def test_add_usage_sums_tokens_cost_and_spend_buckets() -> None:
    usage = costs.Usage()
    usage = costs.add_usage(
        usage, at=T0, input_tokens=527_000, output_tokens=108_000, cost_usd=3.201
    )
    usage = costs.add_usage(usage, at=T0, input_tokens=100, output_tokens=10, cost_usd=0.0006)
    assert (usage.input_tokens, usage.output_tokens) == (527_100, 108_010)
    assert usage.cost_usd == pytest.approx(3.2016)
    assert usage.daily == {"2025-11-02": pytest.approx(3.2016)}
    assert usage.monthly == {"2025-11": pytest.approx(3.2016)}
    assert usage.unpriced_calls == 0


def test_unpriced_call_with_tokens_is_counted_not_zeroed() -> None:
    usage = costs.add_usage(costs.Usage(), at=T0, input_tokens=10, output_tokens=5, cost_usd=None)
    assert usage.unpriced_calls == 1 and usage.cost_usd == 0.0 and usage.daily == {}
    # a failed call with no tokens and no price says nothing about cost
    usage = costs.add_usage(usage, at=T0, input_tokens=0, output_tokens=0, cost_usd=None)
    assert usage.unpriced_calls == 1


def test_spend_buckets_keep_only_recent_days() -> None:
    usage = costs.Usage()
    for day in range(40):
        usage = costs.add_usage(
            usage, at=T0 + dt.timedelta(days=day), input_tokens=1, output_tokens=1, cost_usd=1.0
        )
    assert len(usage.daily) == costs.KEEP_DAYS
    assert min(usage.daily) == "2025-11-11"
    assert usage.monthly == {"2025-11": 29.0, "2025-12": 11.0}
    assert usage.cost_usd == 40.0


def test_spend_uses_utc_calendar() -> None:
    seoul = dt.timezone(dt.timedelta(hours=9))
    late = dt.datetime(2025, 11, 3, 1, 0, tzinfo=seoul)  # still 2 Nov in UTC
    assert costs.day_key(late) == "2025-11-02"


def test_budget_refusal_daily_and_monthly() -> None:
    usage = costs.add_usage(costs.Usage(), at=T0, input_tokens=1, output_tokens=1, cost_usd=5.0)
    assert costs.budget_refusal(usage, T0, None, None) is None
    assert costs.budget_refusal(usage, T0, 10.0, 100.0) is None
    reason, retry_at = costs.budget_refusal(usage, T0, 5.0, None) or ("", None)
    assert reason == "over daily budget: $5.00 spent of $5.00 today (UTC)"
    assert retry_at == dt.datetime(2025, 11, 3, tzinfo=dt.UTC)
    reason, retry_at = costs.budget_refusal(usage, T0, None, 4.0) or ("", None)
    assert reason.startswith("over monthly budget")
    assert retry_at == dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    # next day the daily budget is fresh again
    assert costs.budget_refusal(usage, T0 + dt.timedelta(days=1), 5.0, None) is None


def test_budget_month_rolls_over_the_year() -> None:
    dec = dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC)
    usage = costs.add_usage(costs.Usage(), at=dec, input_tokens=1, output_tokens=1, cost_usd=1.0)
    _, retry_at = costs.budget_refusal(usage, dec, None, 1.0) or ("", None)
    assert retry_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def entry(email: str, strategy: str, *parts: tuple[str, int, int, float | None]) -> LedgerEntry:
    providers = [
        LedgerProviderCost(provider=p, model="m", input_tokens=i, output_tokens=o, cost_usd=c)
        for p, i, o, c in parts
    ]
    known = [c for *_, c in parts]
    total = None if None in known else sum(c for c in known if c is not None)
    return LedgerEntry(
        email_id=email, at=T0, strategy=strategy, providers=providers, total_cost_usd=total
    )


def test_add_email_totals_by_strategy_and_provider() -> None:
    doc = costs.EmailCosts()
    doc = costs.add_email(doc, entry("e1", "failover", ("claude", 527_000, 108_000, 3.201)))
    doc = costs.add_email(
        doc,
        entry("e2", "consensus", ("claude", 1000, 100, 0.0045), ("openai", 1000, 100, 0.00045)),
    )
    doc = costs.add_email(doc, entry("e3", "consensus", ("mystery", 10, 10, None)))
    assert doc.emails == 3
    assert doc.total_cost_usd == pytest.approx(3.20595)
    assert doc.unpriced_emails == 1
    assert doc.by_strategy["failover"].cost_usd == pytest.approx(3.201)
    consensus = doc.by_strategy["consensus"]
    assert (consensus.emails, consensus.calls, consensus.unpriced) == (2, 3, 1)
    assert consensus.cost_usd == pytest.approx(0.00495)
    claude = doc.by_provider["claude"]
    assert (claude.emails, claude.input_tokens, claude.output_tokens) == (2, 528_000, 108_100)
    assert claude.cost_usd == pytest.approx(3.2055)
    assert doc.by_provider["mystery"].unpriced == 1


def test_ledger_line_round_trip_and_schema() -> None:
    e = entry("e1", "failover", ("claude", 1, 2, 0.1))
    line = costs.ledger_line(e)
    assert line.startswith('{"schema":1,')
    assert costs.parse_ledger_line(line) == e
    with pytest.raises(ValueError):
        costs.parse_ledger_line(line.replace('"schema":1', '"schema":2'))
    with pytest.raises(ValueError):
        costs.parse_ledger_line(line[:20])


def test_ledger_rotation_plan() -> None:
    live = Path("/s/ledger.jsonl")
    plan = costs.ledger_rotation(live, keep=3)
    assert plan == [
        (Path("/s/ledger.3.jsonl"), None),
        (Path("/s/ledger.2.jsonl"), Path("/s/ledger.3.jsonl")),
        (Path("/s/ledger.1.jsonl"), Path("/s/ledger.2.jsonl")),
        (live, Path("/s/ledger.1.jsonl")),
    ]
    assert costs.ledger_files(live, 2) == [
        Path("/s/ledger.2.jsonl"),
        Path("/s/ledger.1.jsonl"),
        live,
    ]
