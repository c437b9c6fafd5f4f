"""Redis key layout, the Lua scripts that apply one event atomically, and their arguments.

Why this split: the *decisions* (breaker transitions, what one call adds to health
and usage, what one email adds to the totals) stay in the pure functions of
``breaker.py``, ``health.py`` and ``costs.py`` — the same code the JSON backend
runs. Python turns one event into a *delta* (the pure function applied to an empty
record) and the scripts below apply that delta on the server in one step:

* counters are ``HINCRBY`` (integers only: money is kept in units of 1e-10 USD,
  the precision ``costs._money`` rounds to, so sums are exact in any order);
* the latency window is ``RPUSH`` + ``LTRIM`` (the last :data:`health.LATENCY_WINDOW`);
* the breaker document is compare-and-set: the script applies the event only if
  the stored breaker is still the one the transition was computed from, else it
  returns the current one and the caller recomputes (optimistic concurrency, no
  lost update between hosts);
* half-open probe slots are keys of their own, claimed with ``SET NX PX``;
* every event carries an id; a script that finds ``applied:<id>`` does nothing, so
  a spooled event replayed twice (or an event whose reply timed out after Redis
  applied it) is counted once.

All keys live under ``collabiq:<namespace>:`` so deployments can share a server.
Integers travel as strings (Lua would print big numbers as ``1e+15``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from collabiq_llm.state import costs, health
from collabiq_llm.state.api import CallEvent, CostTotals, LedgerEntry
from collabiq_llm.state.breaker import BreakerState
from collabiq_llm.state.json_store import ProviderRecord

COST_UNITS_PER_USD = 10_000_000_000  # 1e-10 USD, the rounding of costs._money
APPLIED_TTL_S = 7 * 24 * 3600  # how long an applied event id is remembered (dedupe window)
AVG_LEDGER_LINE_BYTES = 250

CONFLICT = -1


def to_units(usd: float | None) -> int:
    return round((usd or 0.0) * COST_UNITS_PER_USD)


def from_units(units: int | str | None) -> float:
    return round(int(units or 0) / COST_UNITS_PER_USD, 10)


@dataclass(frozen=True)
class Keys:
    """Key names of one namespace (``collabiq:<namespace>:…``)."""

    namespace: str

    @property
    def prefix(self) -> str:
        return f"collabiq:{self.namespace}:"

    def k(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def provider(self, name: str, what: str) -> str:
        """``breaker`` (JSON) · ``health`` · ``fail_kinds`` · ``latency`` · ``usage`` ·
        ``daily`` · ``monthly``."""
        return self.k("p", name, what)

    def probe(self, name: str, trips: int, slot: int) -> str:
        """One half-open probe slot of one open/half-open episode (``trips`` numbers them)."""
        return self.k("p", name, "probe", str(trips), str(slot))

    def probe_slot(self, name: str, token: str | None) -> tuple[str, str]:
        """(slot key, holder) of a probe token ``<trips>.<slot>.<holder>`` (holder "" = none)."""
        parts = (token or "").split(".", 2)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            return self.probe(name, int(parts[0]), int(parts[1])), parts[2]
        return self.provider(name, "probe"), ""  # nothing to release

    def applied(self, event_id: str) -> str:
        return self.k("applied", event_id)


def unavailable_errors(redis: Any) -> tuple[type[BaseException], ...]:
    """Errors that mean "Redis cannot take this now" (fall back and spool), not a bug."""
    exc = redis.exceptions
    return (
        exc.ConnectionError,  # refused, reset, DNS, auth, loading
        exc.TimeoutError,
        exc.ReadOnlyError,
        exc.OutOfMemoryError,
        exc.MasterDownError,
        exc.TryAgainError,
        # the server refuses the command: a key of the wrong type (WRONGTYPE), an ACL
        # without EVALSHA (NOPERM): nothing this process can fix; spool, as for an outage
        exc.ResponseError,
    )


# -- record_call ---------------------------------------------------------------------------

RECORD_CALL = """
-- KEYS: applied breaker health fail_kinds latency usage daily monthly providers probe
--       first_event
-- ARGV: ttl check_breaker expected new_breaker probe_token provider payload window
--       keep_days keep_months
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
if ARGV[2] == '1' then
  local cur = redis.call('GET', KEYS[2]) or ''
  if cur ~= ARGV[3] then return {-1, cur} end
  if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[4]) end
