"""Spend calendar and money text: plain functions over plain data.

No pydantic and no settings here, so ``llm status --json`` can load them without the
models (see :mod:`collabiq_llm.status_fast`); :mod:`collabiq_llm.state.costs` re-exports them.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any


def day_key(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d")


def month_key(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m")


def spent(usage: Any, now: dt.datetime) -> tuple[float, float]:
    """(today, this month) in USD, UTC calendar, from a usage record's spend buckets."""
    return usage.daily.get(day_key(now), 0.0), usage.monthly.get(month_key(now), 0.0)


def next_day(now: dt.datetime) -> dt.datetime:
    """00:00 UTC after ``now``: when a daily budget resets."""
    day = now.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def next_month(now: dt.datetime) -> dt.datetime:
    """The first of next month, 00:00 UTC: when a monthly budget resets."""
    utc = now.astimezone(dt.UTC)
    year, month = (utc.year + 1, 1) if utc.month == 12 else (utc.year, utc.month + 1)
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def money(value: float | None) -> str:
    """USD with three significant digits and at least cents: $0.001, $0.0283, $5.00, $1,234.57.

    A $0.001 budget must never be printed as "$0.00"."""
    if value is None:
        return "unknown"
    if value == 0:
        return "$0.00"
    decimals = max(2, min(8, 2 - math.floor(math.log10(abs(value)))))
    text = f"{value:,.{decimals}f}"
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(2, "0")
    return f"{'-' if value < 0 else ''}${whole.lstrip('-')}.{frac}"
