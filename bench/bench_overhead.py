"""Orchestrator overhead per extraction: ``Orchestrator.aextract`` against the same provider's
``aextract`` (the same SDK call, prompt and parsing) on the same 0-latency emulator.

    python -m bench.bench_overhead [--quick]

Calls alternate (direct, then each orchestrator variant) so each pair sees the same
load; the figure is the median of the per-pair differences. The state store's writes
(group-committed as in production: one locked, fsync'd write per file per second) are
orchestrator work and are included in the headline figure; two variants show how much
of it is that I/O: the store on tmpfs (``/dev/shm``: same code, fsync nearly free) and
an in-memory store stub (no state I/O at all). The emulator runs in its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import ROOT, median, memory_store, row, sample_email

TARGET_MS = 1.0


@contextlib.contextmanager
def standalone_emulator(flavour: str, latency_ms: float = 0.0) -> Iterator[tuple[str, str]]:
    """``python -m tests.emulators`` in a subprocess; yields (base URL, key)."""
    cmd = [sys.executable, "-m", "tests.emulators", "--flavour", flavour]
    proc = subprocess.Popen(
        [*cmd, "--latency-ms", str(latency_ms)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url, key = proc.stdout.readline().strip(), proc.stdout.readline().strip()
        if not url:
            raise RuntimeError("emulator did not start")
        yield url, key
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _provider(url: str, key: str):
    from pydantic import SecretStr

    from collabiq_llm.providers.registry import provider_class
    from collabiq_llm.settings import ProviderConfig

    cfg = ProviderConfig(
        name="claude", kind="claude", model="claude-sonnet-4-6", base_url=url, timeout_s=10.0
    )
    return provider_class("claude")(cfg, api_key=SecretStr(key))


async def _measure(url: str, key: str, n: int, folders: dict[str, Path | None]) -> dict[str, Any]:
    from collabiq_llm.orchestration.orchestrator import Orchestrator
    from collabiq_llm.settings import Settings
    from collabiq_llm.state.json_store import COMMIT_INTERVAL_S, JsonStateStore

    settings = Settings()
    provider = _provider(url, key)
    email = sample_email()
    orchestrators = {}
    for name, folder in folders.items():
        store = (
            memory_store()
            if folder is None
            else JsonStateStore(
                folder, settings.breaker, cost=settings.cost, commit_interval_s=COMMIT_INTERVAL_S
            )
        )
        orchestrators[name] = Orchestrator(settings, store=store, providers={"claude": provider})
    for _ in range(10):  # SDK import, client, connection, .pyc, state files
        await provider.aextract(email)
        for orch in orchestrators.values():
            await orch.aextract(email, "failover")
    direct: list[float] = []
    via: dict[str, list[float]] = {name: [] for name in orchestrators}
    for _ in range(n):
        t0 = time.perf_counter()
        await provider.aextract(email)
        direct.append(time.perf_counter() - t0)
        for name, orch in orchestrators.items():
            t0 = time.perf_counter()
            await orch.aextract(email, "failover")
            via[name].append(time.perf_counter() - t0)
    await provider.aclose()
    out: dict[str, Any] = {"direct_ms": round(median(direct) * 1000, 3)}
    for name, times in via.items():
        diffs = [(o - d) * 1000 for o, d in zip(times, direct, strict=True)]
        out[name] = {
            "orchestrated_ms": round(median(times) * 1000, 3),
            "added_ms": round(median(diffs), 3),
            "ratio": round(median(times) / median(direct), 3),
        }
    return out


def run(quick: bool = False) -> dict[str, Any]:
    """Median added milliseconds per extraction, per state-store variant."""
    n = 40 if quick else 300
    shm = Path("/dev/shm")
    with contextlib.ExitStack() as stack:
        disk = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="collabiq-ovh-")))
        folders: dict[str, Path | None] = {"disk": disk / "state"}
        if shm.is_dir():
            tmpfs = stack.enter_context(tempfile.TemporaryDirectory(dir=shm, prefix="collabiq-"))
            folders["tmpfs"] = Path(tmpfs) / "state"
        folders["memory"] = None
        url, key = stack.enter_context(standalone_emulator("anthropic"))
        figures = asyncio.run(_measure(url, key, n, folders))
    direct = figures["direct_ms"]
    labels = {
        "disk": "Orchestrator overhead per extraction (JSON state on disk, fsync'd)",
        "tmpfs": "… same, state folder on tmpfs (fsync ~free)",
        "memory": "… same, in-memory store stub (state I/O excluded)",
    }
    rows = []
    for name, label in labels.items():
        if name not in figures:
            continue
        f = figures[name]
        rows.append(
            row(
                label,
                f"+{f['added_ms']:.2f} ms ({f['orchestrated_ms']:.2f} ms)",
                f"direct `provider.aextract` {direct:.2f} ms",
                f["ratio"],
                f"≤ +{TARGET_MS:g} ms",
                f["added_ms"] <= TARGET_MS,
                orchestrated_ms=f["orchestrated_ms"],
                added_ms=f["added_ms"],
                direct_ms=direct,
            )
        )
    return {
        "benchmark": "orchestrator_overhead",
        "calls": n,
        "state_dirs": {k: str(v) if v else "memory" for k, v in folders.items()},
        "figures": figures,
        "rows": rows,
    }


if __name__ == "__main__":
    from bench.common import script_main

    sys.exit(script_main(run, __doc__))
