"""Batch throughput of ``collabiq llm extract --jsonl`` at concurrency 1 / 8 / 32.

    python -m bench.bench_batch [--quick]

The real CLI as a subprocess, keyed for one provider (Gemini) whose emulator answers
after 100 ms; JSON state in a fresh ``COLLABIQ_HOME`` (fsync'd writes included).
Throughput = emails / wall time of the whole command, start-up included (nothing is
subtracted); the figure is its fraction of the ideal ``concurrency / 0.1 s``. The
start-up of the same command on an empty input is reported on its own row.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import clean_env, collabiq_cmd, dataset_texts, median, ms, row

LATENCY_S = 0.1
CONCURRENCY = (1, 8, 32)


def _extract(env: dict[str, str], source: Path, out: Path, concurrency: int) -> float:
    cmd = [*collabiq_cmd(), "llm", "extract", "--jsonl", "--concurrency", str(concurrency)]
    started = time.perf_counter()
    proc = subprocess.run(
        [*cmd, str(source), "--output", str(out)], env=env, capture_output=True, timeout=300
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"extract failed ({proc.returncode}): {proc.stderr.decode()[-800:]}")
    return elapsed


def _check(out: Path, n: int) -> None:
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines() if line.strip()]
    failed = [r for r in lines if "error" in r]
    if len(lines) != n or failed:
        raise RuntimeError(f"batch produced {len(lines)} lines for {n}, {len(failed)} errors")
    if any(r["meta"]["provider"] != "gemini" for r in lines):
        raise RuntimeError("some emails were not answered by the emulated provider")


def run(quick: bool = False) -> dict[str, Any]:
    """Emails/s per concurrency, as a fraction of concurrency / latency."""
    from tests.emulators import Behaviour, Emulator
    from tests.emulators.fixtures import env_for

    per_slot = 4 if quick else 25
    results: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="collabiq-batch-") as tmp,
        Emulator("gemini", default=Behaviour.ok(latency_s=LATENCY_S)) as emu,
    ):
        folder = Path(tmp)
        empty = folder / "empty.jsonl"
        empty.write_text("")
        base_env = clean_env(env_for(emu, "gemini"), NO_COLOR="1")
        one = folder / "one.jsonl"
        one.write_text(json.dumps(dataset_texts(1)[0], ensure_ascii=False) + "\n")
        startup, first = [], []
        for i in range(1 if quick else 5):
            env = {**base_env, "COLLABIQ_HOME": str(folder / f"home-empty-{i}")}
            startup.append(_extract(env, empty, folder / "empty.out", 1))
            first.append(_extract(env, one, folder / "one.out", 1))
        for c in CONCURRENCY:
            n = per_slot * c
            source = folder / f"in-{c}.jsonl"
            source.write_text(
                "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in dataset_texts(n))
            )
            env = {**base_env, "COLLABIQ_HOME": str(folder / f"home-{c}")}
            out = folder / f"out-{c}.jsonl"
            wall = _extract(env, source, out, c)
            _check(out, n)
            ideal = c / LATENCY_S
            results[str(c)] = {
                "emails": n,
                "wall_s": round(wall, 3),
                "emails_per_s": round(n / wall, 2),
                "ideal_per_s": ideal,
                "fraction_of_ideal": round(n / wall / ideal, 3),
            }
        pass_s = median([_time_pass() for _ in range(3)])  # same-run baseline for start-up
    start, one_email = median(startup), median(first)
    rows = [
        row(
            f"Batch `extract --jsonl` throughput, concurrency {c}",
            f"{r['emails_per_s']:.1f} emails/s ({r['emails']} in {r['wall_s']:.2f} s)",
            f"ideal {c}/{LATENCY_S:g} s = {r['ideal_per_s']:.0f} emails/s",
            r["fraction_of_ideal"],
            "—",
            None,
            **r,
        )
        for c, r in ((int(k), v) for k, v in results.items())
    ]
    rows.append(
        row(
            "Batch start-up (`extract --jsonl`, empty input)",
            ms(start),
            f"`python -c pass` {ms(pass_s)}",
            start / pass_s,
            startup_s=start,
            python_pass_s=pass_s,
        )
    )
    rows.append(
        row(
            "Batch of one email (start-up + SDK import + one 100 ms call)",
            ms(one_email),
            f"emulated latency {ms(LATENCY_S)}",
            one_email / LATENCY_S,
            one_email_s=one_email,
        )
    )
    return {
        "benchmark": "batch",
        "latency_s": LATENCY_S,
        "emails_per_slot": per_slot,
        "startup_empty_input_s": round(start, 4),
        "one_email_s": round(one_email, 4),
        "results": results,
        "rows": rows,
    }


def _time_pass() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    from bench.common import script_main

    sys.exit(script_main(run, __doc__))
