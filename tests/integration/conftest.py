"""Helpers for the orchestrator integration tests: real SDKs, real HTTP, the emulators.

Nothing here is autouse: the state-store tests in this folder are unaffected.

* :func:`orchestrator_for` builds an :class:`Orchestrator` over ready-made providers
  (``make_provider(emu, ...)``) and a :class:`JsonStateStore` in the test's
  ``COLLABIQ_HOME``, with one injected :class:`FakeClock` for the store and the
  orchestrator, so breaker cooldowns pass without sleeping.
* :func:`warm_up` builds each provider's SDK client on the running event loop with
  one direct provider call (no state recorded), so timings measure failover and not
  the first client's construction or the SDK import.
* :func:`closed_port` gives a loopback port nothing listens on (connection refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

from collabiq_llm.email.input import EmailInput
from collabiq_llm.errors import LLMAPIError
from collabiq_llm.orchestration.orchestrator import Orchestrator
from collabiq_llm.providers.base import LLMProvider
from collabiq_llm.settings import Settings, normalise_strategy
from collabiq_llm.state.json_store import JsonStateStore
from tests.emulators import Behaviour, Emulator
from tests.emulators.fixtures import KIND_FOR_FLAVOUR, make_provider

T = TypeVar("T")

T0 = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.UTC)

SAMPLE_TEXT = (
    "제목: 본봄 x 신세계인터내셔널 파일럿 킥오프\n"
    "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. "
    "11월 1주에 PoC 시작 예정이며, 세부 일정은 추후 공유드리겠습니다.\n담당자: 김철수"
)
SAMPLE_EMAIL = EmailInput(text=SAMPLE_TEXT, received_at=dt.date(2025, 11, 2))
WARM_UP_EMAIL = EmailInput(text="warm-up: 본봄 미팅", received_at=dt.date(2025, 11, 2))

PRICES_PER_M: dict[str, tuple[float, float]] = {
    "claude-sonnet-4-6": (3.00, 15.00),
    "gpt-5-mini": (0.25, 2.00),
    "gemini-2.5-flash": (0.30, 2.50),
}
"""USD per 1 M tokens (input, output), copied by hand from config/collabiq.toml."""

MODEL_FOR_KIND: dict[str, str] = {
    "claude": "claude-sonnet-4-6",
    "openai": "gpt-5-mini",
    "gemini": "gemini-2.5-flash",
}


def expected_cost(model: str, input_tokens: int = 120, output_tokens: int = 40) -> float:
    """The cost of one call, by hand: tokens × USD per 1 M tokens.

    The emulators report (120, 40) tokens per successful answer by default.
    """
    price_in, price_out = PRICES_PER_M[model]
    return (input_tokens * price_in + output_tokens * price_out) / 1_000_000


class FakeClock:
    """Wall clock for the store and the orchestrator; ``advance`` moves it instantly."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def settings_with(**overrides: Any) -> Settings:
    """``Settings()`` (shipped defaults) with top-level overrides.

    A dict for a nested section updates only the keys given, e.g.
    ``settings_with(failover={"hedge": False})``.
    """
    base = Settings()
    update: dict[str, Any] = {}
    for key, value in overrides.items():
        current = getattr(base, key)
        if isinstance(value, dict) and isinstance(current, BaseModel):
            update[key] = current.model_copy(update=value)
        elif key == "strategy":
            update[key] = normalise_strategy(value)
        else:
            update[key] = value
    return base.model_copy(update=update)


def orchestrator_for(
    *providers: LLMProvider,
    strategy: str = "failover",
    clock: FakeClock | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    **overrides: Any,
) -> Orchestrator:
    """An orchestrator over ``providers`` (priority = argument order) and a JSON store.

    ``overrides`` go to :func:`settings_with`. The offline last resort is built by
    the orchestrator from the shipped config when it is needed.
    """
    settings = settings_with(strategy=strategy, **overrides)
    clock = clock or FakeClock()
    store = JsonStateStore(settings.state_dir, settings.breaker, cost=settings.cost, clock=clock)
    return Orchestrator(
        settings,
        store=store,
        providers={p.provider_name: p for p in providers},
        now=clock,
        sleep=sleep or asyncio.sleep,
    )


