"""In-process overhead against a peer: our orchestrator vs LiteLLM's ``Router``.

    python -m bench.bench_peer [--quick]      # needs the bench group: make bench

One OpenAI-compatible (Chat Completions) emulator in its own process, answering at
once; one event loop; four calls alternate so every one sees the same load:

* bare ``openai`` SDK ``chat.completions.create`` (the baseline for LiteLLM),
* LiteLLM ``Router.acompletion`` for the same model and endpoint (no retries),
* our provider's ``aextract`` (same SDK call + our prompt and output parsing),
* ``Orchestrator.aextract`` over that provider (failover strategy, JSON state on disk
  with the production group-commit settings).

Overhead = median of the per-round differences: Router − bare SDK, and
Orchestrator − provider. Both are "what the routing layer adds to one call".
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_overhead import standalone_emulator
from bench.common import median, row, sample_email

MODEL = "gpt-5-mini"


async def _measure(url: str, key: str, n: int, state: Path) -> dict[str, Any]:
    import litellm
    import openai
    from pydantic import SecretStr

    from collabiq_llm.orchestration.orchestrator import Orchestrator
    from collabiq_llm.prompt import build_prompt
    from collabiq_llm.providers.registry import provider_class
    from collabiq_llm.settings import ProviderConfig, Settings
    from collabiq_llm.state.json_store import COMMIT_INTERVAL_S, JsonStateStore

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    email = sample_email()
    system, user = build_prompt(email)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    sdk = openai.AsyncOpenAI(base_url=url, api_key=key, max_retries=0, timeout=10)
    router = litellm.Router(
        model_list=[
            {
                "model_name": "extract",
                "litellm_params": {"model": f"openai/{MODEL}", "api_base": url, "api_key": key},
            }
        ],
        num_retries=0,
    )
    cfg = ProviderConfig(
        name="openai", kind="openai", api="chat", model=MODEL, base_url=url, timeout_s=10.0
    )
    provider = provider_class("openai")(cfg, api_key=SecretStr(key))
    settings = Settings()
    store = JsonStateStore(
        state, settings.breaker, cost=settings.cost, commit_interval_s=COMMIT_INTERVAL_S
    )
    orch = Orchestrator(settings, store=store, providers={"openai": provider})

    async def bare() -> None:
        await sdk.chat.completions.create(model=MODEL, messages=messages)  # type: ignore[arg-type]

    async def via_router() -> None:
        await router.acompletion(model="extract", messages=messages)

    async def ours_direct() -> None:
        await provider.aextract(email)

    async def ours() -> None:
        await orch.aextract(email, "failover")

    calls = {"bare": bare, "router": via_router, "provider": ours_direct, "orchestrator": ours}
    for _ in range(10):  # imports, clients, connections, caches
        for fn in calls.values():
            await fn()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(n):
        for name, fn in calls.items():
            t0 = time.perf_counter()
            await fn()
            times[name].append(time.perf_counter() - t0)
    await orch.aclose()
    await sdk.close()

    def added(a: str, b: str) -> float:
        return median([(x - y) * 1000 for x, y in zip(times[a], times[b], strict=True)])

    return {
        "median_ms": {name: round(median(t) * 1000, 3) for name, t in times.items()},
        "router_added_ms": round(added("router", "bare"), 3),
        "orchestrator_added_ms": round(added("orchestrator", "provider"), 3),
        "litellm_version": getattr(litellm, "__version__", None) or _version("litellm"),
    }


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def run(quick: bool = False) -> dict[str, Any]:
    """Median added ms per call: Orchestrator over provider vs Router over bare SDK."""
    try:
        import litellm  # noqa: F401
    except ImportError:
        return {
            "benchmark": "peer_litellm",
            "skipped": "litellm is not installed (make bench installs the bench group)",
            "rows": [],
        }
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch from the internet
    n = 30 if quick else 200
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="collabiq-peer-")))
        url, key = stack.enter_context(standalone_emulator("openai"))
        figures = asyncio.run(_measure(url, key, n, tmp / "state"))
    ours, theirs = figures["orchestrator_added_ms"], figures["router_added_ms"]
    return {
        "benchmark": "peer_litellm",
        "calls": n,
        **figures,
        "rows": [
            row(
                "In-process overhead per call: Orchestrator (JSON state on disk) vs "
                f"LiteLLM Router {figures['litellm_version']}",
                f"+{ours:.2f} ms",
                f"Router +{theirs:.2f} ms over the bare `openai` SDK",
                ours / theirs if theirs > 0 else None,
                "< Router's",
                ours < theirs,
                orchestrator_added_ms=ours,
                router_added_ms=theirs,
            )
        ],
    }


if __name__ == "__main__":
    from bench.common import script_main

    sys.exit(script_main(run, __doc__))