end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
if ARGV[5] ~= '' then
  local held = redis.call('GET', KEYS[10])
  if held and string.sub(held, 1, #ARGV[5] + 1) == ARGV[5] .. ' ' then
    redis.call('DEL', KEYS[10])
  end
end
local p = cjson.decode(ARGV[7])
local function add(key, fields)
  for f, n in pairs(fields) do
    if n ~= '0' then redis.call('HINCRBY', key, f, n) end
  end
end
local function prune(key, keep)
  if redis.call('HLEN', key) > keep then
    local names = redis.call('HKEYS', key)
    table.sort(names)
    for i = 1, #names - keep do redis.call('HDEL', key, names[i]) end
  end
end
local function later(field, ms)
  local old = redis.call('HGET', KEYS[3], field .. '_ms')
  return (not old) or tonumber(ms) >= tonumber(old)
end
add(KEYS[3], p.h)
add(KEYS[4], p.fk)
if #p.lat > 0 then
  for _, v in ipairs(p.lat) do redis.call('RPUSH', KEYS[5], v) end
  redis.call('LTRIM', KEYS[5], -tonumber(ARGV[8]), -1)
end
if p.fe and #p.fe > 0 then
  for _, v in ipairs(p.fe) do redis.call('RPUSH', KEYS[11], v) end
  redis.call('LTRIM', KEYS[11], -tonumber(ARGV[8]), -1)
end
if p.ls ~= cjson.null and later('last_success', p.ls[2]) then
  redis.call('HSET', KEYS[3], 'last_success', p.ls[1], 'last_success_ms', p.ls[2])
end
if p.lf ~= cjson.null and later('last_failure', p.lf[2]) then
  redis.call('HSET', KEYS[3], 'last_failure', p.lf[1], 'last_failure_ms', p.lf[2],
             'last_error', p.lf[3], 'last_error_kind', p.lf[4])
end
add(KEYS[6], p.u)
if p.d ~= cjson.null then
  redis.call('HINCRBY', KEYS[7], p.d[1], p.d[2]); prune(KEYS[7], tonumber(ARGV[9]))
  redis.call('HINCRBY', KEYS[8], p.m[1], p.m[2]); prune(KEYS[8], tonumber(ARGV[10]))
end
redis.call('SADD', KEYS[9], ARGV[6])
return {1}
"""


def call_payload(event: CallEvent) -> str:
    """What one call adds (computed by the pure functions on empty records), as JSON."""
    stats = health.record(health.HealthStats(), event)
    usage = costs.add_usage(
        costs.Usage(),
        at=event.at,
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cost_usd=event.cost_usd,
    )
    counts = ("calls", "successes", "failures", "own_failures", "hedges", "cancelled")
    last_success = None
    if stats.last_success is not None:
        last_success = [stats.last_success.isoformat(), str(to_ms(stats.last_success))]
    last_failure = None
    if stats.last_failure is not None:
        last_failure = [
            stats.last_failure.isoformat(),
            str(to_ms(stats.last_failure)),
            stats.last_error or "",
            stats.last_error_kind or "",
        ]
    day = month = None
    if usage.daily:  # one bucket each: the delta of a single priced call
        ((day_key, day_usd),) = usage.daily.items()
        ((month_key, month_usd),) = usage.monthly.items()
        day, month = [day_key, str(to_units(day_usd))], [month_key, str(to_units(month_usd))]
    payload = {
        "h": {name: str(getattr(stats, name)) for name in counts},
        "fk": {kind: str(n) for kind, n in stats.failures_by_kind.items()},
        "lat": [repr(v) for v in stats.latencies_ms],
        "fe": [repr(v) for v in stats.first_event_ms],
        "ls": last_success,
        "lf": last_failure,
        "u": {
            "input_tokens": str(usage.input_tokens),
            "output_tokens": str(usage.output_tokens),
            "cost_units": str(to_units(usage.cost_usd)),
            "unpriced_calls": str(usage.unpriced_calls),
        },
        "d": day,
        "m": month,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


# -- half-open probe claim -----------------------------------------------------------------

CLAIM_PROBE = """
-- KEYS: breaker probe_slot_0 .. probe_slot_{n-1}
-- ARGV: expected new_breaker token now_ms expiry_ms ttl_ms
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return {-1, cur} end
if ARGV[2] ~= '' then redis.call('SET', KEYS[1], ARGV[2]) end
local value = ARGV[3] .. ' ' .. ARGV[5]
local busy, soonest = 0, ''
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], value, 'NX', 'PX', ARGV[6]) then return {1, i - 2} end
  local held = redis.call('GET', KEYS[i])
  local expiry = held and tonumber(string.match(held, ' (%d+)$')) or 0
  if expiry <= tonumber(ARGV[4]) then
    -- the holder's (logical) expiry passed: the slot is free, as in breaker.current()
    redis.call('SET', KEYS[i], value, 'PX', ARGV[6])
    return {1, i - 2}
  end
  busy = busy + 1
  if soonest == '' or expiry < tonumber(soonest) then soonest = tostring(expiry) end
