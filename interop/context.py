"""What every case needs: the targets under test, the peer emulators, fresh homes."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collabiq_llm.evaluation.dataset import EvalExample
from collabiq_llm.settings import ProviderConfig
from interop.cli import Home
from tests.emulators import Emulator

LOCAL_KEY_ENV = "INTEROP_LOCAL_KEY"
LOCAL = "local"  # the provider name the local endpoint gets in every case
SLOW_LOCAL_TABLES: dict[str, dict[str, Any]] = {
    "failover": {"deadline_s": 300.0},
    "best_match": {"window_s": 150.0},
}
"""What a user of a small local model on a busy CPU sets: the defaults (60 s per email,
30 s best-match window) assume hosted models. Cases about default behaviour leave them."""


@dataclass(frozen=True)
class Target:
    """An OpenAI-compatible endpoint under test: llama-server itself, or LiteLLM before it."""

    label: str
    base_url: str  # ending in /v1
    model: str
    api_key: str = "sk-interop-none"


@dataclass
class Ctx:
    run_dir: Path
    emails: list[EvalExample]
    gemini: Emulator  # truthful oracle peer
    claude: Emulator  # truthful oracle peer
    _homes: int = field(default=0)

    def home(
        self,
        slug: str,
        providers: Mapping[str, Mapping[str, Any]],
        priority: Iterable[str],
        *,
        strategy: str = "failover",
        top: Mapping[str, Any] | None = None,
        tables: Mapping[str, Mapping[str, Any]] | None = None,
        env: Mapping[str, str] | None = None,
        key: str = "sk-interop-none",
        slow_local: bool = True,
    ) -> Home:
        """A new isolated COLLABIQ_HOME holding exactly these providers.

        ``slow_local``: apply ``SLOW_LOCAL_TABLES`` (off for cases about the defaults).
        """
        self._homes += 1
        path = self.run_dir / "homes" / f"{self._homes:02d}-{slug}"
        all_tables: dict[str, dict[str, Any]] = dict(SLOW_LOCAL_TABLES) if slow_local else {}
        all_tables.update({f"providers.{n}": dict(cfg) for n, cfg in providers.items()})
        all_tables.update(tables or {})
        top_keys = {"strategy": strategy, "priority": list(priority), **(top or {})}
        home_env = {LOCAL_KEY_ENV: key}
        home_env.update(self.peer_env())
        home_env.update(env or {})
        return Home.create(path, top_keys, all_tables, home_env)

    def peer_env(self) -> dict[str, str]:
        return {
            "INTEROP_GEMINI_KEY": self.gemini.api_key,
            "INTEROP_CLAUDE_KEY": self.claude.api_key,
        }

    def peers(self) -> dict[str, dict[str, Any]]:
        """The emulated gemini and claude providers (truthful, ~0.1 s)."""
        return {
            "gemini": {
                "kind": "gemini",
                "model": "gemini-2.5-flash",
                "base_url": self.gemini.base_url,
                "api_key_env": ["INTEROP_GEMINI_KEY"],
                "timeout_s": 30.0,
            },
            "claude": {
                "kind": "claude",
                "model": "claude-sonnet-4-6",
                "base_url": self.claude.base_url,
                "api_key_env": ["INTEROP_CLAUDE_KEY"],
                "timeout_s": 30.0,
            },
        }


def local_provider(target: Target, api: str = "chat", **extra: Any) -> dict[str, Any]:
    """The endpoint as a user would configure it (README "Extra OpenAI-compatible endpoints").

    ``timeout_s = 120``: a small model on 2 shared cores takes seconds per answer.
    ``max_output_tokens = 512``: the record is ~150 tokens; a looping model is cut off.
    """
    cfg: dict[str, Any] = {
        "kind": "openai",
        "api": api,
        "base_url": target.base_url,
        "model": target.model,
        "api_key_env": [LOCAL_KEY_ENV],
        "key_required": False,
        "timeout_s": 120.0,
        "max_output_tokens": 512,
    }
    cfg.update(extra)
    return cfg


def product_supports(setting: str) -> bool:
    """Whether the product's provider config knows ``setting`` (else TOML silently drops it)."""
    return setting in ProviderConfig.model_fields


def median(values: Iterable[float]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def attempts_of(result: Mapping[str, Any], provider: str) -> list[dict[str, Any]]:
    return [a for a in result.get("meta", {}).get("attempts", []) if a.get("provider") == provider]


def success_latency(results: Iterable[Mapping[str, Any]], provider: str = LOCAL) -> float | None:
    """Median latency of ``provider``'s successful calls across results."""
    return median(
        a["latency_ms"]
        for r in results
        for a in attempts_of(r, provider)
        if a.get("outcome") == "success" and a.get("latency_ms") is not None
    )
