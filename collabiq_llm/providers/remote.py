"""Base of the SDK-backed providers: key handling, one client per event loop, SDK preload.

Nothing here imports an SDK at module level; ``preload_sdk`` imports a provider's
SDK in a background thread so a failover target is ready when it is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import ClassVar, Generic, TypeVar

from pydantic import SecretStr

from collabiq_llm.errors import LLMAuthenticationError
from collabiq_llm.providers.base import LLMProvider
from collabiq_llm.redact import register_secret
from collabiq_llm.settings import ProviderConfig

T = TypeVar("T")

DUMMY_KEY = "not-needed"
"""Sent to OpenAI-compatible servers that need no key (the SDKs insist on one)."""


class LoopBoundClient(Generic[T]):
    """SDK async clients, one per event loop, each reused for every call on its loop.

    Async clients hold connections bound to the loop they were first used on; the
    sync API runs ``asyncio.run`` per call (a new loop each time), and callers may
    run loops in several threads. Keying by loop (weakly, so a finished loop's
    client goes away with it) rebuilds exactly when the loop differs.
    """

    def __init__(self) -> None:
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    @property
    def client(self) -> T | None:
        """The client of the running loop, if one was built (None outside a loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        with self._lock:
            return self._clients.get(loop)

    def get(self, factory: Callable[[], T]) -> T:
        """The running loop's client, built by ``factory`` on first use."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._clients.get(loop)
            if client is None:
                client = factory()
                self._clients[loop] = client
            return client

    async def aclose(self, closer: Callable[[T], Awaitable[object]]) -> None:
        """Close the running loop's client; clients of other loops are left to them."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._clients.pop(loop, None)
        if client is not None:
            # closing is best effort: a dead pool must not mask the call's result
            with contextlib.suppress(Exception):
                await closer(client)


def normalise_base_url(url: str | None) -> str | None:
    """A configured base URL without trailing slash (both spellings are accepted)."""
    if url is None:
        return None
    url = url.strip()
    return url.rstrip("/") or None


class RemoteProvider(LLMProvider, Generic[T]):
    """Base of the SDK-backed providers: key handling and one lazily built client per loop.

    Subclasses implement ``_build_client`` (importing their SDK there, never at
    module level), ``_close_client`` and ``aextract``, and name their SDK modules
    in ``sdk_modules`` so ``preload_sdk`` can import them ahead of the first call.
    """

    sdk_modules: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        config: ProviderConfig,
        *,
        api_key: SecretStr | None = None,
        company_context: str | None = None,
    ) -> None:
        super().__init__(config, api_key=api_key, company_context=company_context)
        if api_key is not None:
            register_secret(api_key.get_secret_value())  # in case settings did not
        self._holder: LoopBoundClient[T] = LoopBoundClient()

    @property
    def streams(self) -> bool:
        """Streaming unless the endpoint is configured not to (``stream = false``)."""
        return self.config.stream

    def _key(self) -> str:
        """The API key; a dummy for keyless endpoints; auth error if one is required."""
        if self._api_key is not None and self._api_key.get_secret_value():
            return self._api_key.get_secret_value()
        if self.config.key_required:
            raise LLMAuthenticationError("no API key configured", provider=self.provider_name)
        return DUMMY_KEY

    def _build_client(self) -> T:
        raise NotImplementedError

    async def _close_client(self, client: T) -> None:
        raise NotImplementedError

    def _client(self) -> T:
        return self._holder.get(self._build_client)

    def prepare(self) -> None:
        """Import the SDK and build this loop's client now (see ``LLMProvider.prepare``)."""
        self._client()

    async def aclose(self) -> None:
        """Close the HTTP pool of the client built on the running loop."""
        await self._holder.aclose(self._close_client)

    def preload_sdk(self) -> threading.Thread | None:
        """Import this provider's SDK in a daemon thread (anthropic alone takes ~0.7 s).

        Called when the orchestrator builds its providers, so a failover or hedge
        target does not pay the import inside the < 2 s failover budget.
        """
        missing = [m for m in self.sdk_modules if m not in _PRELOADED]
        if not missing:
            return None
        _PRELOADED.update(missing)

        def _import() -> None:
            for module in missing:
                with contextlib.suppress(Exception):  # a broken SDK surfaces on first call
                    importlib.import_module(module)

        thread = threading.Thread(target=_import, name="collabiq-sdk-preload", daemon=True)
        thread.start()
        return thread


_PRELOADED: set[str] = set()