class RecordingSleep:
    """The orchestrator's injected ``sleep``: records every requested wait, then yields.

    Tests check *which* waits the strategy asked for (a retry-after honoured once,
    no back-off before a failover) instead of timing the run on a busy machine.
    """

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(seconds)


def all_at_once(behaviours: dict[str, Behaviour], timeout_s: float = 10.0) -> dict[str, Behaviour]:
    """Each emulator holds its request until every one of them has arrived, then behaves as given.

    Calls made one after another would never all be in flight together: the barrier
    breaks after ``timeout_s`` and every emulator answers 500, so the test fails.
    That checks "in parallel" without reading a clock.
    """
    barrier = threading.Barrier(len(behaviours), timeout=timeout_s)

    def gate(behaviour: Behaviour) -> Behaviour:
        def held(_req: Any) -> Behaviour:
            barrier.wait()
            return behaviour

        return Behaviour.respond(held)

    return {name: gate(b) for name, b in behaviours.items()}


def remote(
    emu: Emulator, kind: str | None = None, *, timeout_s: float | None = None, **overrides: Any
) -> LLMProvider:
    """The real provider for ``emu``; the timeout defaults to the shipped config's (30 s)."""
    kind = kind or KIND_FOR_FLAVOUR[emu.flavour.name]
    if timeout_s is None:
        timeout_s = Settings().provider(kind).timeout_s
    return make_provider(emu, kind, timeout_s=timeout_s, **overrides)


def closed_port() -> int:
    """A loopback port that refuses connections (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refusing(template: Emulator, **overrides: Any) -> LLMProvider:
    """A provider of ``template``'s wire format aimed at a closed port (nothing reaches it)."""
    url = template.base_url.replace(f":{template.port}", f":{closed_port()}")
    return remote(template, base_url=url, **overrides)


async def warm_up(*providers: LLMProvider) -> None:
    """Build each provider's SDK client on this loop with one direct call (not recorded).

    Failures are ignored (a provider aimed at a closed port still builds its client).
    Callers then ``emu.reset()`` so request counts start at zero.
    """
    for p in providers:
        with contextlib.suppress(LLMAPIError):
            await p.aextract(WARM_UP_EMAIL)


async def timed(awaitable: Awaitable[T]) -> tuple[T, float]:
    """``(result, seconds)`` of one awaited call, measured with ``perf_counter``."""
    started = time.perf_counter()
    result = await awaitable
    return result, time.perf_counter() - started


def run_in_loop(orch: Orchestrator, body: Callable[[], Awaitable[T]]) -> T:
    """Run ``body`` in one event loop (SDK clients are per loop), then close the clients."""

    async def main() -> T:
        try:
            return await body()
        finally:
            await orch.aclose()

    return asyncio.run(main())


@pytest.fixture(scope="session")
def sdks_imported() -> None:
    """Import the three SDKs once, as ``preload_sdk`` does in production at start-up.

    Tests that do not warm up their clients still must not pay ``import anthropic``
    (~0.7 s) inside a timed call: in production the orchestrator preloads it in the
    background when it builds its providers; injected providers skip that.
    """
    for module in ("anthropic", "openai", "google.genai", "google.genai.errors"):
        importlib.import_module(module)


@pytest.fixture
def trio(emulator_factory: Callable[..., Emulator]) -> Iterator[dict[str, Emulator]]:
    """One started emulator per flavour: ``{"gemini": ..., "claude": ..., "openai": ...}``."""
    yield {
        "gemini": emulator_factory("gemini"),
        "claude": emulator_factory("anthropic"),
        "openai": emulator_factory("openai"),
    }
