"""The Redis backend of :class:`~collabiq_llm.state.api.StateStore`: one state for many hosts.

``COLLABIQ_STATE_URL=redis://[user:pass@]host:port/db[?namespace=prod]`` (or
``rediss://``). Keys live under ``collabiq:<namespace>:`` (default ``default``);
:mod:`~collabiq_llm.state.redis_scripts` has the layout and the scripts.

Atomicity: each event is one Lua script run, applied whole or not at all. The
breaker transition is computed in Python by ``breaker.py`` (the JSON backend's
code) and stored by compare-and-set inside that same script: when another host
changed the breaker meanwhile, the script applies nothing and returns the current
breaker, and the transition is recomputed from it. No lost update, no lock held.
A closed breaker's ``acquire`` is one read, as on the JSON backend.

Half-open probes: one key per slot, ``…:probe:<trips>:<slot>``, claimed with
``SET NX PX probe_ttl`` by the claim script, so at most ``half_open_max_probes``
calls are in flight across all hosts and a crashed prober's slot expires. The
value also holds the slot's expiry by the store's clock, which ``acquire`` and
``status`` compare (so an injected clock behaves as on the JSON backend).

Redis unreachable or slower than ``op_timeout_s`` (200 ms), no retries: see
:class:`~collabiq_llm.state.spool.Fallback`. While down, ``acquire`` answers
"closed" (as pybreaker does), calls and emails go to the local spool, ``snapshot``
says ``redis (unavailable)``, and admin writes raise ``StateError``. Replayed
events update health, usage and costs but not the breaker: a failure seen minutes
ago must not open it now (nor a stale success close it).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collabiq_llm.entities import utc_now
from collabiq_llm.errors import ConfigurationError, StateError
from collabiq_llm.settings import BreakerSettings, CostSettings, normalise_strategy
from collabiq_llm.state import agreements, breaker, costs, health, import_redis, parse_state_url
from collabiq_llm.state import redis_scripts as rs
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
from collabiq_llm.state.json_store import LEDGER_KEEP, provider_snapshot
from collabiq_llm.state.spool import Fallback, Spool, SpooledEvent, warn

DOWN_FOR_S = 5.0
MAX_CAS_TRIES = 1000
UNAVAILABLE = "state backend unavailable"
NAMESPACE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
SCRIPTS = ("RECORD_CALL", "CLAIM_PROBE", "CAS", "RECORD_EMAIL")


class RedisStateStore:
    """Breakers, health and costs shared by every host through one Redis server."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        breaker: BreakerSettings,
        *,
        cost: CostSettings | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        op_timeout_s: float = 0.2,
        spool_dir: Path,
        namespace: str | None = None,
        down_for_s: float = DOWN_FOR_S,
    ) -> None:
        self._client_url, url_namespace, self.url = parse_state_url(url)
        self.namespace = namespace or url_namespace or "default"
        if not set(self.namespace) <= NAMESPACE_CHARS or len(self.namespace) > 64:
            raise ConfigurationError(
                f"bad Redis namespace {self.namespace!r}: use letters, digits, '_', '.', '-'"
            )
        self.breaker_cfg = breaker
        self.cost_cfg = cost or CostSettings()
        self.clock = clock
        self.op_timeout_s = op_timeout_s
        self.keys = rs.Keys(self.namespace)
        self.location = f"{self.url} (namespace {self.namespace})"
        self.ledger_maxlen = rs.ledger_maxlen(self.cost_cfg.ledger_max_bytes, LEDGER_KEEP)
        self._redis = import_redis()
        self._r: Any = None
        self._scripts: dict[str, Any] = {}
        self._seen: dict[str, str] = {}  # provider -> breaker document last read (CAS guess)
        self._lock = threading.Lock()
        self.fallback = Fallback(
            Spool(Path(spool_dir) / f"{self.namespace}.jsonl"),
            name=f"Redis at {self.url}",
            errors=rs.unavailable_errors(self._redis),
            apply=self._apply_spooled,
            down_for_s=down_for_s,
        )
        self.spool = self.fallback.spool

    def _client(self) -> Any:
        with self._lock:
            if self._r is None:
                from redis.backoff import NoBackoff
                from redis.retry import Retry

                r = self._redis.Redis.from_url(
                    self._client_url,
                    socket_timeout=self.op_timeout_s,
                    socket_connect_timeout=self.op_timeout_s,
                    retry=Retry(NoBackoff(), 0),  # no retry storms: fall back at once
                    retry_on_timeout=False,
                    decode_responses=True,
                )
                self._scripts = {name: r.register_script(getattr(rs, name)) for name in SCRIPTS}
                self._r = r
            return self._r

    def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        client = self._client()
        return self._scripts[name](keys=keys, args=args, client=client)

    def _apply_spooled(self, item: SpooledEvent) -> None:
        if item.kind == "call":
            self._apply_call(CallEvent.model_validate(item.data), item.event_id, with_breaker=False)
        else:
            self._apply_email(LedgerEntry.model_validate(item.data), item.event_id)

    def flush_spool(self) -> int:
        """Replay the spool now, even during a down period; ``StateError`` if unreachable."""
        try:
            return self.fallback.replay()
        except self.fallback.errors as exc:
            raise StateError(f"Redis at {self.url} is unavailable: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._r is not None:
                self._r.close()
                self._r = None

    def _now(self) -> dt.datetime:
        return as_utc(self.clock())

    # -- before a call ---------------------------------------------------------------------

    def acquire(
        self,
        provider: str,
        *,
        budget_daily_usd: float | None = None,
        budget_monthly_usd: float | None = None,
    ) -> Permit:
        """May ``provider`` be called now? Claims a half-open probe slot when it is one."""
        return self.fallback.run(
            lambda: self._acquire(provider, budget_daily_usd, budget_monthly_usd),
            lambda: Permit(allowed=True, state="closed", reason=UNAVAILABLE),
        )

    def _acquire(self, provider: str, daily: float | None, monthly: float | None) -> Permit:
        now = self._now()
        pipe = self._client().pipeline(transaction=False)
        pipe.get(self.keys.provider(provider, "breaker"))
        if daily is not None or monthly is not None:
            pipe.hget(self.keys.provider(provider, "daily"), costs.day_key(now))
            pipe.hget(self.keys.provider(provider, "monthly"), costs.month_key(now))
        got = pipe.execute()
        blob = got[0] or ""
        self._seen[provider] = blob
        state = rs.load_breaker(blob)
        if len(got) > 1:
            usage = costs.Usage(
                daily={costs.day_key(now): rs.from_units(got[1])},
                monthly={costs.month_key(now): rs.from_units(got[2])},
            )
            over = costs.budget_refusal(usage, now, daily, monthly)
            if over is not None:
                name = breaker.current(state, now).state
                return Permit(allowed=False, state=name, reason=over[0], retry_at=over[1])
        return self._claim(provider, blob, state, now)

    def _claim(self, provider: str, blob: str, state: BreakerState, now: dt.datetime) -> Permit:
        cfg = self.breaker_cfg
        holder = f"{os.getpid()}-{secrets.token_hex(6)}"
        ttl_ms = max(1, round(cfg.probe_ttl_s * 1000))
        for _ in range(MAX_CAS_TRIES):
            cur = breaker.current(state, now)
            if cur.state != "half_open":  # closed, or still open: decided without a write
                return breaker.acquire(cur, cfg, now, holder)[1]
            keys = [self.keys.provider(provider, "breaker")]
            keys += [
                self.keys.probe(provider, cur.trips, i) for i in range(cfg.half_open_max_probes)
            ]
            new_blob = rs.dump_breaker(cur) if cur != state else ""
            now_ms = rs.to_ms(now)
            res = self._script(
                "CLAIM_PROBE", keys, [blob, new_blob, holder, now_ms, now_ms + ttl_ms, ttl_ms]
            )
            if int(res[0]) == rs.CONFLICT:
                blob, state = res[1], rs.load_breaker(res[1])
                continue
            self._seen[provider] = new_blob or blob
            if int(res[0]) == 1:
                token = f"{cur.trips}.{res[1]}.{holder}"
                return Permit(allowed=True, state="half_open", probe_token=token)
            reason = f"circuit half-open: {res[1]} probe call(s) already in flight"
            return Permit(
                allowed=False, state="half_open", reason=reason, retry_at=rs.from_ms(res[2])
            )
        raise StateError(f"breaker of {provider} changed too often to claim a probe; try again")

    # -- after a call ----------------------------------------------------------------------

    def record_call(self, event: CallEvent) -> None:
        """Breaker, health and usage of one call in one script run; spooled if Redis is down."""
        event_id = uuid.uuid4().hex
        self.fallback.run(
            lambda: self._apply_call(event, event_id, with_breaker=True),
            lambda: self.spool.append("call", event_id, event.model_dump(mode="json")),
        )

    def _apply_call(self, event: CallEvent, event_id: str, *, with_breaker: bool) -> None:
        name, k = event.provider, self.keys
        slot_key, holder = k.probe_slot(name, event.probe_token)
        keys = [k.applied(event_id)]
        keys += [k.provider(name, w) for w in ("breaker", "health", "fail_kinds", "latency")]
        keys += [k.provider(name, w) for w in ("usage", "daily", "monthly")]
        keys += [k.k("providers"), slot_key, k.provider(name, "first_event")]
        payload = rs.call_payload(event)
        now = self._now()
        expected = self._seen.get(name, "")
        for _ in range(MAX_CAS_TRIES):
            new_blob = ""
            if with_breaker:
                old = rs.load_breaker(expected)
                new = breaker.record(
                    old,
                    self.breaker_cfg,
                    now,
                    ok=event.ok,
                    kind=event.error_kind,
                    retry_after_s=event.retry_after_s,
                    counts=event.counts_against_provider and event.trips_breaker,
                )  # the probe slot is a key of its own, released by the script
                new_blob = rs.dump_breaker(new) if new != old else ""
            check = "1" if with_breaker else "0"
            args = [rs.APPLIED_TTL_S, check, expected, new_blob, holder, name, payload]
            args += [health.LATENCY_WINDOW, costs.KEEP_DAYS, costs.KEEP_MONTHS]
            res = self._script("RECORD_CALL", keys, args)
            if int(res[0]) != rs.CONFLICT:
                if with_breaker:
                    self._seen[name] = new_blob or expected
                return
            expected = res[1]
        raise StateError(f"breaker of {name} changed too often to record a call; try again")

    def record_email(self, entry: LedgerEntry) -> None:
        """Ledger entry (capped stream) and totals in one script run; spooled if Redis is down."""
        event_id = uuid.uuid4().hex
        self.fallback.run(
            lambda: self._apply_email(entry, event_id),
            lambda: self.spool.append("email", event_id, entry.model_dump(mode="json")),
        )

    def _apply_email(self, entry: LedgerEntry, event_id: str) -> None:
        k = self.keys
        strategy, providers, payload = rs.email_payload(entry)
        keys = [k.applied(event_id), k.k("emails"), k.k("strategies"), k.k("ledger")]
        keys += [k.k("email_providers"), k.k("s", strategy)]
        keys += [k.k("ep", name) for name in providers]
        args = [rs.APPLIED_TTL_S, self.ledger_maxlen, costs.ledger_line(entry), payload]
        self._script("RECORD_EMAIL", keys, args)

    def read_ledger(self, limit: int | None = None) -> list[LedgerEntry]:
        """Ledger entries, oldest first (the last ``limit``); empty while Redis is down."""
        return self.fallback.run(lambda: self._read_ledger(limit), list)

    def _read_ledger(self, limit: int | None) -> list[LedgerEntry]:
        r, key = self._client(), self.keys.k("ledger")
        rows = r.xrevrange(key, count=limit)[::-1] if limit else r.xrange(key)
        entries: list[LedgerEntry] = []
        bad = 0
        for _, fields in rows:
            try:
                entries.append(costs.parse_ledger_line(fields.get("e", "")))
            except ValueError:
                bad += 1
        if bad:
            warn(f"Redis ledger {key}: skipped {bad} unreadable entries")
        return entries

    # -- reading and admin -----------------------------------------------------------------

    def snapshot(self) -> StateSnapshot:
        """Everything status shows; ``backend="redis (unavailable)"`` while Redis is down.

        ``pending_events``: events spooled on this host and not yet replayed into Redis.
        """
        snap = self.fallback.run(
            self._snapshot,
            lambda: StateSnapshot(backend=f"{self.backend} (unavailable)", location=self.location),
        )
        snap.pending_events = len(self.spool) if self.spool.pending() else 0
        return snap

    def _snapshot(self) -> StateSnapshot:
        now, k = self._now(), self.keys
        pipe = self._client().pipeline(transaction=False)
        for name in ("providers", "strategies", "email_providers"):
            pipe.smembers(k.k(name))
        pipe.hgetall(k.k("emails"))
        pipe.get(k.k("orchestration"))
        found = pipe.execute()
        names, strategies, email_providers = (sorted(found[i]) for i in range(3))
        totals, orch = found[3], found[4]
        pipe = self._client().pipeline(transaction=True)  # one consistent read of the records
        for name in names:
            pipe.get(k.provider(name, "breaker"))
            pipe.hgetall(k.provider(name, "health"))
            pipe.hgetall(k.provider(name, "fail_kinds"))
            pipe.lrange(k.provider(name, "latency"), 0, -1)
            pipe.hgetall(k.provider(name, "usage"))
            pipe.lrange(k.provider(name, "first_event"), 0, -1)
            pipe.hget(k.provider(name, "daily"), costs.day_key(now))
            pipe.hget(k.provider(name, "monthly"), costs.month_key(now))
        for strategy in strategies:
            pipe.hgetall(k.k("s", strategy))
        for name in email_providers:
            pipe.hgetall(k.k("ep", name))
        got = pipe.execute()
        providers = {}
        for i, name in enumerate(names):
            blob, stats, kinds, latencies, usage, first, today, month = got[8 * i : 8 * i + 8]
            record = rs.provider_record(
                self._breaker_view(name, blob, now), stats, kinds, latencies, usage, first
            )
            record.usage.daily = {costs.day_key(now): rs.from_units(today)}
            record.usage.monthly = {costs.month_key(now): rs.from_units(month)}
            # the JSON backend's view code, so both backends show the same fields
            providers[name] = provider_snapshot(record, self.breaker_cfg, now)
        rest = got[8 * len(names) :]
        by_strategy, by_provider = rest[: len(strategies)], rest[len(strategies) :]
        return StateSnapshot(
            backend=self.backend,
            location=self.location,
            providers=providers,
            emails=int(totals.get("emails", 0)),
            total_cost_usd=rs.from_units(totals.get("cost_units")),
            unpriced_emails=int(totals.get("unpriced_emails", 0)),
            cost_by_strategy={
                s: rs.totals_from_hash(h) for s, h in zip(strategies, by_strategy, strict=True)
            },
            email_cost_by_provider={
                p: rs.totals_from_hash(h) for p, h in zip(email_providers, by_provider, strict=True)
            },
            orchestration=self._orchestration(orch),
        )

    def _breaker_view(self, provider: str, blob: str | None, now: dt.datetime) -> BreakerState:
        """The stored breaker with its live probe slots filled in (for ``breaker.view``)."""
        state = breaker.current(rs.load_breaker(blob), now)
        if state.state != "half_open":
            return state
        n = self.breaker_cfg.half_open_max_probes
        slots = [self.keys.probe(provider, state.trips, i) for i in range(n)]
        probes = rs.probes_from_slots(self._client().mget(slots))
        return breaker.current(state.model_copy(update={"probes": probes}), now)

    @staticmethod
    def _orchestration(raw: str | None) -> OrchestrationConfig:
        return OrchestrationConfig.model_validate_json(raw) if raw else OrchestrationConfig()

    def get_orchestration(self) -> OrchestrationConfig:
        """The persisted strategy; the defaults (settings decide) while Redis is down."""
        key = self.keys.k("orchestration")
        return self.fallback.run(
            lambda: self._orchestration(self._client().get(key)), OrchestrationConfig
        )

    def set_orchestration(self, config: OrchestrationConfig) -> OrchestrationConfig:
        """Persist the fields the caller set (explicit ``None`` clears one): a WATCH/MULTI merge."""
        changes = {name: getattr(config, name) for name in config.model_fields_set}
        if changes.get("strategy") is not None:
            changes["strategy"] = normalise_strategy(changes["strategy"])
        if changes.get("updated_at") is None:
            changes["updated_at"] = self._now()
        key = self.keys.k("orchestration")

        def txn(pipe: Any) -> OrchestrationConfig:
            doc = self._orchestration(pipe.get(key)).model_copy(update=changes)
            pipe.multi()
            pipe.set(key, doc.model_dump_json())
            return doc

        return self.fallback.must(
            lambda: self._client().transaction(txn, key, value_from_callable=True)
        )

    def reset(self, provider: str) -> None:
        """Close the breaker by hand and clear consecutive failures; history stays."""
        key = self.keys.provider(provider, "breaker")

        def cas() -> None:
            blob = self._client().get(key) or ""
            for _ in range(MAX_CAS_TRIES):
                if not blob:
                    return  # never recorded: nothing to reset
                new = rs.dump_breaker(breaker.reset(rs.load_breaker(blob)))
                res = self._script("CAS", [key], [blob, new])
                if int(res[0]) != rs.CONFLICT:
                    self._seen[provider] = new
                    return
                blob = res[1]

        self.fallback.must(cas)

    # -- provider reliability (consensus agreement history; not spooled) -------------------

    def record_agreement(self, record: AgreementRecord, keep: int) -> None:
        key = self.keys.k(agreements.REDIS_KEY)
        self.fallback.run(
            lambda: agreements.redis_append(self._client(), key, record, keep), lambda: None
        )

    def read_agreements(self) -> list[AgreementRecord]:
        key = self.keys.k(agreements.REDIS_KEY)
        return self.fallback.run(lambda: agreements.redis_read(self._client(), key), list)
