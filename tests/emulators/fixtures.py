"""Pytest fixtures and helpers to point real providers at the emulators.

Use from any conftest::

    from tests.emulators.fixtures import (  # noqa: F401
        anthropic_emulator, gemini_emulator, openai_emulator, emulator_factory,
    )
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from collabiq_llm.providers.base import LLMProvider
from collabiq_llm.settings import ProviderConfig
from tests.emulators.behaviour import Behaviour
from tests.emulators.server import Emulator

KIND_FOR_FLAVOUR: dict[str, str] = {"anthropic": "claude", "openai": "openai", "gemini": "gemini"}
FLAVOUR_FOR_KIND: dict[str, str] = {v: k for k, v in KIND_FOR_FLAVOUR.items()}
DEFAULT_MODELS: dict[str, str] = {
    "claude": "claude-sonnet-4-6",
    "openai": "gpt-5-mini",
    "gemini": "gemini-2.5-flash",
}
KEY_ENV: dict[str, str] = {
    "claude": "ANTHROPIC_API_KEY",
    "openai": "OPENAI_API_KEY",
    "gemini": "GEMINI_API_KEY",
}
BASE_URL_ENV: dict[str, str] = {
    "claude": "ANTHROPIC_BASE_URL",
    "openai": "OPENAI_BASE_URL",
    "gemini": "GOOGLE_GEMINI_BASE_URL",
}


def _kind(emu: Emulator, kind: str | None) -> str:
    kind = kind or KIND_FOR_FLAVOUR[emu.flavour.name]
    if FLAVOUR_FOR_KIND.get(kind) != emu.flavour.name:
        raise ValueError(
            f"provider kind {kind!r} does not speak the {emu.flavour.name} wire format"
        )
    return kind


def provider_config_for(emu: Emulator, kind: str | None = None, **overrides: Any) -> ProviderConfig:
    """A ``ProviderConfig`` aimed at ``emu`` (base URL set, short timeout, default model)."""
    kind = _kind(emu, kind)
    values: dict[str, Any] = {
        "name": kind,
        "kind": kind,
        "model": DEFAULT_MODELS[kind],
        "base_url": emu.base_url,
        "api_key_env": [KEY_ENV[kind]],
        "timeout_s": 2.0,
    }
    values.update(overrides)
    return ProviderConfig(**values)


def make_provider(
    emu: Emulator,
    kind: str | None = None,
    *,
    api: str = "responses",
    timeout_s: float = 2.0,
    api_key: str | None = None,
    company_context: str | None = None,
    **overrides: Any,
) -> LLMProvider:
    """The real provider class for ``emu``'s wire format, configured to call it.

    ``api_key`` defaults to the key the emulator expects; pass another to test auth.
    """
    from collabiq_llm.providers.registry import provider_class

    cfg = provider_config_for(emu, kind, api=api, timeout_s=timeout_s, **overrides)
    key = emu.api_key if api_key is None else api_key
    return provider_class(cfg.kind)(
        cfg, api_key=SecretStr(key) if key else None, company_context=company_context
    )


def env_for(emu: Emulator, kind: str | None = None) -> dict[str, str]:
    """Env vars that make a default-configured provider call ``emu`` (for CLI tests)."""
    kind = _kind(emu, kind)
    return {KEY_ENV[kind]: emu.api_key, BASE_URL_ENV[kind]: emu.base_url}


def _serve(flavour: str) -> Iterator[Emulator]:
    with Emulator(flavour) as emu:
        yield emu


@pytest.fixture
def anthropic_emulator() -> Iterator[Emulator]:
    """A running Anthropic Messages emulator, answering ``Behaviour.ok()`` by default."""
    yield from _serve("anthropic")


@pytest.fixture
def openai_emulator() -> Iterator[Emulator]:
    """A running OpenAI emulator (``/v1/responses`` and ``/v1/chat/completions``)."""
    yield from _serve("openai")


@pytest.fixture
def gemini_emulator() -> Iterator[Emulator]:
    """A running Gemini emulator (``/v1`` and ``/v1beta`` generateContent)."""
    yield from _serve("gemini")


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Emulator]]:
    """``emulator_factory("openai", api_key=..., default=Behaviour...)``: started, stopped after."""
    started: list[Emulator] = []

    def factory(
        flavour: str, *, api_key: str | None = None, default: Behaviour | None = None
    ) -> Emulator:
        emu = Emulator(flavour, api_key=api_key, default=default).start()
        started.append(emu)
        return emu

    yield factory
    for emu in started:
        emu.stop()
