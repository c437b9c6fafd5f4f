"""Benchmark: the Redis state backend against the JSON files, measured in the same run.

    python -m bench.bench_redis [--quick]

Starts its own ``redis-server`` on a free loopback port (no persistence, like the
tests). Figures (a benchmark, not a test — nothing here asserts a time):

* ``per_event_us``: one ``record_call`` and one closed-breaker ``acquire`` on each
  backend (median of 5 batches, one process), plus Redis ``PING`` as the floor of
  one network round trip on this machine.
* ``throughput_eps``: events/s with 1 and 8 OS processes recording at once on each
  backend (wall clock from the common start to the last event). Counts are checked
  afterwards: a run that lost an update is void.
* ``ratios``: JSON / Redis per event, Redis / JSON at 8 processes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_state import _event, _time_us
from collabiq_llm.settings import BreakerSettings
from collabiq_llm.state.api import StateStore
from collabiq_llm.state.json_store import JsonStateStore
from collabiq_llm.state.redis_store import RedisStateStore

CLOSED = BreakerSettings(failure_threshold=10**9)  # every event takes the same path


def _store(spec: dict[str, str]) -> StateStore:
    if spec["backend"] == "json":
        return JsonStateStore(Path(spec["dir"]), CLOSED, lock_timeout_s=60)
    # a generous timeout: the benchmark measures throughput, not the fallback
    return RedisStateStore(spec["url"], CLOSED, spool_dir=Path(spec["spool"]), op_timeout_s=5.0)


def _calls(store: StateStore) -> int:
    return sum(p.calls for p in store.snapshot().providers.values())


def _warm(spec: dict[str, str], n: int = 600) -> StateStore:
    """A realistic state: 3 providers with full latency windows."""
    store = _store(spec)
    for i in range(n):
        store.record_call(_event(i))
    return store


def _single(spec: dict[str, str], n: int) -> dict[str, float]:
    store = _warm(spec)
    counter = iter(range(10**9))
    out = {
        "record_call": round(_time_us(lambda: store.record_call(_event(next(counter))), n), 1),
        "acquire_closed": round(_time_us(lambda: store.acquire("claude"), n), 1),
    }
    if isinstance(store, RedisStateStore):
        client = store._client()
        out["baseline_ping"] = round(_time_us(client.ping, n), 1)
    return out


def _worker(spec: dict[str, str], n: int, offset: int, ready: Any, go: Any, out: Any) -> None:
    store = _store(spec)
    store.acquire("claude")  # connect before the clock starts
    ready.wait()
    go.wait()
    start = time.monotonic()
    for i in range(n):
        store.record_call(_event(offset + i))
    out.put((start, time.monotonic()))


def _throughput(spec: dict[str, str], procs: int, n: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    before = _calls(_warm(spec))
    ready, go, out = ctx.Barrier(procs + 1), ctx.Event(), ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(spec, n, k * n, ready, go, out)) for k in range(procs)
    ]
    for w in workers:
        w.start()
    ready.wait()
    go.set()
    spans = [out.get(timeout=600) for _ in workers]
    for w in workers:
        w.join()
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    assert _calls(_store(spec)) == before + procs * n, "lost updates: the run is void"
    return {"events": procs * n, "seconds": round(wall, 3), "eps": round(procs * n / wall, 1)}


def run(quick: bool = False) -> dict[str, Any]:
    """Measure and return the figures (see module docstring)."""
    from tests.support.redis_server import RedisServer, redis_server_binary

    if redis_server_binary() is None:
        return {"benchmark": "state_redis_vs_json", "skipped": "redis-server not installed"}
    n_single = 300 if quick else 2000
    n_proc = 100 if quick else 400
    with tempfile.TemporaryDirectory(prefix="collabiq-bench-") as tmp, RedisServer() as server:
        folder = Path(tmp)

        def spec(backend: str, name: str) -> dict[str, str]:
            return {
                "backend": backend,
                "dir": str(folder / name),
                "url": server.url(name),
                "spool": str(folder / "spool"),
            }

        single = {b: _single(spec(b, f"single-{b}"), n_single) for b in ("json", "redis")}
        throughput = {
            b: {str(p): _throughput(spec(b, f"procs-{p}-{b}"), p, n_proc) for p in (1, 8)}
            for b in ("json", "redis")
        }
    eps = {b: {p: t["eps"] for p, t in per.items()} for b, per in throughput.items()}
    return {
        "benchmark": "state_redis_vs_json",
        "quick": quick,
        "per_event_us": single,
        "throughput_eps": eps,
        "ratios": {
            "record_call_json_over_redis": round(
                single["json"]["record_call"] / single["redis"]["record_call"], 2
            ),
            "acquire_closed_json_over_redis": round(
                single["json"]["acquire_closed"] / single["redis"]["acquire_closed"], 2
            ),
            "redis_record_call_over_ping": round(
                single["redis"]["record_call"] / single["redis"]["baseline_ping"], 2
            ),
            "eps_8_processes_redis_over_json": round(eps["redis"]["8"] / eps["json"]["8"], 2),
            "eps_redis_8_over_1_process": round(eps["redis"]["8"] / eps["redis"]["1"], 2),
        },
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
