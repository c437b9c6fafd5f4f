"""``collabiq llm status --json`` without pydantic: read, compute, print — or step aside.

Why: importing pydantic and pydantic-settings alone costs ~17× a bare interpreter's
start-up, and monitoring runs ``status --json`` every few seconds. This path loads
neither. It computes the report with the same functions as the full path
(:mod:`collabiq_llm.status_core`) from two inputs:

* **the resolved settings**, as the full path last validated them, kept in a memo
  (``$COLLABIQ_HOME/cache/status-settings.json``) under a fingerprint of everything
  ``Settings()`` reads: the config and ``.env`` files' bytes, every ``COLLABIQ_*``
  variable, ``HOME`` / ``XDG_STATE_HOME``, the working folder, the code of
  ``settings.py``, and whether each provider's key variable is set (never its value).
  Any difference (or an edit of the memo itself) and the memo is not used;
* **the state files**, read fresh on every call and checked field by field against the
  shapes of the state models (:data:`HEALTH_DOC`, ...).

Anything it does not fully understand — no memo, a changed input, a Redis backend,
spooled events, a file that is not exactly what the store writes — returns ``None``
before printing a byte, and the caller runs the full path, which warns, moves corrupt
files aside and writes a fresh memo. The tests compare both paths' output on random
state (``tests/unit/test_status_fast.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from collabiq_llm.paths import default_config_dir, dotenv_files, resolve_home, user_config_path

MEMO_VERSION = 1
STATE_SCHEMA = 1  # ``state.json_store.SCHEMA``
SPOOL_DIR = "pending"  # ``state.pending.SPOOL_DIR``
SETTINGS_CODE = ("settings.py", "paths.py", "routing.py", "api_keys.py")  # Settings() runs


class Unsure(Exception):
    """The fast path cannot vouch for this input: the full path must answer."""


# -- the shapes of the state files (checked against the pydantic models by the tests) ------

INT, FLOAT, STR, DATETIME = "int", "float", "str", "datetime"


def optional(kind: Any) -> tuple[str, Any]:
    return ("optional", kind)


def dict_of(kind: Any) -> tuple[str, Any]:
    return ("dict", kind)


def list_of(kind: Any) -> tuple[str, Any]:
    return ("list", kind)


def one_of(*values: str) -> tuple[str, tuple[str, ...]]:
    return ("enum", values)


BREAKER_STATE = {
    "state": one_of("closed", "open", "half_open"),
    "consecutive_failures": INT,
    "opened_at": optional(DATETIME),
    "open_until": optional(DATETIME),
    "reason": optional(STR),
    "half_open_successes": INT,
    "probes": dict_of(DATETIME),
    "trips": INT,
    "not_before": optional(DATETIME),
}
HEALTH_STATS = {
    "calls": INT,
    "successes": INT,
    "failures": INT,
    "own_failures": INT,
    "failures_by_kind": dict_of(INT),
    "latencies_ms": list_of(FLOAT),
    "last_success": optional(DATETIME),
    "last_failure": optional(DATETIME),
    "last_error": optional(STR),
    "last_error_kind": optional(STR),
    "hedges": INT,
    "cancelled": INT,
    "first_event_ms": list_of(FLOAT),
}
USAGE = {
    "input_tokens": INT,
    "output_tokens": INT,
    "cost_usd": FLOAT,
    "unpriced_calls": INT,
    "daily": dict_of(FLOAT),
    "monthly": dict_of(FLOAT),
}
PROVIDER_RECORD = {"breaker": BREAKER_STATE, "health": HEALTH_STATS, "usage": USAGE}
HEALTH_DOC = {"providers": dict_of(PROVIDER_RECORD), "applied": list_of(STR)}
COST_TOTALS = {
    "emails": INT,
    "calls": INT,
    "input_tokens": INT,
    "output_tokens": INT,
    "cost_usd": FLOAT,
    "unpriced": INT,
}
COSTS_DOC = {
    "emails": INT,
    "total_cost_usd": FLOAT,
    "unpriced_emails": INT,
    "by_strategy": dict_of(COST_TOTALS),
    "by_provider": dict_of(COST_TOTALS),
    "applied": list_of(STR),
}
ORCHESTRATION = {
    "strategy": optional(STR),
    "providers": optional(list_of(STR)),
    "updated_at": optional(DATETIME),
}

_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)?")


def _default(kind: Any) -> Any:
    if isinstance(kind, dict):
        return SimpleNamespace(**{name: _default(sub) for name, sub in kind.items()})
    if kind == INT:
        return 0
    if kind == FLOAT:
        return 0.0
    tag = kind[0] if isinstance(kind, tuple) else None
    if tag == "optional":
        return None
    if tag == "dict":
        return {}
    if tag == "list":
        return []
    if tag == "enum":
        return kind[1][0]
    raise Unsure(f"no default for {kind!r}")


def parse(kind: Any, value: Any) -> Any:
    """``value`` (from ``json.loads``) as the state models would hold it, or ``Unsure``.

    Stricter than pydantic on purpose (no "5" for 5, no 5.0 for an int, no non-finite
    number): whatever pydantic might read differently goes to the full path."""
    if isinstance(kind, dict):
        if not isinstance(value, dict):
            raise Unsure("expected an object")
        return SimpleNamespace(
            **{
                name: parse(sub, value[name]) if name in value else _default(sub)
                for name, sub in kind.items()
            }
        )
    if kind == INT:
        if type(value) is not int:
            raise Unsure("expected an integer")
        return value
    if kind == FLOAT:
        if type(value) not in (int, float) or not math.isfinite(value):
            raise Unsure("expected a finite number")
        return float(value)
    if kind == STR:
        if type(value) is not str:
            raise Unsure("expected a string")
        return value
    if kind == DATETIME:
        if type(value) is not str or not _DATETIME.fullmatch(value):
            raise Unsure("expected a timestamp")
        when = dt.datetime.fromisoformat(value)
        return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    tag, sub = kind
    if tag == "optional":
        return None if value is None else parse(sub, value)
    if tag == "dict":
        if not isinstance(value, dict):
            raise Unsure("expected an object")
        return {key: parse(sub, item) for key, item in value.items()}
    if tag == "list":
        if not isinstance(value, list):
            raise Unsure("expected a list")
        return [parse(sub, item) for item in value]
    if tag == "enum":
        if value not in sub:
            raise Unsure(f"expected one of {sub}")
        return value
    raise Unsure(f"unknown kind {kind!r}")


def read_doc(path: Path, shape: dict[str, Any]) -> SimpleNamespace:
    """One state file as the store reads it (defaults when absent), or ``Unsure``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _default(shape)
    data = json.loads(raw.decode("utf-8"))  # any error: Unsure (the caller catches all)
    if not isinstance(data, dict) or data.pop("schema", None) != STATE_SCHEMA:
        raise Unsure(f"{path.name}: not a state file of schema {STATE_SCHEMA}")
    return parse(shape, data)


