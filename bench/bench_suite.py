"""``make test`` beside two CPU hogs: does it pass, and how long does it take?

    python -m bench.bench_suite        # make bench-suite (several minutes)

Starts two ``yes`` processes writing to ``/dev/null`` (both cores busy, as on a shared
CI runner), runs the suite exactly as ``make test`` does (``pytest -n 2``), stops the
hogs, and records the outcome and wall time in ``bench/results.json`` (kept by later
``make bench`` runs) and the README table.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from typing import Any

from bench.common import ROOT, row, secs

HOGS = 2


def measure() -> dict[str, Any]:
    hogs = [
        subprocess.Popen(["yes"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(HOGS)
    ]
    try:
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    lines = proc.stdout.strip().splitlines()
    summary = (lines or ["?"])[-1]
    failed = [line.split(" - ")[0] for line in lines if line.startswith(("FAILED", "ERROR"))]
    ok = proc.returncode == 0
    return {
        "benchmark": "suite_under_load",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_hogs": HOGS,
        "returncode": proc.returncode,
        "summary": summary,
        "failed": failed,
        "wall_s": round(wall, 1),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "rows": [
            row(
                f"`make test` beside {HOGS} CPU hogs (`yes > /dev/null`), pytest -n 2",
                f"{'green' if ok else 'RED'} in {secs(wall)}",
                summary[:120],
                None,
                "green, < 5 min",
                ok and wall < 300,
                wall_s=round(wall, 1),
            )
        ],
    }


def main() -> int:
    from bench.run import README, RESULTS, render, update_readme

    result = measure()
    try:
        results = json.loads(RESULTS.read_text("utf-8"))
    except (OSError, ValueError):
        print(json.dumps(result, indent=2))
        return 0 if result["returncode"] == 0 else 1
    old = results.get("benchmarks", {}).get("suite_under_load", {}).get("rows", [])
    results["rows"] = [r for r in results.get("rows", []) if r not in old] + result["rows"]
    results.setdefault("benchmarks", {})["suite_under_load"] = result
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    update_readme(render(results), README)
    print(json.dumps(result, indent=2))
    return 0 if result["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
