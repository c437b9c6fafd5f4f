"""The wall clock, in its own tiny module so read-only commands need not import the models."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    """Now, timezone-aware UTC (the default clock; tests inject their own)."""
    return dt.datetime.now(dt.UTC)
