"""The documents of the JSON state store and how one provider's record is shown.

Shared by both backends: Redis stores the same ``ProviderRecord`` per provider and
renders it with :func:`provider_snapshot`.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from collabiq_llm.settings import BreakerSettings
from collabiq_llm.state import costs
from collabiq_llm.state.api import LedgerEntry, ProviderSnapshot
from collabiq_llm.state.breaker import BreakerState
from collabiq_llm.state.costs import EmailCosts, Usage
from collabiq_llm.state.health import HealthStats
from collabiq_llm.state.views import provider_fields


class ProviderRecord(BaseModel):
    """Everything stored about one provider (one place, so one event is one write)."""

    breaker: BreakerState = Field(default_factory=BreakerState)
    health: HealthStats = Field(default_factory=HealthStats)
    usage: Usage = Field(default_factory=Usage)


class HealthDoc(BaseModel):
    providers: dict[str, ProviderRecord] = Field(default_factory=dict)
    applied: list[str] = Field(default_factory=list)  # spooled batch ids already applied


class CostsDoc(EmailCosts):
    applied: list[str] = Field(default_factory=list)  # spooled batch ids already applied


def provider_snapshot(
    rec: ProviderRecord, breaker_cfg: BreakerSettings, now: dt.datetime
) -> ProviderSnapshot:
    """What status shows for one stored provider record (shared by both backends)."""
    return ProviderSnapshot(**provider_fields(rec, breaker_cfg, now))


def add_email_in_place(doc: EmailCosts, entry: LedgerEntry) -> None:
    """Add one email to the totals in place (``costs.add_email`` returns a new model)."""
    new = costs.add_email(doc, entry)
    for field in type(new).model_fields:
        setattr(doc, field, getattr(new, field))
