"""The JSON-file backend of :class:`~collabiq_llm.state.api.StateStore`.

On-disk layout (``state_dir``, default ``$COLLABIQ_HOME/llm_health``, mode 0700;
files 0600, each with ``"schema": 1``):

* ``health.json`` — per provider: breaker, health metrics and usage (tokens,
  cost, daily/monthly spend). One call = one transaction on this one file, so a
  crash can never apply half an event (health counted, cost lost).
* ``costs.json`` — per-email totals (emails, cost; by strategy and by provider).
* ``ledger.jsonl`` — append-only, one line per email; rotated to
  ``ledger.1.jsonl`` … ``ledger.<keep>.jsonl`` past ``cost.ledger_max_bytes``.
  Written under ``costs.json``'s lock, before the totals: a crash in between
  leaves an entry whose totals are missing, never totals without an entry.
* ``orchestration.json`` — what ``set-strategy`` persisted.
* ``*.lock`` — sidecar lock files (content irrelevant, never deleted).

``acquire`` reads without a lock and decides at once when the breaker is CLOSED
or still OPEN; only when a probe slot may be claimed (HALF_OPEN, or OPEN past its
cooldown) does it run a locked transaction. No lock is held across a provider call.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from collabiq_llm.entities import utc_now
from collabiq_llm.settings import BreakerSettings, CostSettings, normalise_strategy
from collabiq_llm.state import breaker, costs, health
from collabiq_llm.state.api import (
    CallEvent,
    LedgerEntry,
    OrchestrationConfig,
    Permit,
    ProviderSnapshot,
    StateSnapshot,
    as_utc,
)
from collabiq_llm.state.breaker import BreakerState
from collabiq_llm.state.costs import EmailCosts, Usage
from collabiq_llm.state.health import HealthStats
from collabiq_llm.state.jsonfile import CorruptFile, JsonFile, append_line, notify

SCHEMA = 1
LEDGER_KEEP = 3


class ProviderRecord(BaseModel):
    """Everything stored about one provider (one place, so one event is one write)."""

    breaker: BreakerState = Field(default_factory=BreakerState)
    health: HealthStats = Field(default_factory=HealthStats)
    usage: Usage = Field(default_factory=Usage)


class HealthDoc(BaseModel):
    providers: dict[str, ProviderRecord] = Field(default_factory=dict)


def provider_snapshot(
    rec: ProviderRecord, breaker_cfg: BreakerSettings, now: dt.datetime
) -> ProviderSnapshot:
    """What status shows for one stored provider record (shared by both backends)."""
    state, reason, next_try = breaker.view(rec.breaker, breaker_cfg, now)
    stats = rec.health
    mean, p50, p95 = health.latency_summary(stats)
    usage = rec.usage
    today, month = costs.spent(usage, now)
    return ProviderSnapshot(
        breaker=state,
        breaker_reason=reason,
        next_try_at=next_try,
        calls=stats.calls,
        successes=stats.successes,
        failures=stats.failures,
        failures_by_kind=dict(stats.failures_by_kind),
        consecutive_failures=rec.breaker.consecutive_failures,
        success_rate=health.success_rate(stats),
        avg_latency_ms=mean,
        p50_latency_ms=p50,
        p95_latency_ms=p95,
        last_success=stats.last_success,
        last_failure=stats.last_failure,
        last_error=stats.last_error,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=None if usage.unpriced_calls else usage.cost_usd,
        unpriced_calls=usage.unpriced_calls,
        hedges=stats.hedges,
        spent_today_usd=today,
        spent_month_usd=month,
        latency_window_ms=list(stats.latencies_ms),
    )


class JsonStateStore:
    """Breakers, health and costs shared by every process through files in ``state_dir``."""

    backend = "json"

    def __init__(
        self,
        state_dir: Path,
        breaker: BreakerSettings,
        *,
        cost: CostSettings | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        lock_timeout_s: float = 10.0,
        ledger_keep: int = LEDGER_KEEP,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.breaker_cfg = breaker
        self.cost_cfg = cost or CostSettings()
        self.clock = clock
        self.ledger_keep = max(1, ledger_keep)
        self.ledger_path = self.state_dir / "ledger.jsonl"

        def file(name: str, model: type[BaseModel]) -> JsonFile:  # type: ignore[type-arg]
            return JsonFile(
                self.state_dir / name, model, schema=SCHEMA, lock_timeout_s=lock_timeout_s
            )

        self._health: JsonFile[HealthDoc] = file("health.json", HealthDoc)
        self._costs: JsonFile[EmailCosts] = file("costs.json", EmailCosts)
        self._orch: JsonFile[OrchestrationConfig] = file("orchestration.json", OrchestrationConfig)

    def _now(self) -> dt.datetime:
        return as_utc(self.clock())

    # -- before a call ---------------------------------------------------------------------

    def _decide(
        self,
        rec: ProviderRecord,
        now: dt.datetime,
        token: str,
        daily: float | None,
        monthly: float | None,
    ) -> tuple[BreakerState, Permit]:
        over = costs.budget_refusal(rec.usage, now, daily, monthly)
        if over is not None:
            state = breaker.current(rec.breaker, now).state
            return rec.breaker, Permit(allowed=False, state=state, reason=over[0], retry_at=over[1])
        return breaker.acquire(rec.breaker, self.breaker_cfg, now, token)

    def acquire(
        self,
        provider: str,
        *,
        budget_daily_usd: float | None = None,
        budget_monthly_usd: float | None = None,
    ) -> Permit:
        """May ``provider`` be called now? Claims a half-open probe slot when it is one."""
        now = self._now()
        token = f"{os.getpid()}-{secrets.token_hex(6)}"
        rec = self._health.read().providers.get(provider, ProviderRecord())
        _, permit = self._decide(rec, now, token, budget_daily_usd, budget_monthly_usd)
        if permit.state != "half_open" or not permit.allowed:
            return permit  # closed, still open, over budget or no free slot: nothing to write

        def txn(doc: HealthDoc) -> Permit:
            record = doc.providers.setdefault(provider, ProviderRecord())
            record.breaker, answer = self._decide(
                record, now, token, budget_daily_usd, budget_monthly_usd
            )
            return answer

        return self._health.update(txn)

    # -- after a call ----------------------------------------------------------------------

    def record_call(self, event: CallEvent) -> None:
        """Breaker, health and usage of one call, in one transaction."""
        now = self._now()

        def txn(doc: HealthDoc) -> None:
            rec = doc.providers.setdefault(event.provider, ProviderRecord())
            rec.breaker = breaker.record(
                rec.breaker,
                self.breaker_cfg,
                now,
                ok=event.ok,
                kind=event.error_kind,
                retry_after_s=event.retry_after_s,
                counts=event.counts_against_provider,
                probe_token=event.probe_token,
            )
            rec.health = health.record(rec.health, event)
            rec.usage = costs.add_usage(
                rec.usage,
                at=event.at,
                input_tokens=event.input_tokens,
                output_tokens=event.output_tokens,
                cost_usd=event.cost_usd,
            )

        self._health.update(txn)

    def record_email(self, entry: LedgerEntry) -> None:
        """Append the email to the ledger and add it to the totals, under one lock."""

        def txn(doc: EmailCosts) -> EmailCosts:
            self._append_ledger(costs.ledger_line(entry))
            new = costs.add_email(doc, entry)
            for field in type(new).model_fields:
                setattr(doc, field, getattr(new, field))
            return doc

        self._costs.update(txn)

    def _append_ledger(self, line: str) -> None:
        """Caller holds the costs lock. Rotate first when the live file is past its size."""
        with contextlib.suppress(FileNotFoundError):
            if self.ledger_path.stat().st_size >= self.cost_cfg.ledger_max_bytes:
                for src, dst in costs.ledger_rotation(self.ledger_path, self.ledger_keep):
                    with contextlib.suppress(FileNotFoundError):
                        if dst is None:
                            src.unlink()
                        else:
                            os.replace(src, dst)
        append_line(self.ledger_path, line)

    def read_ledger(self, limit: int | None = None) -> list[LedgerEntry]:
        """Ledger entries, oldest first (the last ``limit``); bad lines skipped with a warning."""
        entries: list[LedgerEntry] = []
        for path in costs.ledger_files(self.ledger_path, self.ledger_keep):
            try:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            bad = 0
            for line in lines:
                if not line.strip():
                    continue
                try:
                    entries.append(costs.parse_ledger_line(line))
                except ValueError:
                    bad += 1
            if bad:
                notify(
                    CorruptFile(
                        path, f"{bad} unreadable line(s)", action="skipped them; file left in place"
                    )
                )
        return entries[-limit:] if limit else entries

    # -- reading and admin -----------------------------------------------------------------

    def snapshot(self) -> StateSnapshot:
        """Everything status shows, read without locks (each file is read atomically)."""
        now = self._now()
        doc = self._health.read()
        totals = self._costs.read()
        return StateSnapshot(
            backend=self.backend,
            location=str(self.state_dir),
            providers={
                name: provider_snapshot(rec, self.breaker_cfg, now)
                for name, rec in doc.providers.items()
            },
            emails=totals.emails,
            total_cost_usd=totals.total_cost_usd,
            unpriced_emails=totals.unpriced_emails,
            cost_by_strategy=dict(totals.by_strategy),
            email_cost_by_provider=dict(totals.by_provider),
            orchestration=self._orch.read(),
        )

    def get_orchestration(self) -> OrchestrationConfig:
        return self._orch.read()

    def set_orchestration(self, config: OrchestrationConfig) -> OrchestrationConfig:
        """Persist the fields the caller set (explicit ``None`` clears one); returns the result.

        Raises ``ValueError`` for an unknown strategy, so no process ever reads a bad one.
        """
        changes = {name: getattr(config, name) for name in config.model_fields_set}
        if changes.get("strategy") is not None:
            changes["strategy"] = normalise_strategy(changes["strategy"])
        changes.setdefault("updated_at", self._now())
        if changes["updated_at"] is None:
            changes["updated_at"] = self._now()

        def txn(doc: OrchestrationConfig) -> OrchestrationConfig:
            for name, value in changes.items():
                setattr(doc, name, value)
            return doc.model_copy()

        return self._orch.update(txn)

    def reset(self, provider: str) -> None:
        """Close the breaker by hand and clear consecutive failures; history stays."""

        def txn(doc: HealthDoc) -> None:
            rec = doc.providers.get(provider)
            if rec is not None:
                rec.breaker = breaker.reset(rec.breaker)

        self._health.update(txn)
