"""Shared, durable state: breakers, health and costs (see ``state/api.py`` for the interface).

``make_store(settings)`` picks the backend from ``settings.state_url``:

* unset, or ``file://`` → JSON files in ``settings.state_dir``;
* ``file:///some/dir`` → JSON files in that folder;
* ``redis://`` → not available yet (a later issue adds it behind the same interface).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from collabiq_llm.errors import ConfigurationError

if TYPE_CHECKING:
    from collabiq_llm.settings import Settings
    from collabiq_llm.state.api import StateStore

__all__ = ["make_store"]


def make_store(settings: Settings) -> StateStore:
    """The state store the settings ask for."""
    url = (settings.state_url or "").strip()
    if not url or url.startswith("file://"):
        from collabiq_llm.state.json_store import JsonStateStore

        raw = url.removeprefix("file://")
        folder = Path(raw).expanduser() if raw else settings.state_dir
        return JsonStateStore(folder, settings.breaker, cost=settings.cost)
    if url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError("redis backend not available yet; unset COLLABIQ_STATE_URL")
    raise ConfigurationError(
        f"unsupported state_url {url!r}: use file:///path/to/dir (or leave it unset)"
    )
