"""Explicit provider-kind -> class map, imported lazily so no SDK loads at start-up."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from collabiq_llm.errors import ConfigurationError
from collabiq_llm.routing import provider_order
from collabiq_llm.settings import (
    ProviderConfig,
    Settings,
    provider_is_configured,
    resolve_api_key,
)

if TYPE_CHECKING:  # status reads the order without loading any provider code
    from collabiq_llm.providers.base import LLMProvider

PROVIDER_CLASSES: dict[str, str] = {
    "gemini": "collabiq_llm.providers.gemini:GeminiProvider",
    "claude": "collabiq_llm.providers.claude:ClaudeProvider",
    "openai": "collabiq_llm.providers.openai:OpenAIProvider",
    "offline": "collabiq_llm.providers.offline:OfflineProvider",
}


def provider_class(kind: str) -> type[LLMProvider]:
    try:
        module_name, class_name = PROVIDER_CLASSES[kind].split(":")
    except KeyError:
        raise ConfigurationError(f"unknown provider kind {kind!r}") from None
    return getattr(importlib.import_module(module_name), class_name)


def build_provider(
    cfg: ProviderConfig, *, company_context: str | None = None, companies_path: Path | None = None
) -> LLMProvider:
    """Instantiate a provider from its config; the SDK itself loads on first call.

    ``companies_path``: the company directory the offline provider matches against.
    """
    if cfg.kind == "offline":
        from collabiq_llm.providers.offline import OfflineProvider

        return OfflineProvider(cfg, companies_path=companies_path)
    api_key = resolve_api_key(cfg)
    if cfg.key_required and api_key is None:
        names = " or ".join(cfg.api_key_env) or "an API key"
        raise ConfigurationError(f"provider {cfg.name!r} is not configured: set {names}")
    return provider_class(cfg.kind)(cfg, api_key=api_key, company_context=company_context)


def remote_order(
    settings: Settings, explicit: list[str] | None = None, *, keep_offline: bool = False
) -> list[str]:
    """Remote providers to use, in priority order.

    With an explicit list (config ``priority`` or ``set-strategy --providers``) that
    list is used as given (the offline provider is dropped from it: it is the last
    resort, added separately; with ``keep_offline`` — consensus — it stays, as a
    voter). Otherwise: gemini -> claude -> openai, then extra configured endpoints,
    each only if its key is available.
    """
    return provider_order(
        settings.providers,
        settings.priority,
        explicit,
        provider_is_configured,
        keep_offline=keep_offline,
    )
