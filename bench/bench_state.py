"""Benchmark of the JSON state store: cost of one recorded event, and throughput under contention.

    python -m bench.bench_state [--quick]

Figures (a benchmark, not a test — nothing here asserts a time):
* ``per_event_us``: one ``record_call`` (lock + read + validate + write + fsync +
  replace), one closed-breaker ``acquire`` (unlocked read), and two baselines on
  the same document measured in the same run: a plain unlocked ``json`` rewrite
  (read, parse, dump, write in place, no fsync) and the same with the atomic
  temp-file + fsync + replace but no lock and no validation.
* ``ratios``: record_call / each baseline (what the locking and validation cost).
* ``throughput_eps``: events/s with 1, 4 and 8 OS processes writing at once
  (wall clock from the common start to the last event).
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from collabiq_llm.settings import BreakerSettings
from collabiq_llm.state.api import CallEvent
from collabiq_llm.state.json_store import JsonStateStore
from collabiq_llm.state.jsonfile import fsync_write

PROVIDERS = ("gemini", "claude", "openai")
AT = dt.datetime(2025, 11, 2, 9, 0, tzinfo=dt.UTC)


def _event(i: int) -> CallEvent:
    ok = i % 10 != 0
    return CallEvent(
        provider=PROVIDERS[i % 3],
        model="claude-sonnet-4-5",
        ok=ok,
        at=AT,
        latency_ms=800.0 + i % 300,
        error_kind=None if ok else "server",
        error_message=None if ok else "HTTP 503 overloaded",
        input_tokens=1500,
        output_tokens=200,
        cost_usd=0.0075,
    )


def _store(folder: Path) -> JsonStateStore:
    # A huge threshold keeps the breaker closed, so every event takes the same path.
    return JsonStateStore(folder, BreakerSettings(failure_threshold=10**9), lock_timeout_s=60)


def _warm(folder: Path) -> JsonStateStore:
    """A store whose document is realistic: 3 providers with full latency windows."""
    store = _store(folder)
    for i in range(600):
        store.record_call(_event(i))
    return store


def _time_us(fn: Any, n: int) -> float:
    """Median of 5 batches, µs per call."""
    batches = []
    per = max(1, n // 5)
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(per):
            fn()
        batches.append((time.perf_counter() - t0) / per * 1e6)
    return statistics.median(batches)


def _single_process(folder: Path, n: int) -> dict[str, float]:
    store = _warm(folder / "single")
    counter = iter(range(10**9))
    record = _time_us(lambda: store.record_call(_event(next(counter))), n)
    acquire = _time_us(lambda: store.acquire("claude"), n)
    health = folder / "single" / "health.json"
    plain = folder / "plain.json"
    plain.write_bytes(health.read_bytes())

    def plain_write() -> None:
        data = json.loads(plain.read_text())
        data["providers"]["claude"]["health"]["calls"] += 1
        plain.write_text(json.dumps(data, separators=(",", ":")))

    def atomic_write() -> None:
        data = json.loads(plain.read_text())
        data["providers"]["claude"]["health"]["calls"] += 1
        fsync_write(plain, json.dumps(data, separators=(",", ":")).encode())

    return {
        "record_call": round(record, 1),
        "acquire_closed": round(acquire, 1),
        "baseline_plain_json_write": round(_time_us(plain_write, n), 1),
        "baseline_atomic_fsync_write": round(_time_us(atomic_write, n), 1),
        "document_bytes": health.stat().st_size,
    }


def _worker(folder: str, n: int, offset: int, ready: Any, go: Any, out: Any) -> None:
    store = _store(Path(folder))
    ready.wait()
    go.wait()
    start = time.monotonic()
    for i in range(n):
        store.record_call(_event(offset + i))
    out.put((start, time.monotonic()))


def _throughput(folder: Path, procs: int, n: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    target = folder / f"procs-{procs}"
    _warm(target)
    ready, go, out = ctx.Barrier(procs + 1), ctx.Event(), ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(str(target), n, k * n, ready, go, out))
        for k in range(procs)
    ]
    for w in workers:
        w.start()
    ready.wait()
    go.set()
    spans = [out.get(timeout=600) for _ in workers]
    for w in workers:
        w.join()
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    calls = sum(
        rec["health"]["calls"]
        for rec in json.loads((target / "health.json").read_text())["providers"].values()
    )
    assert calls == 600 + procs * n, "lost updates"  # the benchmark is void if counts drift
    return {"events": procs * n, "seconds": round(wall, 3), "eps": round(procs * n / wall, 1)}


def run(quick: bool = False) -> dict[str, Any]:
    """Measure and return the figures (see module docstring)."""
    n_single = 200 if quick else 1000
    n_proc = 100 if quick else 400
    with tempfile.TemporaryDirectory(prefix="collabiq-bench-") as tmp:
        folder = Path(tmp)
        single = _single_process(folder, n_single)
        throughput = {str(p): _throughput(folder, p, n_proc) for p in (1, 4, 8)}
    one = throughput["1"]["eps"]
    return {
        "benchmark": "state_json_store",
        "quick": quick,
        "per_event_us": single,
        "ratios": {
            "record_call_vs_plain_json_write": round(
                single["record_call"] / single["baseline_plain_json_write"], 2
            ),
            "record_call_vs_atomic_fsync_write": round(
                single["record_call"] / single["baseline_atomic_fsync_write"], 2
            ),
        },
        "throughput_eps": {p: t["eps"] for p, t in throughput.items()},
        "throughput_vs_1_process": {p: round(t["eps"] / one, 2) for p, t in throughput.items()},
        "throughput_detail": throughput,
        "env": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "tmpdir": tempfile.gettempdir(),
        },
    }


if __name__ == "__main__":
    from bench.common import script_main

    sys.exit(script_main(run, __doc__))
