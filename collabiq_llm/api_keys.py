"""API key values as they arrive from the environment or a ``.env`` file.

Pydantic-free, so the settings and the fast status path (which fingerprints whether
each key variable holds a usable key, never the key) read a value the same way.
"""

from __future__ import annotations

from collabiq_llm.errors import ConfigurationError


def clean_key(value: str, env_name: str) -> str:
    """Keys arrive with a trailing newline or ``\\r`` (``$(cat key.txt)``, a CRLF .env):
    strip it, or the provider echoes the whole key back in its 401. A control character
    inside the key is a configuration error (exit 4), never sent."""
    key = value.strip()
    bad = next((ch for ch in key if ord(ch) < 32 or ord(ch) == 127), None)
    if bad is not None:
        raise ConfigurationError(
            f"{env_name} contains a control character (U+{ord(bad):04X}) inside the key; "
            "set it to the key alone"
        )
    return key
