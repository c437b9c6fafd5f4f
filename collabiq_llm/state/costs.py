"""Cost maths, spend buckets for budgets and the per-email ledger format — pure functions.

Prices are USD per **1 M** tokens (config ``[prices."<model>"]``), so
``cost = input_tokens × price.input / 1e6 + output_tokens × price.output / 1e6``.
A model with no price has an *unknown* cost (``None``), never 0.

:func:`price_for` looks a model up exactly, then case-insensitively after
dropping a ``models/`` prefix (Gemini) and one trailing date or ``-latest`` tag
(``claude-sonnet-4-5-20250929`` → ``claude-sonnet-4-5``, ``gpt-5-mini-2025-08-07``
→ ``gpt-5-mini``). It never falls back to a shorter family name in general:
``gpt-5-mini`` must not be priced as ``gpt-5``.

Spend buckets are per UTC day (``YYYY-MM-DD``) and UTC month (``YYYY-MM``); only
the recent ones are kept. Spending is known spending: calls with an unknown
price add nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, Field

from collabiq_llm.settings import Price
from collabiq_llm.state.api import CostTotals, LedgerEntry
from collabiq_llm.state.spend import (
    day_key,
    money,
    month_key,
    next_day,
    next_month,
    spent,
)

PER_TOKENS = 1_000_000
KEEP_DAYS = 31
KEEP_MONTHS = 13
LEDGER_SCHEMA = 1
_DATED = re.compile(r"(?:[-@_]\d{8}|-\d{4}-\d{2}-\d{2}|-latest)$")


def _money(value: float) -> float:
    """Round away float noise (1e-10 USD) so sums of many calls stay readable."""
    return round(value, 10)


def price_for(model: str, prices: Mapping[str, Price]) -> Price | None:
    """The configured price of ``model`` (fallback: see module docstring); None if unknown."""
    if model in prices:
        return prices[model]
    lowered = {key.lower(): price for key, price in prices.items()}
    name = model.strip().lower().removeprefix("models/")
    if name in lowered:
        return lowered[name]
    base = _DATED.sub("", name)
    return lowered.get(base) if base != name else None


def call_cost(price: Price | None, input_tokens: int, output_tokens: int) -> float | None:
    """USD for one call; None when the price is unknown."""
    if price is None:
        return None
    return _money((input_tokens * price.input + output_tokens * price.output) / PER_TOKENS)


# -- per-provider usage and budgets ---------------------------------------------------------


class Usage(BaseModel):
    """Tokens and money per provider, with spend buckets for budgets."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0  # known part
    unpriced_calls: int = 0  # calls that used tokens but had no price
    daily: dict[str, float] = Field(default_factory=dict)  # "YYYY-MM-DD" (UTC) -> USD
    monthly: dict[str, float] = Field(default_factory=dict)  # "YYYY-MM" (UTC) -> USD


def _bump(buckets: dict[str, float], key: str, amount: float, keep: int) -> dict[str, float]:
    out = {**buckets, key: _money(buckets.get(key, 0.0) + amount)}
    return dict(sorted(out.items())[-keep:])


def add_usage(
    usage: Usage,
    *,
    at: dt.datetime,
    input_tokens: int,
    output_tokens: int,
    cost_usd: float | None,
) -> Usage:
    """Usage after one call. A call with tokens but no price is counted as unpriced."""
    update: dict[str, object] = {
        "input_tokens": usage.input_tokens + max(0, input_tokens),
        "output_tokens": usage.output_tokens + max(0, output_tokens),
    }
    if cost_usd is None:
        if input_tokens or output_tokens:
            update["unpriced_calls"] = usage.unpriced_calls + 1
    elif cost_usd:
        update["cost_usd"] = _money(usage.cost_usd + cost_usd)
        update["daily"] = _bump(usage.daily, day_key(at), cost_usd, KEEP_DAYS)
        update["monthly"] = _bump(usage.monthly, month_key(at), cost_usd, KEEP_MONTHS)
    return usage.model_copy(update=update)


def budget_refusal(
    usage: Usage, now: dt.datetime, daily_usd: float | None, monthly_usd: float | None
) -> tuple[str, dt.datetime] | None:
    """(reason, retry_at) when spending has reached a budget, else None."""
    today, month = spent(usage, now)
    if monthly_usd is not None and month >= monthly_usd:
        reason = (
            f"over monthly budget: {money(month)} spent of {money(monthly_usd)} this month (UTC)"
        )
        return reason, next_month(now)
    if daily_usd is not None and today >= daily_usd:
        reason = f"over daily budget: {money(today)} spent of {money(daily_usd)} today (UTC)"
        return reason, next_day(now)
    return None


# -- per-email ledger -----------------------------------------------------------------------


class EmailCosts(BaseModel):
    """Totals over every ledger entry ever written (survives ledger rotation)."""

    emails: int = 0
    total_cost_usd: float = 0.0  # known part
    unpriced_emails: int = 0
    by_strategy: dict[str, CostTotals] = Field(default_factory=dict)
    by_provider: dict[str, CostTotals] = Field(default_factory=dict)


def entry_cost(entry: LedgerEntry) -> tuple[float, bool]:
    """(known USD, fully priced?) of one email."""
    known = sum(p.cost_usd for p in entry.providers if p.cost_usd is not None)
    priced = entry.total_cost_usd is not None and all(
        p.cost_usd is not None for p in entry.providers
    )
    if priced and entry.total_cost_usd is not None:
        return entry.total_cost_usd, True
    return _money(known), False


