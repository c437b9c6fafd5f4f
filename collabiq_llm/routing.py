"""Strategy names and the provider order: plain functions over plain data.

Shared by the settings (which validate the configured strategy), the orchestrator and
``llm status``; nothing here imports pydantic, so the fast status path can use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from collabiq_llm.errors import ConfigurationError

STRATEGIES: tuple[str, ...] = ("failover", "consensus", "best-match")
STRATEGY_ALIASES: dict[str, str] = {"best_match": "best-match", "bestmatch": "best-match"}
BUILTIN_ORDER: tuple[str, ...] = ("gemini", "claude", "openai")


def normalise_strategy(name: str) -> str:
    """Canonical strategy name; raises ``ValueError`` listing the valid choices."""
    key = name.strip().lower()
    key = STRATEGY_ALIASES.get(key, key)
    if key not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}")
    return key


def provider_order(
    providers: dict[str, Any],
    priority: list[str],
    explicit: list[str] | None,
    is_configured: Callable[[Any], bool],
    *,
    keep_offline: bool = False,
) -> list[str]:
    """Remote providers to use, in priority order (see ``providers.registry.remote_order``).

    ``providers``: name -> config with ``kind``; ``is_configured(config)``: may it run.
    """
    names = explicit if explicit else list(priority)
    if names:
        unknown = [n for n in names if n not in providers]
        if unknown:
            raise ConfigurationError(
                f"unknown provider(s) {', '.join(unknown)}; configured: {', '.join(providers)}"
            )
        return [n for n in names if keep_offline or providers[n].kind != "offline"]
    extras = [n for n in providers if n not in BUILTIN_ORDER]
    ordered = [n for n in (*BUILTIN_ORDER, *extras) if n in providers]
    return [n for n in ordered if providers[n].kind != "offline" and is_configured(providers[n])]