# -- the snapshot, as ``JsonStateStore.snapshot`` builds it ---------------------------------


def read_snapshot(state_dir: Path, breaker: Any, now: dt.datetime) -> SimpleNamespace:
    """Health, costs and the saved set-strategy values of a JSON state folder."""
    from collabiq_llm.state.views import provider_fields, snapshot_fields

    if (state_dir / SPOOL_DIR).exists():  # spooled events are applied by the full path
        raise Unsure("spooled events")
    health = read_doc(state_dir / "health.json", HEALTH_DOC)
    costs = read_doc(state_dir / "costs.json", COSTS_DOC)
    orchestration = read_doc(state_dir / "orchestration.json", ORCHESTRATION)
    providers = {
        name: SimpleNamespace(**provider_fields(rec, breaker, now))
        for name, rec in health.providers.items()
    }
    fields = snapshot_fields("json", str(state_dir), providers, costs, orchestration)
    return SimpleNamespace(**fields, pending_events=0)


# -- the settings memo -----------------------------------------------------------------------


def key_state(value: str | None) -> str:
    """What a key variable's value means to ``settings.resolve_api_key`` (never the value)."""
    from collabiq_llm.api_keys import clean_key
    from collabiq_llm.errors import ConfigurationError

    if not value:
        return "unset"  # then the .env files are read (their bytes are fingerprinted)
    try:
        return "set" if clean_key(value, "key") else "blank"
    except ConfigurationError:
        return "bad"


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "absent"
    except OSError as exc:
        return f"unreadable:{exc.errno}"