def _add(totals: CostTotals | None, **delta: float) -> CostTotals:
    base = (totals or CostTotals()).model_dump()
    for key, value in delta.items():
        base[key] = _money(base[key] + value) if key == "cost_usd" else base[key] + value
    return CostTotals.model_validate(base)


def add_email(costs: EmailCosts, entry: LedgerEntry) -> EmailCosts:
    """Totals after one more email."""
    cost, priced = entry_cost(entry)
    in_tok = sum(p.input_tokens for p in entry.providers)
    out_tok = sum(p.output_tokens for p in entry.providers)
    by_strategy = dict(costs.by_strategy)
    by_strategy[entry.strategy] = _add(
        by_strategy.get(entry.strategy),
        emails=1,
        calls=len(entry.providers),
        input_tokens=in_tok,
        output_tokens=out_tok,
        cost_usd=cost,
        unpriced=0 if priced else 1,
    )
    by_provider = dict(costs.by_provider)
    for name in dict.fromkeys(p.provider for p in entry.providers):
        parts = [p for p in entry.providers if p.provider == name]
        by_provider[name] = _add(
            by_provider.get(name),
            emails=1,
            calls=len(parts),
            input_tokens=sum(p.input_tokens for p in parts),
            output_tokens=sum(p.output_tokens for p in parts),
            cost_usd=sum(p.cost_usd for p in parts if p.cost_usd is not None),
            unpriced=sum(1 for p in parts if p.cost_usd is None),
        )
    return EmailCosts(
        emails=costs.emails + 1,
        total_cost_usd=_money(costs.total_cost_usd + cost),
        unpriced_emails=costs.unpriced_emails + (0 if priced else 1),
        by_strategy=by_strategy,
        by_provider=by_provider,
    )


def ledger_line(entry: LedgerEntry) -> str:
    """One JSONL line; each line carries its own schema version."""
    return json.dumps(
        {"schema": LEDGER_SCHEMA, **entry.model_dump(mode="json")},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def parse_ledger_line(line: str) -> LedgerEntry:
    """Raises ``ValueError`` (incl. pydantic's) for a line that is not a valid entry."""
    data = json.loads(line)
    if not isinstance(data, dict) or data.pop("schema", None) != LEDGER_SCHEMA:
        raise ValueError("not a ledger entry of schema 1")
    return LedgerEntry.model_validate(data)


def rotated_path(path: Path, n: int) -> Path:
    """``ledger.jsonl`` → ``ledger.<n>.jsonl`` (1 = most recent rotated file)."""
    return path.with_name(f"{path.stem}.{n}{path.suffix}")


def ledger_rotation(path: Path, keep: int) -> list[tuple[Path, Path | None]]:
    """Renames that rotate ``path``, in order; ``(p, None)`` means delete ``p``.

    The oldest file (``ledger.<keep>``) is dropped, the others shift up by one and
    the live file becomes ``ledger.1``, so at most ``keep + 1`` files exist.
    """
    plan: list[tuple[Path, Path | None]] = [(rotated_path(path, keep), None)]
    plan += [(rotated_path(path, n), rotated_path(path, n + 1)) for n in range(keep - 1, 0, -1)]
    plan.append((path, rotated_path(path, 1)))
    return plan


def ledger_files(path: Path, keep: int) -> list[Path]:
    """All ledger files, oldest first."""
    return [rotated_path(path, n) for n in range(keep, 0, -1)] + [path]


# -- reading the ledger ---------------------------------------------------------------------


class CostRow(BaseModel):
    """One line of ``collabiq llm costs``: emails, calls, tokens and money under one key."""

    key: str
    emails: int = 0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0  # known part
    unpriced: int = 0  # emails (or provider calls) whose price was unknown


LEDGER_GROUPINGS = ("day", "provider", "strategy")


def summarise_ledger(
    entries: list[LedgerEntry], by: str, since: dt.date | None = None
) -> tuple[list[CostRow], CostRow]:
    """(rows, total) of ledger entries on or after ``since`` (UTC), grouped ``by``.

    Rows are sorted by key (days ascending). By provider, an email that called two
    providers counts once for each, so row emails can add up to more than the total.
    """
    if by not in LEDGER_GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}; choose one of: {', '.join(LEDGER_GROUPINGS)}")
    rows: dict[str, CostRow] = {}
    total = CostRow(key="total")

    def bump(row: CostRow, *, emails: int, parts: list, cost: float, unpriced: int) -> None:
        row.emails += emails
        row.calls += len(parts)
        row.input_tokens += sum(p.input_tokens for p in parts)
        row.output_tokens += sum(p.output_tokens for p in parts)
        row.cost_usd = _money(row.cost_usd + cost)
        row.unpriced += unpriced

    for entry in entries:
        if since is not None and entry.at.astimezone(dt.UTC).date() < since:
            continue
        cost, priced = entry_cost(entry)
        unpriced = 0 if priced else 1
        bump(total, emails=1, parts=entry.providers, cost=cost, unpriced=unpriced)
        if by == "provider":
            for name in dict.fromkeys(p.provider for p in entry.providers):
                parts = [p for p in entry.providers if p.provider == name]
                row = rows.setdefault(name, CostRow(key=name))
                known = sum(p.cost_usd for p in parts if p.cost_usd is not None)
                missing = sum(1 for p in parts if p.cost_usd is None)
                bump(row, emails=1, parts=parts, cost=known, unpriced=missing)
            continue
        key = day_key(entry.at) if by == "day" else entry.strategy
        row = rows.setdefault(key, CostRow(key=key))
        bump(row, emails=1, parts=entry.providers, cost=cost, unpriced=unpriced)
    return [rows[k] for k in sorted(rows)], total