end
return {0, busy, soonest}
"""

# -- compare-and-set of one JSON document (reset) -------------------------------------------

CAS = """
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return {-1, cur} end
redis.call('SET', KEYS[1], ARGV[2])
return {1}
"""

# -- record_email --------------------------------------------------------------------------

RECORD_EMAIL = """
-- KEYS: applied totals strategies ledger email_providers strategy_hash provider_hash...
-- ARGV: ttl maxlen ledger_line payload
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[3])
local p = cjson.decode(ARGV[4])
local function add(key, fields)
  for f, n in pairs(fields) do
    if n ~= '0' then redis.call('HINCRBY', key, f, n) end
  end
end
add(KEYS[2], p.t)
redis.call('SADD', KEYS[3], p.s[1])
add(KEYS[6], p.s[2])
for i, item in ipairs(p.p) do
  redis.call('SADD', KEYS[5], item[1])
  add(KEYS[6 + i], item[2])
end
return 1
"""


def totals_fields(t: CostTotals) -> dict[str, str]:
    return {
        "emails": str(t.emails),
        "calls": str(t.calls),
        "input_tokens": str(t.input_tokens),
        "output_tokens": str(t.output_tokens),
        "cost_units": str(to_units(t.cost_usd)),
        "unpriced": str(t.unpriced),
    }


def email_payload(entry: LedgerEntry) -> tuple[str, list[str], str]:
    """(strategy, providers in order, payload JSON) of what one email adds to the totals."""
    delta = costs.add_email(costs.EmailCosts(), entry)
    strategy, totals = next(iter(delta.by_strategy.items()))
    providers = list(delta.by_provider)
    payload = {
        "t": {
            "emails": str(delta.emails),
            "cost_units": str(to_units(delta.total_cost_usd)),
            "unpriced_emails": str(delta.unpriced_emails),
        },
        "s": [strategy, totals_fields(totals)],
        "p": [[name, totals_fields(delta.by_provider[name])] for name in providers],
    }
    return strategy, providers, json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def totals_from_hash(data: dict[str, str]) -> CostTotals:
    """A ``CostTotals`` from its Redis hash (money in units)."""
    return CostTotals(
        emails=int(data.get("emails", 0)),
        calls=int(data.get("calls", 0)),
        input_tokens=int(data.get("input_tokens", 0)),
        output_tokens=int(data.get("output_tokens", 0)),
        cost_usd=from_units(data.get("cost_units")),
        unpriced=int(data.get("unpriced", 0)),
    )


def ledger_maxlen(ledger_max_bytes: int, keep_files: int) -> int:
    """Stream length that holds about what the JSON ledger files hold (live + rotated)."""
    return max(1000, ledger_max_bytes * (keep_files + 1) // AVG_LEDGER_LINE_BYTES)


# -- reading back --------------------------------------------------------------------------


def dump_breaker(state: BreakerState) -> str:
    """The stored breaker document: probes are not in it (they are slot keys)."""
    return state.model_copy(update={"probes": {}}).model_dump_json()


def load_breaker(blob: str | None) -> BreakerState:
    return BreakerState.model_validate_json(blob) if blob else BreakerState()


def to_ms(at: dt.datetime) -> int:
    return round(at.timestamp() * 1000)


def from_ms(ms: int | str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC)


def probes_from_slots(values: list[str | None]) -> dict[str, dt.datetime]:
    """Slot values ``"<holder> <expiry ms>"`` → the ``BreakerState.probes`` mapping."""
    probes: dict[str, dt.datetime] = {}
    for slot, held in enumerate(values):
        if held:
            holder, _, expiry = held.rpartition(" ")
            probes[f"{slot}.{holder}"] = from_ms(expiry)
    return probes


def provider_record(
    state: BreakerState,
    stats: dict[str, str],
    kinds: dict[str, str],
    latencies: list[str],
    usage: dict[str, str],
    first_event: list[str] | None = None,
) -> ProviderRecord:
    """The JSON backend's per-provider record, rebuilt from the Redis hashes."""
    counts = ("calls", "successes", "failures", "own_failures", "hedges", "cancelled")
    return ProviderRecord(
        breaker=state,
        health=health.HealthStats(
            **{name: int(stats.get(name, 0)) for name in counts},
            failures_by_kind={kind: int(n) for kind, n in kinds.items()},
            latencies_ms=[float(v) for v in latencies],
            first_event_ms=[float(v) for v in first_event or []],
            last_success=stats.get("last_success"),
            last_failure=stats.get("last_failure"),
            last_error=stats.get("last_error") or None,
            last_error_kind=stats.get("last_error_kind") or None,
        ),
        usage=costs.Usage(
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            cost_usd=from_units(usage.get("cost_units")),
            unpriced_calls=int(usage.get("unpriced_calls", 0)),
        ),
    )
