"""Harness for the provider contract: every provider, real SDK, real HTTP, local emulator."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import secrets
import traceback
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from collabiq_llm.email.input import EmailInput
from collabiq_llm.providers.base import LLMProvider, ProviderResult
from collabiq_llm.settings import ProviderConfig
from tests.emulators import Emulator
from tests.emulators.fixtures import (  # noqa: F401 - fixtures for this package
    anthropic_emulator,
    emulator_factory,
    gemini_emulator,
    make_provider,
    openai_emulator,
)

CONTRACT_TIMEOUT_S = 1.0
"""Provider timeout of the hang tests: short, so they stay fast (they ask for it)."""
HARNESS_TIMEOUT_S = 15.0
"""Provider timeout of every other contract test: a call that answers must never fail on
a loaded machine (a fresh clone's ``make test`` saw single calls pass 1 s)."""

SAMPLE_EMAIL = EmailInput(
    text=(
        "제목: 본봄 x 신세계인터내셔널 파일럿 킥오프\n"
        "어제 신세계인터내셔널과 본봄 파일럿 킥오프 미팅을 진행했습니다. "
        "11월 1주에 PoC 시작 예정이며, 세부 일정은 추후 공유드리겠습니다.\n담당자: 김철수"
    ),
    received_at=dt.date(2025, 11, 2),
)


@dataclass(frozen=True)
class Target:
    """One way of calling a provider: kind, emulator wire format, API flavour."""

    id: str
    kind: str
    flavour: str | None
    api: str = "responses"

    @property
    def remote(self) -> bool:
        return self.flavour is not None


REMOTE_TARGETS = (
    Target("claude", "claude", "anthropic"),
    Target("openai-responses", "openai", "openai", "responses"),
    Target("openai-chat", "openai", "openai", "chat"),
    Target("gemini", "gemini", "gemini"),
)
ALL_TARGETS = (*REMOTE_TARGETS, Target("offline", "offline", None))


@dataclass
class Harness:
    """A provider wired to its emulator (``emu`` is None for offline) and the key it uses."""

    target: Target
    provider: LLMProvider
    emu: Emulator | None
    key: str | None

    def run(self, email: EmailInput = SAMPLE_EMAIL) -> ProviderResult:
        """One ``aextract`` in a fresh event loop (as the sync API does), then ``aclose``."""
        return asyncio.run(call_once(self.provider, email))


async def call_once(provider: LLMProvider, email: EmailInput) -> ProviderResult:
    try:
        return await provider.aextract(email)
    finally:
        await provider.aclose()


def new_key() -> str:
    """A key shaped like no known provider key, so only registration can redact it."""
    return "ctk-" + secrets.token_hex(12)


def offline_provider() -> LLMProvider:
    try:
        module = importlib.import_module("collabiq_llm.providers.offline")
    except ModuleNotFoundError as exc:
        if exc.name == "collabiq_llm.providers.offline":
            pytest.skip("offline provider not written yet")
        raise
    cfg = ProviderConfig(name="offline", kind="offline", model="offline-rules-1", timeout_s=5.0)
    return module.OfflineProvider(cfg, api_key=None, company_context=None)


def build_harness(target: Target, **overrides: object) -> Iterator[Harness]:
    if not target.remote:
        yield Harness(target, offline_provider(), None, None)
        return
    key = new_key()
    assert target.flavour is not None
    with Emulator(target.flavour, api_key=key) as emu:
        kwargs: dict[str, object] = {"api": target.api, "timeout_s": HARNESS_TIMEOUT_S}
        kwargs.update(overrides)
        provider = make_provider(emu, target.kind, **kwargs)  # type: ignore[arg-type]
        yield Harness(target, provider, emu, key)


@pytest.fixture(params=ALL_TARGETS, ids=lambda t: t.id)
def any_harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """Every provider, offline included."""
    yield from build_harness(request.param)


@pytest.fixture(params=REMOTE_TARGETS, ids=lambda t: t.id)
def remote_harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """Every SDK-backed provider against its emulator."""
    yield from build_harness(request.param)


@pytest.fixture(params=REMOTE_TARGETS, ids=lambda t: t.id)
def remote_target(request: pytest.FixtureRequest) -> Target:
    return request.param


@pytest.fixture(scope="session", autouse=True)
def _preload_sdks() -> None:
    """Import the SDKs once so first-call import time never counts against a timeout check."""
    for name in ("anthropic", "openai", "google.genai"):
        importlib.import_module(name)


def assert_key_absent(exc: BaseException, key: str | None) -> None:
    """The key is in none of: str, repr, snippet, full formatted traceback (causes included)."""
    if not key:
        return
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    snippet = getattr(exc, "snippet", None)
    if snippet:
        texts.append(snippet)
    for text in texts:
        assert key not in text, f"API key leaked into exception text: {text[:300]!r}"
