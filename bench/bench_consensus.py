"""Consensus wall time against the slowest provider's own latency (target ≤ 1.1).

    python -m bench.bench_consensus [--quick]

Three emulators (gemini 60 ms, openai 100 ms, claude 140 ms) with the real SDKs. Each
repetition times every provider alone (``provider.aextract``, one after another), then
one consensus extraction through the orchestrator (JSON state on disk, as shipped);
the ratio is consensus time / the slowest provider alone, median over repetitions.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import median, ms, row, sample_email

LATENCIES_S = {"gemini": 0.06, "openai": 0.10, "claude": 0.14}
TARGET = 1.1


async def _measure(reps: int, folder: Path) -> dict[str, Any]:
    from collabiq_llm.orchestration.orchestrator import Orchestrator
    from collabiq_llm.settings import Settings
    from collabiq_llm.state.json_store import JsonStateStore
    from tests.emulators import Behaviour, Emulator
    from tests.emulators.fixtures import FLAVOUR_FOR_KIND, make_provider

    email = sample_email()
    emulators = {
        kind: Emulator(FLAVOUR_FOR_KIND[kind], default=Behaviour.ok(latency_s=lat)).start()
        for kind, lat in LATENCIES_S.items()
    }
    try:
        providers = {
            kind: make_provider(emu, kind, timeout_s=10) for kind, emu in emulators.items()
        }
        settings = Settings()
        orch = Orchestrator(
            settings,
            store=JsonStateStore(folder, settings.breaker, cost=settings.cost),
            providers=providers,
        )
        for provider in providers.values():  # warm: SDK import, client, connection
            await provider.aextract(email)
        await orch.aextract(email, "consensus")
        slowest, alone_by_kind, parallel, consensus = [], {k: [] for k in providers}, [], []
        for _ in range(reps):
            times = {}
            for kind, provider in providers.items():
                t0 = time.perf_counter()
                await provider.aextract(email)
                times[kind] = time.perf_counter() - t0
                alone_by_kind[kind].append(times[kind])
            slowest.append(max(times.values()))
            t0 = time.perf_counter()
            await asyncio.gather(*(p.aextract(email) for p in providers.values()))
            parallel.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            result = await orch.aextract(email, "consensus")
            consensus.append(time.perf_counter() - t0)
            assert result.meta.strategy == "consensus" and not result.meta.degraded
        await orch.aclose()
    finally:
        for emu in emulators.values():
            emu.stop()
    return {
        "consensus_s": round(median(consensus), 4),
        "slowest_alone_s": round(median(slowest), 4),
        "direct_parallel_s": round(median(parallel), 4),
        "alone_s": {k: round(median(v), 4) for k, v in alone_by_kind.items()},
        "ratio": round(median([c / s for c, s in zip(consensus, slowest, strict=True)]), 4),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Consensus wall time and the same run's slowest-provider latency."""
    reps = 3 if quick else 30
    with tempfile.TemporaryDirectory(prefix="collabiq-consensus-") as tmp:
        figures = asyncio.run(_measure(reps, Path(tmp) / "state"))
    ratio = figures["ratio"]
    return {
        "benchmark": "consensus",
        "reps": reps,
        "latencies_s": LATENCIES_S,
        "figures": figures,
        "rows": [
            row(
                "Consensus wall time (3 providers, 60/100/140 ms)",
                ms(figures["consensus_s"]),
                f"slowest provider alone {ms(figures['slowest_alone_s'])}",
                ratio,
                f"≤ {TARGET:g}×",
                ratio <= TARGET,
                **{k: v for k, v in figures.items() if k != "ratio"},
            )
        ],
    }


if __name__ == "__main__":
    from bench.common import script_main

    sys.exit(script_main(run, __doc__))
