"""CLI start-up: ``collabiq llm status --json`` and ``--help`` against ``python -c pass``.

    python -m bench.bench_startup [--quick]

Same interpreter, same run; runs alternate, so all see the same machine load; the
figure is the ratio of medians. ``PYTHONDONTWRITEBYTECODE=1`` (as in most container
images): only bytecode compiled at install time (``make install``) is used.
``status`` reads a state folder holding what a working day leaves (three providers
with full latency windows, failures, an open breaker, 300 emails of costs) and imports
no SDK. It is timed twice: as monitoring runs it (the settings were validated by an
earlier run, so no pydantic loads: ``collabiq_llm/status_fast.py``) and as the first
run after a settings change (the memo of validated settings removed before each run).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import clean_env, collabiq_cmd, median, ms, row

STATUS_TARGET = 10.0
HELP_TARGET = 6.0


def _time(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, timeout=60)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def working_day(home: str) -> None:
    """Fill ``home``'s state folder through the real store, as a day of extraction would."""
    import datetime as dt

    from collabiq_llm.settings import BreakerSettings
    from collabiq_llm.state.api import CallEvent, LedgerEntry, LedgerProviderCost
    from collabiq_llm.state.json_store import JsonStateStore

    store = JsonStateStore(Path(home) / "llm_health", BreakerSettings())
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=8)
    for i in range(600):
        provider = ("gemini", "claude", "openai")[i % 3]
        ok = i % 17 != 0 or provider != "claude"
        store.record_call(
            CallEvent(
                provider=provider,
                model=f"{provider}-model",
                ok=ok,
                at=start + dt.timedelta(seconds=40 * i),
                latency_ms=800.0 + (i * 37) % 900 if ok else None,
                first_event_ms=200.0 + (i * 13) % 300,
                error_kind=None if ok else "server",
                error_message=None if ok else "503 Service Unavailable",
                input_tokens=900,
                output_tokens=120,
                cost_usd=0.0004,
            )
        )
    for i in range(300):
        store.record_email(
            LedgerEntry(
                email_id=f"em_{i}",
                at=start + dt.timedelta(seconds=80 * i),
                strategy="failover",
                providers=[LedgerProviderCost(provider="gemini", model="m", cost_usd=0.0004)],
                total_cost_usd=0.0004,
            )
        )
    store.flush()


def run(quick: bool = False) -> dict[str, Any]:
    """Median wall time of each command over ``n`` alternating runs."""
    from collabiq_llm.status_fast import memo_path

    n = 5 if quick else 21
    status_cmd = [*collabiq_cmd(), "llm", "status", "--json"]
    help_cmd = [*collabiq_cmd(), "--help"]
    with tempfile.TemporaryDirectory(prefix="collabiq-bench-home-") as home:
        env = clean_env(COLLABIQ_HOME=home, NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1")
        working_day(home)
        _time(status_cmd, env)  # first run: .pyc files, page cache, the settings memo
        memo = memo_path(Path(home))
        if not memo.exists():
            raise RuntimeError(f"the first status run left no settings memo at {memo}")
        base, status, cold, helps = [], [], [], []
        for _ in range(n):
            base.append(_time([sys.executable, "-c", "pass"], env))
            status.append(_time(status_cmd, env))
            helps.append(_time(help_cmd, env))
            memo.unlink()
            cold.append(_time(status_cmd, env))  # validates the settings, leaves the memo
    b, s, h, c = median(base), median(status), median(helps), median(cold)
    return {
        "benchmark": "startup",
        "runs": n,
        "python_c_pass_s": round(b, 4),
        "llm_status_s": round(s, 4),
        "help_s": round(h, 4),
        "rows": [
            row(
                "CLI start-up: `collabiq llm status --json` (PYTHONDONTWRITEBYTECODE=1)",
                ms(s),
                f"`python -c pass` {ms(b)}",
                s / b,
                f"≤ {STATUS_TARGET:g}×",
                s / b <= STATUS_TARGET,
                status_s=s,
                baseline_s=b,
                added_ms=round((s - b) * 1000, 1),
            ),
            row(
                "… first `status --json` after a settings change (validates them: pydantic)",
                ms(c),
                f"`python -c pass` {ms(b)}",
                c / b,
                "—",
                None,
                status_s=c,
                baseline_s=b,
            ),
            row(
                "CLI start-up: `collabiq --help` (PYTHONDONTWRITEBYTECODE=1)",
                ms(h),
                f"`python -c pass` {ms(b)}",
                h / b,
                f"≤ {HELP_TARGET:g}×",
                h / b <= HELP_TARGET,
                help_s=h,
                baseline_s=b,
            ),
        ],
    }


if __name__ == "__main__":
    from bench.common import script_main

    sys.exit(script_main(run, __doc__))
