"""Copy a JSON state folder (totals, breakers, ledger) into a Redis namespace — once.

Why it is safe to run again:

* The whole copy is one ``MULTI``/``EXEC`` transaction: Redis applies all of it or
  nothing, so a crash or a lost connection never leaves half a migration.
* It is keyed by a SHA-256 of the source files. The transaction ``WATCH``\\es the
  marker ``collabiq:<ns>:migrated:<hash>`` and sets it, so running it again on the
  same files (even concurrently) copies nothing.
* The source folder is remembered too (``migration-source:<host+path hash>``). If
  the same folder is migrated again after it *changed* (it was still in use), the
  copy is refused: adding it again would count its old events twice. ``force``
  adds it anyway.

Counters are *added* (so several hosts' JSON folders can be merged into one fleet
state); a breaker or the persisted strategy is copied only where Redis has none
yet; ledger entries are appended to the stream in file order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from collabiq_llm.errors import InputError, StateError
from collabiq_llm.settings import BreakerSettings, CostSettings
from collabiq_llm.state import costs, import_redis, parse_state_url
from collabiq_llm.state import redis_scripts as rs
from collabiq_llm.state.api import OrchestrationConfig
from collabiq_llm.state.json_store import LEDGER_KEEP, HealthDoc, JsonStateStore
from collabiq_llm.state.jsonfile import JsonFile

SOURCE_FILES = ("health.json", "costs.json", "orchestration.json")


@dataclass
class MigrationReport:
    """What ``state migrate`` did; ``status`` is ``migrated``, ``already`` or ``refused``."""

    status: str
    source: str
    target: str
    providers: int = 0
    calls: int = 0
    emails: int = 0
    cost_usd: float = 0.0
    ledger_entries: int = 0
    content_sha256: str = ""
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _files(folder: Path) -> list[Path]:
    names = [*SOURCE_FILES, *(p.name for p in costs.ledger_files(folder / "ledger.jsonl", 9))]
    return [folder / name for name in dict.fromkeys(names) if (folder / name).is_file()]


def content_hash(folder: Path) -> str:
    """SHA-256 over the state files' names and bytes (the migration's identity)."""
    digest = hashlib.sha256()
    for path in _files(folder):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _source_id(folder: Path) -> str:
    where = f"{socket.gethostname()}:{folder.resolve()}"
    return hashlib.sha256(where.encode()).hexdigest()[:24]


def _queue_provider(pipe: Any, keys: rs.Keys, name: str, rec: Any, current: dict[str, str]) -> None:
    """Add one provider's JSON record to the transaction."""
    stats, usage = rec.health, rec.usage
    pipe.sadd(keys.k("providers"), name)
    pipe.set(keys.provider(name, "breaker"), rs.dump_breaker(rec.breaker), nx=True)
    hkey = keys.provider(name, "health")
    for field in ("calls", "successes", "failures", "own_failures", "hedges"):
        if getattr(stats, field):
            pipe.hincrby(hkey, field, getattr(stats, field))
    for kind, n in stats.failures_by_kind.items():
        pipe.hincrby(keys.provider(name, "fail_kinds"), kind, n)
    if stats.latencies_ms:
        pipe.rpush(keys.provider(name, "latency"), *(repr(v) for v in stats.latencies_ms))
        pipe.ltrim(keys.provider(name, "latency"), -200, -1)
    if stats.last_success and rs.to_ms(stats.last_success) >= int(current.get("ls") or -1):
        pipe.hset(hkey, "last_success", stats.last_success.isoformat())
        pipe.hset(hkey, "last_success_ms", rs.to_ms(stats.last_success))
    if stats.last_failure and rs.to_ms(stats.last_failure) >= int(current.get("lf") or -1):
        fields = {
            "last_failure": stats.last_failure.isoformat(),
            "last_failure_ms": rs.to_ms(stats.last_failure),
            "last_error": stats.last_error or "",
            "last_error_kind": stats.last_error_kind or "",
        }
        pipe.hset(hkey, mapping=fields)
    ukey = keys.provider(name, "usage")
    for field, value in (
        ("input_tokens", usage.input_tokens),
        ("output_tokens", usage.output_tokens),
        ("cost_units", rs.to_units(usage.cost_usd)),
        ("unpriced_calls", usage.unpriced_calls),
    ):
        if value:
            pipe.hincrby(ukey, field, value)
    for what, buckets in (("daily", usage.daily), ("monthly", usage.monthly)):
        for bucket, usd in buckets.items():
            pipe.hincrby(keys.provider(name, what), bucket, rs.to_units(usd))


