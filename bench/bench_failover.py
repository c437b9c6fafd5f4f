"""Failover time-to-answer: the real orchestrator and SDKs, primary broken three ways.

    python -m bench.bench_failover [--quick]

Primary ``gemini`` (a) answers 503, (b) refuses connections (a closed port), (c) hangs
(no first byte); secondary ``claude`` answers after a fixed 100 ms. Default failover
settings: providers stream, and with no history a call with no first event after
``first_byte_default_s`` = 1.5 s is hung and failed over. Each repetition uses a fresh
state folder (breaker closed, no history): the first-encounter case, not the
steady state where an open breaker skips the primary outright. Providers are warmed
(SDK import, client, connection) outside the timed region. Baseline, measured in the
same run: the secondary alone through the same orchestrator.

Slow but healthy primary (issue 12): ``gemini`` answers correctly in 2.5 s — streamed
(first event after 50 ms, then the answer over 2.5 s) or, for a server that cannot
stream, whole after 2.5 s — and the secondary in 100 ms; 10 emails in a row through
one state folder. Reported: who answered, hedges used vs the budget, the primary's
recorded failures and breaker, and time per email vs the primary alone (same run).

The gateway figures (LiteLLM Router, Portkey) are their published numbers, quoted for
comparison; they were not measured here.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import closed_port, median, ms, row, sample_email, secs

SECONDARY_LATENCY_S = 0.1
ADDED_TARGET_S = 0.05
HANG_TARGET_S = 2.0
PUBLISHED = {  # seconds to an answer; published by the gateways, not measured here
    "503": {"LiteLLM Router": 5.8, "Portkey": 4.0},
    "hang": {"LiteLLM Router": 96.0, "Portkey": 31.0},
}


def _providers(primary_url: str, primary_key: str, secondary_url: str, secondary_key: str):
    from pydantic import SecretStr

    from collabiq_llm.providers.registry import provider_class
    from collabiq_llm.settings import ProviderConfig

    gemini = ProviderConfig(
        name="gemini", kind="gemini", model="gemini-2.5-flash", base_url=primary_url
    )
    claude = ProviderConfig(
        name="claude", kind="claude", model="claude-sonnet-4-6", base_url=secondary_url
    )
    return (
        provider_class("gemini")(gemini, api_key=SecretStr(primary_key)),
        provider_class("claude")(claude, api_key=SecretStr(secondary_key)),
    )


async def _timed(providers: dict, email: Any, tmp: Path, tag: str) -> tuple[float, Any]:
    from collabiq_llm.orchestration.orchestrator import Orchestrator
    from collabiq_llm.settings import Settings
    from collabiq_llm.state.json_store import JsonStateStore

    settings = Settings()
    folder = Path(tempfile.mkdtemp(dir=tmp, prefix=f"{tag}-"))
    orch = Orchestrator(
        settings,
        store=JsonStateStore(folder, settings.breaker, cost=settings.cost),
        providers=providers,
    )
    started = time.perf_counter()
    result = await orch.aextract(email, "failover")
    return time.perf_counter() - started, result


async def _scenario(case: str, reps: int, tmp: Path) -> dict[str, Any]:
    from tests.emulators import Behaviour, Emulator

    email = sample_email()
    secondary = Emulator("anthropic", default=Behaviour.ok(latency_s=SECONDARY_LATENCY_S)).start()
    primary_emu = None
    try:
        if case == "refused":
            url, key = f"http://127.0.0.1:{closed_port()}", "unused-key"
        else:
            broken = Behaviour.status(503) if case == "503" else Behaviour.hang(max_s=60)
            primary_emu = Emulator("gemini", default=broken).start()
            primary_emu.enqueue(Behaviour.ok())  # the warm-up call
            url, key = primary_emu.base_url, primary_emu.api_key
        gemini, claude = _providers(url, key, secondary.base_url, secondary.api_key)
        for provider in (gemini, claude):  # warm: SDK import, client, keep-alive connection
            with contextlib.suppress(Exception):  # the refused primary fails; its client is built
                await provider.aextract(email)
        base, times, answered = [], [], []
        for i in range(reps):
            t_base, _ = await _timed({"claude": claude}, email, tmp, f"base{i}")
            base.append(t_base)
            t, result = await _timed({"gemini": gemini, "claude": claude}, email, tmp, f"{case}{i}")
            times.append(t)
            answered.append(result.meta.provider)
        await gemini.aclose()
        await claude.aclose()
    finally:
        secondary.stop()
        if primary_emu is not None:
            primary_emu.stop()
    return {
        "case": case,
        "reps": reps,
        "time_to_answer_s": round(median(times), 4),
        "secondary_alone_s": round(median(base), 4),
        "all_s": [round(t, 4) for t in times],
        "answered_by": sorted(set(answered)),
    }


SLOW_PRIMARY_S = 2.5


async def _slow_primary(stream: bool, emails: int, tmp: Path) -> dict[str, Any]:
    """10 emails through one state folder; the primary slow but correct, streamed or not."""
    from collabiq_llm.orchestration.orchestrator import Orchestrator
    from collabiq_llm.settings import Settings
    from collabiq_llm.state.json_store import JsonStateStore
    from tests.emulators import Behaviour, Emulator

    email = sample_email()
    slow = Behaviour.ok(latency_s=0.05).streaming(SLOW_PRIMARY_S - 0.05)
    if not stream:
        slow = Behaviour.ok(latency_s=SLOW_PRIMARY_S)
    primary_emu = Emulator("gemini", default=slow).start()
    secondary = Emulator("anthropic", default=Behaviour.ok(latency_s=SECONDARY_LATENCY_S)).start()
    try:
        primary_emu.enqueue(Behaviour.ok())  # the warm-up call
        gemini, claude = _providers(
            primary_emu.base_url, primary_emu.api_key, secondary.base_url, secondary.api_key
        )
        gemini.config.stream = stream
        for provider in (gemini, claude):
            await provider.aextract(email)
        alone_s, _ = await _timed({"gemini": gemini}, email, tmp, f"alone-{stream}")
        settings = Settings()
        folder = Path(tempfile.mkdtemp(dir=tmp, prefix=f"slow-{stream}-"))
        store = JsonStateStore(folder, settings.breaker, cost=settings.cost)
        orch = Orchestrator(settings, store=store, providers={"gemini": gemini, "claude": claude})
        times, answered, hedged = [], [], 0
        for _ in range(emails):
            started = time.perf_counter()
            result = await orch.aextract(email, "failover")
            times.append(time.perf_counter() - started)
            answered.append(result.meta.provider)
            hedged += int(result.meta.hedged)
        snap = store.snapshot().providers
        await gemini.aclose()
        await claude.aclose()
    finally:
        primary_emu.stop()
        secondary.stop()
    cfg = settings.failover
    calls = sum(p.calls for p in snap.values())
    gem = snap["gemini"]
    return {
        "stream": stream,
        "emails": emails,
        "answered_by_primary": answered.count("gemini"),
        "hedges": hedged,
        "hedge_budget": cfg.hedge_burst + cfg.hedge_budget * calls,
        "primary_failures": gem.failures,
        "primary_cancelled": gem.cancelled,
        "primary_breaker": gem.breaker,
        "per_email_s": round(median(times), 4),
        "primary_alone_s": round(alone_s, 4),
        "all_s": [round(t, 4) for t in times],
    }


def _slow_rows(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for key, label in (
        ("slow-stream", "Slow healthy primary, streamed (2.5 s answer), 10 emails"),
        ("slow-plain", "Slow healthy primary, not streamed (2.5 s), 10 emails"),
    ):
        r = results.get(key)
        if r is None:
            continue
        met = (
            r["primary_failures"] == 0
            and r["primary_breaker"] == "closed"
            and r["hedges"] <= r["hedge_budget"]
        )
        rows.append(
            row(
                label,
                f"{r['answered_by_primary']}/{r['emails']} by primary, "
                f"{r['hedges']} hedges, {r['primary_failures']} failures, "
                f"{secs(r['per_email_s'])}/email",
                f"primary alone {secs(r['primary_alone_s'])}; hedge budget {r['hedge_budget']:.1f}",
                r["per_email_s"] / r["primary_alone_s"] if r["primary_alone_s"] else None,
                "breaker closed, 0 failures, hedges ≤ budget",
                met,
                **{k: v for k, v in r.items() if k != "all_s"},
            )
        )
    return rows


def _rows(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    labels = {
        "503": "Failover (a): primary returns 503",
        "refused": "Failover (b): primary refuses connections",
        "hang": "Failover (c): primary hangs (no first event: hung at 1.5 s)",
    }
    rows = []
    for case, label in labels.items():
        r = results[case]
        t, base = r["time_to_answer_s"], r["secondary_alone_s"]
        if case == "hang":
            target, met = f"< {HANG_TARGET_S:g} s", t < HANG_TARGET_S
        else:
            target, met = "≤ secondary + 50 ms", t <= base + ADDED_TARGET_S
        rows.append(
            row(
                label,
                f"{secs(t)} (+{ms(t - base)})",
                f"secondary alone {secs(base)}",
                t / base,
                target,
                met,
                time_to_answer_s=t,
                secondary_alone_s=base,
            )
        )
        if case in PUBLISHED:
            pub = PUBLISHED[case]
            rows.append(
                row(
                    f"… vs gateways ({'persistent 503' if case == '503' else 'hung provider'})",
                    secs(t),
                    " · ".join(f"{k} {v:g} s" for k, v in pub.items())
                    + " (published, not measured here)",
                    t / next(iter(pub.values())),
                    ratio_text=" · ".join(f"{t / v:.3f}× {k.split()[0]}" for k, v in pub.items()),
                    time_to_answer_s=t,
                    published_s=pub,
                )
            )
    return rows


def run(quick: bool = False) -> dict[str, Any]:
    """Median time to answer per case, with the secondary-alone baseline of the same run."""
    reps = {"503": 2, "refused": 2, "hang": 1} if quick else {"503": 15, "refused": 15, "hang": 5}
    emails = 3 if quick else 10
    with tempfile.TemporaryDirectory(prefix="collabiq-failover-") as tmp:
        results = {case: asyncio.run(_scenario(case, n, Path(tmp))) for case, n in reps.items()}
        for key, stream in (("slow-stream", True), ("slow-plain", False)):
            results[key] = asyncio.run(_slow_primary(stream, emails, Path(tmp)))
    return {
        "benchmark": "failover",
        "secondary_latency_s": SECONDARY_LATENCY_S,
        "first_byte_default_s": 1.5,
        "results": results,
        "published_gateways": PUBLISHED,
        "rows": _rows(results) + _slow_rows(results),
    }


if __name__ == "__main__":
    from bench.common import script_main

    sys.exit(script_main(run, __doc__))
