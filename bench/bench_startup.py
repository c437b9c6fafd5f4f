"""CLI start-up: ``collabiq llm status --json`` and ``--help`` against ``python -c pass``.

    python -m bench.bench_startup [--quick]

Same interpreter, same run; runs alternate, so all see the same machine load; the
figure is the ratio of medians. ``PYTHONDONTWRITEBYTECODE=1`` (as in most container
images): only bytecode compiled at install time (``make install``) is used.
``status`` reads the (fresh, temporary) state folder and imports no SDK.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
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


def run(quick: bool = False) -> dict[str, Any]:
    """Median wall time of each command over ``n`` alternating runs."""
    n = 5 if quick else 21
    status_cmd = [*collabiq_cmd(), "llm", "status", "--json"]
    help_cmd = [*collabiq_cmd(), "--help"]
    with tempfile.TemporaryDirectory(prefix="collabiq-bench-home-") as home:
        env = clean_env(COLLABIQ_HOME=home, NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1")
        _time(status_cmd, env)  # first run: .pyc files, page cache
        base, status, helps = [], [], []
        for _ in range(n):
            base.append(_time([sys.executable, "-c", "pass"], env))
            status.append(_time(status_cmd, env))
            helps.append(_time(help_cmd, env))
    b, s, h = median(base), median(status), median(helps)
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
