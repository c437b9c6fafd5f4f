"""Shared plumbing for the SDK-backed providers: error mapping, deadlines, client lifecycle.

Failover and the circuit breaker key on the error taxonomy, so every SDK failure
(including the ones SDKs leave unwrapped: raw httpx2 errors, ``JSONDecodeError``
on a malformed 200) must land on exactly one ``LLMAPIError`` subclass. Nothing
here imports an SDK: an SDK's exception classes are looked up in ``sys.modules``
(if the SDK raised, it is loaded).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import json
import sys
import threading
import weakref
from collections.abc import Awaitable, Callable, Mapping
from types import ModuleType
from typing import Any, Generic, TypeVar

from pydantic import SecretStr, ValidationError

from collabiq_llm.errors import (
    LLMAPIError,
    LLMAuthenticationError,
    LLMBadRequestError,
    LLMConnectionError,
    LLMRateLimitError,
    LLMServerError,
    LLMTimeoutError,
    LLMValidationError,
)
from collabiq_llm.providers.base import LLMProvider
from collabiq_llm.redact import redact, register_secret
from collabiq_llm.settings import ProviderConfig

T = TypeVar("T")

DEADLINE_MARGIN_S = 0.25
"""Grace added to the SDK's own timeout before the asyncio safety net fires."""

DUMMY_KEY = "not-needed"
"""Sent to OpenAI-compatible servers that need no key (the SDKs insist on one)."""


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP-date)."""
    if not headers:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def body_message(body: object) -> str | None:
    """The human message of an error body in any of the three providers' shapes."""
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(body.get("message"), str):
            return body["message"]
    if isinstance(body, str) and body.strip():
        return body.strip()[:200]
    return None


def error_for_status(
    status: int,
    message: str,
    *,
    provider: str,
    retry_after: float | None = None,
    request_id: str | None = None,
) -> LLMAPIError:
    """The taxonomy error for an HTTP status (401/403 auth, 429 rate limit, 5xx server...)."""
    kwargs: dict[str, Any] = {
        "provider": provider,
        "status_code": status,
        "request_id": request_id,
    }
    if status in (401, 402, 403):
        return LLMAuthenticationError(message, **kwargs)
    if status == 429:
        return LLMRateLimitError(message, retry_after=retry_after, **kwargs)
    if status == 408:
        return LLMTimeoutError(message, **kwargs)
    if status == 409 or status >= 500:
        return LLMServerError(message, retry_after=retry_after, **kwargs)
    if 400 <= status < 500:
        return LLMBadRequestError(message, **kwargs)
    return LLMAPIError(message, **kwargs)


def scrub_chain(exc: BaseException) -> None:
    """Redact secrets in the args of ``exc`` and its causes, so full tracebacks are key-free.

    Our own errors are redacted at construction, but ``raise ... from exc`` chains
    the SDK's exception, whose text may echo the request (Gemini error bodies can
    contain the key); ``logging.exception`` would print it.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        with contextlib.suppress(Exception):
            current.args = tuple(redact(a) if isinstance(a, str) else a for a in current.args)
        current = current.__cause__ or current.__context__


def map_common_error(exc: BaseException, provider: str) -> LLMAPIError:
    """Map transport / decoding failures no SDK wraps (httpx2, asyncio, JSON, pydantic)."""
    if isinstance(exc, LLMAPIError):
        return exc
    scrub_chain(exc)
    httpx2 = sys.modules.get("httpx2")
    if httpx2 is not None:
        if isinstance(exc, httpx2.TimeoutException):
            return LLMTimeoutError(f"request timed out ({type(exc).__name__})", provider=provider)
        if isinstance(exc, httpx2.TransportError):
            return LLMConnectionError(
                f"connection failed ({type(exc).__name__})", provider=provider
            )
        if isinstance(exc, httpx2.DecodingError):
            return LLMValidationError("response body could not be decoded", provider=provider)
    if isinstance(exc, TimeoutError):
        return LLMTimeoutError("request timed out", provider=provider)
    if isinstance(exc, ConnectionError):
        return LLMConnectionError(f"connection failed ({type(exc).__name__})", provider=provider)
    if isinstance(exc, json.JSONDecodeError):
        return LLMValidationError(
            f"response is not valid JSON: {exc.msg}", provider=provider, snippet=exc.doc[:200]
        )
    if isinstance(exc, ValidationError):
        return LLMValidationError(
            f"response does not match the API's shape ({exc.error_count()} errors)",
            provider=provider,
        )
    return LLMAPIError(f"unexpected {type(exc).__name__}: {exc}", provider=provider)


def map_stainless_error(exc: BaseException, sdk_name: str, provider: str) -> LLMAPIError:
    """Map an anthropic / openai SDK exception (both are generated by Stainless)."""
    sdk: ModuleType | None = sys.modules.get(sdk_name)  # already loaded if it raised
    scrub_chain(exc)
    if sdk is None:
        return map_common_error(exc, provider)
    if isinstance(exc, sdk.APIStatusError):
        status = int(exc.status_code)
        message = body_message(exc.body) or f"HTTP {status}"
        return error_for_status(
            status,
            message,
            provider=provider,
            retry_after=parse_retry_after(exc.response.headers),
            request_id=getattr(exc, "request_id", None),
        )
    if isinstance(exc, sdk.APITimeoutError):
        return LLMTimeoutError("request timed out", provider=provider)
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__
        detail = f" ({type(cause).__name__})" if cause is not None else ""
        return LLMConnectionError(f"connection failed{detail}", provider=provider)
    if isinstance(exc, sdk.APIResponseValidationError):
        return LLMValidationError(
            "response does not match the API's shape",
            provider=provider,
            status_code=getattr(exc, "status_code", None),
        )
    return map_common_error(exc, provider)


async def with_deadline(awaitable: Awaitable[T], timeout_s: float, provider: str) -> T:
    """Safety net over the SDK's own timeout: never wait much past ``timeout_s``."""
    try:
        return await asyncio.wait_for(awaitable, timeout_s + DEADLINE_MARGIN_S)
    except TimeoutError as exc:
        raise LLMTimeoutError(f"no answer within {timeout_s:g} s", provider=provider) from exc


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
    module level), ``_close_client`` and ``aextract``.
    """

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

    async def aclose(self) -> None:
        """Close the HTTP pool of the client built on the running loop."""
        await self._holder.aclose(self._close_client)