def fingerprint(key_envs: list[str], companies_file: str | None) -> str:
    """A digest of every input of ``Settings()`` (see the module docstring)."""
    env = os.environ
    parts: list[Any] = [
        MEMO_VERSION,
        sorted((k, v) for k, v in env.items() if k.upper().startswith("COLLABIQ_")),
        [env.get("HOME"), env.get("XDG_STATE_HOME"), os.getcwd(), _uid()],
        [key_state(env.get(name)) for name in key_envs],
        [_file_digest(Path(__file__).with_name(name)) for name in SETTINGS_CODE],
        [
            (str(path), _file_digest(path))
            for path in (
                default_config_dir() / "collabiq.toml",
                user_config_path(),
                *dotenv_files(),
                *([Path(companies_file)] if companies_file else []),
            )
        ],
    ]
    return hashlib.sha256(json.dumps(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _uid() -> int | None:
    getuid = getattr(os, "getuid", None)
    return getuid() if getuid else None


def memo_path(home: Path | None = None) -> Path:
    """Where the validated settings are kept: ``$COLLABIQ_HOME/cache`` (a cache: deletable)."""
    return (home or resolve_home()) / "cache" / "status-settings.json"


def settings_memo(settings: Any, state_dir: Path, is_configured: Callable[[Any], bool]) -> dict:
    """What the fast path needs of validated settings: no key, no state URL, no secret."""
    providers = {
        name: {
            "kind": cfg.kind,
            "model": cfg.model,
            "enabled": cfg.enabled,
            "api_key_env": list(cfg.api_key_env),
            "budget_daily_usd": cfg.budget_daily_usd,
            "budget_monthly_usd": cfg.budget_monthly_usd,
            "configured": is_configured(cfg),
        }
        for name, cfg in settings.providers.items()
    }
    key_envs = sorted({name for cfg in providers.values() for name in cfg["api_key_env"]})
    companies = str(settings.companies_file) if settings.companies_file else None
    memo = {
        "fingerprint": fingerprint(key_envs, companies),
        "key_envs": key_envs,
        "companies_file": companies,
        "state_dir": str(state_dir),
        "settings": {
            "strategy": settings.strategy,
            "priority": list(settings.priority),
            "offline_last_resort": settings.offline_last_resort,
            "providers": providers,
            "breaker": {
                "failure_threshold": settings.breaker.failure_threshold,
                "cooldown_s": settings.breaker.cooldown_s,
                "success_threshold": settings.breaker.success_threshold,
                "half_open_max_probes": settings.breaker.half_open_max_probes,
            },
            "consensus": {
                "similarity_threshold": settings.consensus.similarity_threshold,
                "abstain_threshold": settings.consensus.abstain_threshold,
            },
        },
    }
    return {**memo, "content": _content_digest(memo)}


def _content_digest(memo: dict) -> str:
    """Of the memo itself: an edited or damaged memo is never believed."""
    body = {k: v for k, v in memo.items() if k != "content"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def write_memo(memo: dict) -> None:
    """Atomically replace the memo; a cache, so any failure is silently skipped."""
    path = memo_path()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(memo), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _namespace(value: Any) -> Any:
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _namespace(v) for k, v in value.items()})
    return value


def read_memo() -> tuple[SimpleNamespace, Path]:
    """(settings, state folder) from a memo whose fingerprint matches, or ``Unsure``."""
    memo = json.loads(memo_path().read_text(encoding="utf-8"))
    if memo["content"] != _content_digest(memo):
        raise Unsure("the memo was edited")
    if memo["fingerprint"] != fingerprint(memo["key_envs"], memo["companies_file"]):
        raise Unsure("settings changed since the memo")
    raw = memo["settings"]
    settings = _namespace({k: v for k, v in raw.items() if k != "providers"})
    settings.providers = {name: _namespace(cfg) for name, cfg in raw["providers"].items()}
    return settings, Path(memo["state_dir"])


# -- output ----------------------------------------------------------------------------------


def json_ready(value: Any) -> Any:
    """``value`` as ``json.loads(StatusReport.model_dump_json())`` gives it."""
    if isinstance(value, dt.datetime):
        text = value.isoformat()
        return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, Mapping):
        return {k: json_ready(v) for k, v in value.items() if k != "latency_window_ms"}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def report(now: dt.datetime) -> tuple[dict[str, Any], list[str]]:
    """(the ``status --json`` object, saved set-strategy values ignored), or ``Unsure``."""
    from collabiq_llm.errors import ConfigurationError
    from collabiq_llm.routing import provider_order
    from collabiq_llm.status_core import checked_values, report_fields

    settings, state_dir = read_memo()
    snapshot = read_snapshot(state_dir, settings.breaker, now)

    def configured(cfg: Any) -> bool:
        return bool(cfg.configured)

    def order(names: list[str]) -> list[str]:
        return provider_order(settings.providers, settings.priority, names, configured)

    saved = snapshot.orchestration
    strategy, providers, bad = checked_values(saved.strategy, saved.providers, order)
    checked = SimpleNamespace(strategy=strategy, providers=providers)
    try:
        fields = report_fields(settings, snapshot, checked, now, configured)
    except ConfigurationError as exc:
        raise Unsure(str(exc)) from None
    return fields, bad


def run(*, as_json: bool = True, check: bool = False) -> int | None:
    """``status --json`` and/or ``--check`` as the full path answers them (the JSON object
    on stdout; ``check``: each provider that cannot take calls on stderr, exit 3 if any);
    ``None``: run the full path."""
    from collabiq_llm.clock import utc_now

    try:
        fields, bad = report(utc_now())
    except Exception:
        return None
    from collabiq_llm.cli.output import ExitCode, print_json
    from collabiq_llm.status_core import ignored_warning

    if bad:
        sys.stderr.write(ignored_warning(bad))
    if as_json:
        print_json(json_ready(fields))
    if not check:
        return int(ExitCode.OK)
    from collabiq_llm.cli.status_cmd import check_report

    return check_report(_namespace_report(fields))


def _namespace_report(fields: dict[str, Any]) -> SimpleNamespace:
    out = SimpleNamespace(**fields)
    out.providers = {name: SimpleNamespace(**row) for name, row in fields["providers"].items()}
    return out
