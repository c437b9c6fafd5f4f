"""Shared, durable state: breakers, health and costs (see ``state/api.py`` for the interface).

``make_store(settings)`` picks the backend from ``settings.state_url``
(``COLLABIQ_STATE_URL``, or ``state_url`` in the config file):

* unset, or ``file://`` → JSON files in ``settings.state_dir``;
* ``file:///some/dir`` → JSON files in that folder;
* ``redis://[user:pass@]host:port/db[?namespace=NAME]`` (or ``rediss://``, ``unix://``)
  → one Redis server shared by every host (``state/redis_store.py``); the ``redis``
  package is imported only then. Events recorded while Redis is unreachable are
  spooled to ``$COLLABIQ_HOME/state_spool/<namespace>.jsonl``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from collabiq_llm.errors import ConfigurationError
from collabiq_llm.redact import register_secret

if TYPE_CHECKING:
    from collabiq_llm.settings import Settings
    from collabiq_llm.state.api import StateStore

__all__ = [
    "import_redis",
    "json_state_folder",
    "make_store",
    "parse_state_url",
    "redact_url",
    "url_password",
]

REDIS_SCHEMES = ("redis", "rediss", "unix")


_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@]*):(?P<pw>.*)@")


def url_password(url: str) -> str | None:
    """The password part of ``scheme://user:password@host`` as written (it may hold a raw
    ``/`` that a URL parser would cut at), so it can be masked in every message."""
    m = _USERINFO.match(url.strip())
    return m.group("pw") if m and m.group("pw") else None


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe to print), even a malformed one."""
    m = _USERINFO.match(url.strip())
    if m and m.group("pw"):
        return _USERINFO.sub(lambda g: f"{g.group('scheme')}{g.group('user')}:***@", url.strip())
    return url


def json_state_folder(settings: Settings, url: str) -> Path:
    """The folder of ``file://DIR`` (or the default). A relative DIR is resolved against
    ``COLLABIQ_HOME``, never the current folder: processes started anywhere share it."""
    raw = url.strip().removeprefix("file://")
    if not raw:
        return settings.state_dir
    folder = Path(raw).expanduser()
    return folder if folder.is_absolute() else settings.home / folder


def parse_state_url(url: str) -> tuple[str, str | None, str]:
    """(URL for redis-py, namespace from ``?namespace=``, printable URL with the password masked).

    ``namespace`` is ours, so it is taken out before redis-py sees the query string.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in REDIS_SCHEMES:
        raise ConfigurationError(f"not a Redis URL: {redact_url(url)}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    namespace = next((value for key, value in query if key == "namespace"), None)
    rest = urlencode([(key, value) for key, value in query if key != "namespace"])
    client_url = urlunsplit(parts._replace(query=rest))
    for secret in (parts.password, url_password(url)):
        register_secret(secret)
    return client_url, namespace, redact_url(client_url)


def import_redis() -> Any:
    """The redis package, imported only when a Redis URL is configured."""
    try:
        import redis
    except ImportError as exc:  # the optional extra is missing
        raise ConfigurationError(
            "COLLABIQ_STATE_URL names a Redis server but the redis package is not installed: "
            "pip install 'collabiq-llm[redis]'"
        ) from exc
    return redis


def _check_url(url: str) -> None:
    """Malformed host or port is a configuration error (exit 4), found before any use."""
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port
        if not parts.hostname and not url.startswith("unix:"):
            raise ValueError("no host")
    except ValueError as exc:
        why = str(exc)
        secret = url_password(url)
        if secret:
            for piece in {secret, *re.split(r"[/:?#@]", secret)} - {""}:
                why = why.replace(piece, "***")
            why += " (a '/', '@' or ':' in the password must be percent-encoded, e.g. %2F)"
        raise ConfigurationError(f"invalid state_url {redact_url(url)!r}: {why}") from None


def make_store(settings: Settings) -> StateStore:
    """The state store the settings ask for."""
    url = (settings.state_url or "").strip()
    if not url or url.startswith("file://"):
        from collabiq_llm.state.json_store import COMMIT_INTERVAL_S, JsonStateStore

        folder = json_state_folder(settings, url)
        if folder.exists() and not folder.is_dir():
            raise ConfigurationError(f"state folder {folder} exists but is not a folder")
        return JsonStateStore(
            folder, settings.breaker, cost=settings.cost, commit_interval_s=COMMIT_INTERVAL_S
        )
    if url.split(":", 1)[0] in REDIS_SCHEMES:
        _check_url(url)
        from collabiq_llm.state.redis_store import RedisStateStore

        return RedisStateStore(
            url, settings.breaker, cost=settings.cost, spool_dir=settings.home / "state_spool"
        )
    raise ConfigurationError(
        f"unsupported state_url {redact_url(url)!r}: use file:///path/to/dir, "
        "redis://host:port/db (or leave it unset)"
    )
