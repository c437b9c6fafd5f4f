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
* ``reliability.json`` — consensus agreement patterns, a rolling window
  (``state/agreements.py``), from which provider reliability is learned.
* ``*.lock`` — sidecar lock files (content irrelevant, never deleted).

* ``pending/*.json`` — events a process could not write before it exited (see
  ``state/pending.py``); applied exactly once by the next process that commits.

``acquire`` reads without a lock and decides at once when the breaker is CLOSED
or still OPEN; only when a probe slot may be claimed (HALF_OPEN, or OPEN past its
cooldown) does it run a locked transaction. No lock is held across a provider call.
Parsed files are kept while their signature (inode, mtime, size) is unchanged, so
a read that finds nothing new costs one ``stat``.

Group commit (``commit_interval_s`` > 0, as ``make_store`` configures it): events
are queued in memory and written together — one locked, fsync'd rewrite of each
file per interval or per ``commit_max_events`` events, and at exit
(:meth:`JsonStateStore.close`, also run by ``atexit``). What the breaker needs at
once is written through: any event that changes a provider's breaker (a counted
failure, a probe's result, a success after failures) commits the queue
immediately, so other processes see failures and openings without delay; counters
(successes, latency, tokens, cost, the ledger) reach other processes within the
interval. This process's own reads (``snapshot``, ``acquire``) always include its
queued events. A crash loses at most the events of the last interval; files are
never torn (each write is atomic). An event that cannot be written in time (lock
busy, disk full) stays queued and is retried — never dropped; at exit it is
spooled to ``pending/``. ``commit_interval_s=0`` (the default here) commits every
event as it comes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from collabiq_llm.clock import utc_now
from collabiq_llm.settings import BreakerSettings, CostSettings, normalise_strategy
from collabiq_llm.state import agreements, breaker, costs, health
from collabiq_llm.state.api import (
    AgreementRecord,
    CallEvent,
    LedgerEntry,
    OrchestrationConfig,
    Permit,
    StateSnapshot,
    as_utc,
)
from collabiq_llm.state.breaker import BreakerState
from collabiq_llm.state.group_commit import COMMIT_INTERVAL_S, COMMIT_MAX_EVENTS, GroupCommit
from collabiq_llm.state.json_docs import (
    CostsDoc,
    HealthDoc,
    ProviderRecord,
    add_email_in_place,
    provider_snapshot,
)
from collabiq_llm.state.jsonfile import CorruptFile, JsonFile, append_line, notify
from collabiq_llm.state.pending import Batch, QueuedCall, SpoolDir, remember
from collabiq_llm.state.views import snapshot_fields

SCHEMA = 1
LEDGER_KEEP = 3


class JsonStateStore(GroupCommit):
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
        commit_interval_s: float = 0.0,
        commit_max_events: int = COMMIT_MAX_EVENTS,
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
        self._costs: JsonFile[CostsDoc] = file("costs.json", CostsDoc)
        self._orch: JsonFile[OrchestrationConfig] = file("orchestration.json", OrchestrationConfig)
        self.spool = SpoolDir(self.state_dir)
        # queued events and the views (file as last read + queued events) they are part of
        self._init_group_commit(commit_interval_s, commit_max_events)
        self._health_view: tuple[object, HealthDoc] | None = None
        self._costs_view: tuple[object, CostsDoc] | None = None
        self._orch_view: tuple[object, OrchestrationConfig] | None = None
        self._agree: JsonFile[agreements.AgreementDoc] = file(
            agreements.JSON_FILE, agreements.AgreementDoc
        )

    def _now(self) -> dt.datetime:
        return as_utc(self.clock())

    # -- views: the file as last read, plus this process's queued events -------------------

    def _spooled(self) -> tuple[tuple[object, ...], list[Batch]]:
        """(signature, batches) of the spool folder; one ``stat`` when it does not exist."""
        if not self.spool.path.exists():
            return (), []
        found = self.spool.batches()
        return tuple((str(path), len(batch)) for path, batch in found), [b for _, b in found]

    def _health_doc(self) -> HealthDoc:
        """Caller holds ``_mutex``. The file, plus spooled batches it does not have yet, plus
        this process's queue: what the state will be once everything is written. Re-read
        only when another write replaced the file (or the spool changed)."""
        spool_sig, spooled = self._spooled()
        sig = (self._health.signature(), spool_sig)
        if self._health_view is None or self._health_view[0] != sig:
            doc = self._health.read()
            for batch in [*spooled, *self._unwritten()]:
                if batch.id not in doc.applied:
                    for queued in batch.calls:
                        self._apply_call(doc, queued)
            self._health_view = (sig, doc)
        return self._health_view[1]

    def _costs_doc(self) -> CostsDoc:
        spool_sig, spooled = self._spooled()
        sig = (self._costs.signature(), spool_sig)
        if self._costs_view is None or self._costs_view[0] != sig:
            doc = self._costs.read()
            batches = [*spooled, *self._unwritten()]
            for entry in [e for b in batches if b.id not in doc.applied for e in b.emails]:
                add_email_in_place(doc, entry)
            self._costs_view = (sig, doc)
        return self._costs_view[1]

    def get_orchestration(self) -> OrchestrationConfig:
        with self._mutex:
            sig = self._orch.signature()
            if self._orch_view is None or self._orch_view[0] != sig:
                self._orch_view = (sig, self._orch.read())
            return self._orch_view[1].model_copy()

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

    def acquire_nowait(
        self,
        provider: str,
        *,
        budget_daily_usd: float | None = None,
        budget_monthly_usd: float | None = None,
    ) -> Permit | None:
        """The permit when it needs no locked write (closed, open, over budget, no free
        probe slot) — the usual case, answered from memory; ``None`` when a half-open
        probe slot must be claimed (then call :meth:`acquire`, which takes the lock)."""
        now = self._now()
        with self._mutex:
            rec = self._health_doc().providers.get(provider) or ProviderRecord()
            _, permit = self._decide(rec, now, "-", budget_daily_usd, budget_monthly_usd)
        if permit.state == "half_open" and permit.allowed:
            return None
        return permit

    def acquire(
        self,
        provider: str,
        *,
        budget_daily_usd: float | None = None,
        budget_monthly_usd: float | None = None,
    ) -> Permit:
        """May ``provider`` be called now? Claims a half-open probe slot when it is one."""
        budgets = {"budget_daily_usd": budget_daily_usd, "budget_monthly_usd": budget_monthly_usd}
        permit = self.acquire_nowait(provider, **budgets)
        if permit is not None:
            return permit  # closed, still open, over budget or no free slot: nothing to write
        now = self._now()
        token = f"{os.getpid()}-{secrets.token_hex(6)}"

        def txn(doc: HealthDoc) -> Permit:
            record = doc.providers.setdefault(provider, ProviderRecord())
            record.breaker, answer = self._decide(
                record, now, token, budget_daily_usd, budget_monthly_usd
            )
            return answer

        answer = self._health.update(txn)
        with self._mutex:
            self._health_view = None
        return answer

    # -- after a call ----------------------------------------------------------------------

    def _apply_call(self, doc: HealthDoc, queued: QueuedCall) -> bool:
        """Breaker, health and usage of one call; True when the breaker changed."""
        event = queued.event
        rec = doc.providers.setdefault(event.provider, ProviderRecord())
        before = rec.breaker
        rec.breaker = breaker.record(
            rec.breaker,
            self.breaker_cfg,
            queued.now,
            ok=event.ok,
            kind=event.error_kind,
            retry_after_s=event.retry_after_s,
            counts=event.counts_against_provider and event.trips_breaker,
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
        return rec.breaker != before

    def record_call(self, event: CallEvent) -> None:
        """Queue the call's breaker, health and usage update (one event, applied as a whole).

        Committed at once when it changes the breaker; otherwise with the next group.
        """
        queued = QueuedCall(event=event, now=self._now())
        with self._mutex:
            breaker_changed = self._apply_call(self._health_doc(), queued)
            self._queue.calls.append(queued)
            self._note_queued()
        self._due(urgent=breaker_changed)

    def record_email(self, entry: LedgerEntry) -> None:
        """Queue the email for the ledger and the totals (written together, under one lock)."""
        with self._mutex:
            add_email_in_place(self._costs_doc(), entry)
            self._queue.emails.append(entry)
            self._note_queued()
        self._due(urgent=False)

    def _commit_calls(self, doc: HealthDoc, own: Batch, spooled: list[tuple[Path, Batch]]) -> None:
        for batch in [*(b for _, b in spooled), own]:
            if batch.calls and batch.id not in doc.applied:
                for queued in batch.calls:
                    self._apply_call(doc, queued)
                doc.applied = remember(doc.applied, batch.id)

    def _commit_emails(self, doc: CostsDoc, own: Batch, spooled: list[tuple[Path, Batch]]) -> None:
        batches = [b for b in [*(b for _, b in spooled), own] if b.emails]
        todo = [e for b in batches if b.id not in doc.applied for e in b.emails]
        if todo:
            self._append_ledger([costs.ledger_line(e) for e in todo])
        for entry in todo:
            add_email_in_place(doc, entry)
        for batch in batches:
            if batch.id not in doc.applied:
                doc.applied = remember(doc.applied, batch.id)

    def _append_ledger(self, lines: list[str]) -> None:
        """Caller holds the costs lock. Rotate first when the live file is past its size."""
        with contextlib.suppress(FileNotFoundError):
            if self.ledger_path.stat().st_size >= self.cost_cfg.ledger_max_bytes:
                for src, dst in costs.ledger_rotation(self.ledger_path, self.ledger_keep):
                    with contextlib.suppress(FileNotFoundError):
                        if dst is None:
                            src.unlink()
                        else:
                            os.replace(src, dst)
        append_line(self.ledger_path, "\n".join(lines))

    def read_ledger(self, limit: int | None = None) -> list[LedgerEntry]:
        """Ledger entries, oldest first (the last ``limit``); bad lines skipped with a warning."""
        self.flush()
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
        with self._mutex:  # entries that could not be written yet
            entries += [e for b in self._unwritten() for e in b.emails]
        return entries[-limit:] if limit else entries

    # -- reading and admin -----------------------------------------------------------------

    def snapshot(self) -> StateSnapshot:
        """Everything status shows, read without locks (each file is read atomically),
        including spooled and queued events, so counts always match what was extracted;
        ``pending_events`` says how many of them are not in the shared files yet."""
        now = self._now()
        with self._mutex:
            doc = self._health_doc()
            totals = self._costs_doc()
            providers = {
                name: provider_snapshot(rec, self.breaker_cfg, now)
                for name, rec in doc.providers.items()
            }
            queued = sum(len(b) for b in self._unwritten())
            snap = StateSnapshot(
                **snapshot_fields(
                    self.backend,
                    str(self.state_dir),
                    providers,
                    totals,
                    self.get_orchestration(),
                )
            )
        spooled = self.spool.count_events() if self.spool.path.exists() else 0
        snap.pending_events = queued + spooled
        return snap

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
        self.flush()

        def txn(doc: HealthDoc) -> None:
            rec = doc.providers.get(provider)
            if rec is not None:
                rec.breaker = breaker.reset(rec.breaker)

        self._health.update(txn)
        with self._mutex:
            self._health_view = None

    # -- provider reliability (consensus agreement history) --------------------------------

    def record_agreement(self, record: AgreementRecord, keep: int) -> None:
        self._agree.update(lambda doc: agreements.appended(doc, record, keep))

    def read_agreements(self) -> list[AgreementRecord]:
        return self._agree.read().records


__all__ = [
    "COMMIT_INTERVAL_S",
    "LEDGER_KEEP",
    "CostsDoc",
    "HealthDoc",
    "JsonStateStore",
    "ProviderRecord",
    "provider_snapshot",
]
