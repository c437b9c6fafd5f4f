"""Keep API keys out of every message, log line, state file and traceback.

Keys are registered when settings resolve them; ``redact`` replaces any registered
key, and anything shaped like a well-known key format, with a marker.
"""

from __future__ import annotations

import re

_SECRETS: set[str] = set()
_KEY_PATTERNS = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{8,}|sk-(?:proj-)?[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{20,})"
)
MARKER = "[REDACTED]"
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:@/\s]*:)[^@\s]+@")


def register_secret(value: str | None) -> None:
    """Remember a secret so that ``redact`` removes it wherever it appears."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: object) -> str:
    """Return ``text`` as a string with every known secret and key-like token masked."""
    out = "" if text is None else str(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in out:
            out = out.replace(secret, MARKER)
    out = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{MARKER}@", out)  # redis://u:pw@h
    return _KEY_PATTERNS.sub(MARKER, out)