def _queue_totals(pipe: Any, keys: rs.Keys, totals: costs.EmailCosts) -> None:
    for field, value in (
        ("emails", totals.emails),
        ("cost_units", rs.to_units(totals.total_cost_usd)),
        ("unpriced_emails", totals.unpriced_emails),
    ):
        if value:
            pipe.hincrby(keys.k("emails"), field, value)
    for set_name, prefix, table in (
        ("strategies", "s", totals.by_strategy),
        ("email_providers", "ep", totals.by_provider),
    ):
        for name, t in table.items():
            pipe.sadd(keys.k(set_name), name)
            for field, value in rs.totals_fields(t).items():
                if value != "0":
                    pipe.hincrby(keys.k(prefix, name), field, int(value))


def migrate_json_to_redis(
    folder: Path,
    url: str,
    *,
    cost: CostSettings | None = None,
    force: bool = False,
    timeout_s: float = 30.0,
) -> MigrationReport:
    """Copy ``folder`` (a JSON state folder) into the Redis state at ``url``."""
    folder = Path(folder).expanduser()
    if not folder.is_dir() or not _files(folder):
        raise InputError(f"no JSON state to migrate in {folder}")
    client_url, namespace, shown = parse_state_url(url)
    keys = rs.Keys(namespace or "default")
    target = f"{shown} (namespace {keys.namespace})"
    digest = content_hash(folder)
    report = MigrationReport("migrated", str(folder), target, content_sha256=digest)
    doc = JsonFile(folder / "health.json", HealthDoc).read()
    totals = JsonFile(folder / "costs.json", costs.EmailCosts).read()
    orch = JsonFile(folder / "orchestration.json", OrchestrationConfig).read()
    ledger = JsonStateStore(folder, BreakerSettings(), ledger_keep=LEDGER_KEEP).read_ledger()
    report.providers = len(doc.providers)
    report.calls = sum(rec.health.calls for rec in doc.providers.values())
    report.emails, report.cost_usd = totals.emails, totals.total_cost_usd
    report.ledger_entries = len(ledger)
    maxlen = rs.ledger_maxlen((cost or CostSettings()).ledger_max_bytes, LEDGER_KEEP)
    redis = import_redis()
    client = redis.Redis.from_url(
        client_url,
        socket_timeout=timeout_s,
        socket_connect_timeout=min(timeout_s, 5.0),
        decode_responses=True,
    )
    marker, source = keys.k("migrated", digest[:32]), keys.k("migration-source", _source_id(folder))
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.watch(marker, source)
            if pipe.exists(marker):
                report.status, report.detail = "already", "these files were migrated before"
                return report
            before = pipe.get(source)
            if before and not force:
                report.status = "refused"
                report.detail = (
                    f"{folder} was migrated before and has changed since; copying it again "
                    "would count its old events twice (use --force to add it anyway)"
                )
                return report
            current = {
                name: dict(
                    zip(
                        ("ls", "lf"),
                        pipe.hmget(
                            keys.provider(name, "health"), "last_success_ms", "last_failure_ms"
                        ),
                        strict=True,
                    )
                )
                for name in doc.providers
            }
            pipe.multi()
            for name, rec in doc.providers.items():
                _queue_provider(pipe, keys, name, rec, current[name])
            _queue_totals(pipe, keys, totals)
            for entry in ledger:
                pipe.xadd(
                    keys.k("ledger"),
                    {"e": costs.ledger_line(entry)},
                    maxlen=maxlen,
                    approximate=True,
                )
            if orch != OrchestrationConfig():
                pipe.set(keys.k("orchestration"), orch.model_dump_json(), nx=True)
            note = json.dumps({"source": str(folder), "at": dt.datetime.now(dt.UTC).isoformat()})
            pipe.set(marker, note)
            pipe.set(source, digest)
            pipe.execute()
    except redis.exceptions.WatchError:
        report.status, report.detail = "already", "another migration of these files ran at once"
    except redis.exceptions.RedisError as exc:
        raise StateError(f"cannot migrate into {target}: {exc}") from exc
    finally:
        client.close()
    return report
