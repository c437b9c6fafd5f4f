"""Error mapping for the SDK-backed providers: every SDK failure -> one taxonomy class.

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
from collections.abc import Awaitable, Mapping
from types import ModuleType
from typing import Any, TypeVar

from pydantic import ValidationError

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
from collabiq_llm.redact import redact

T = TypeVar("T")

DEADLINE_MARGIN_S = 0.25
"""Grace added to the SDK's own timeout before the asyncio safety net fires."""


RETRY_AFTER_PREFIXES = ("", "llm_provider-")
"""Header prefixes read for retry-after: our own, then the upstream's as the LiteLLM
gateway passes it on (``llm_provider-retry-after``)."""


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP-date).

    Behind a LiteLLM gateway the upstream's headers arrive prefixed with
    ``llm_provider-``; they are read when the gateway sent none of its own.
    """
    if not headers:
        return None
    for prefix in RETRY_AFTER_PREFIXES:
        seconds = _retry_after_of(headers, prefix)
        if seconds is not None:
            return seconds
    return None


def _retry_after_of(headers: Mapping[str, str], prefix: str) -> float | None:
    raw_ms = headers.get(f"{prefix}retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get(f"{prefix}retry-after")
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
        if status < 400:  # an error event inside a 200 stream (e.g. overloaded mid-answer)
            kind = _stream_error_type(exc.body)
            cls = LLMRateLimitError if kind == "rate_limit_error" else LLMServerError
            return cls(f"error event mid-stream: {message}", provider=provider)
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


def _stream_error_type(body: object) -> str | None:
    inner = body.get("error") if isinstance(body, Mapping) else None
    return inner.get("type") if isinstance(inner, Mapping) else None


STREAM_DECODE_ERRORS: tuple[type[BaseException], ...] = (json.JSONDecodeError, ValidationError)
"""What an SDK raises on junk in the middle of a server-sent-event stream."""


def corrupt_stream(exc: BaseException, provider: str) -> LLMServerError:
    """Junk in the event stream after a 200: a broken server or proxy, not model output."""
    scrub_chain(exc)
    return LLMServerError(
        f"event stream corrupted mid-answer ({type(exc).__name__})", provider=provider
    )


async def with_deadline(awaitable: Awaitable[T], timeout_s: float, provider: str) -> T:
    """Safety net over the SDK's own timeout: never wait much past ``timeout_s``."""
    try:
        return await asyncio.wait_for(awaitable, timeout_s + DEADLINE_MARGIN_S)
    except TimeoutError as exc:
        raise LLMTimeoutError(f"no answer within {timeout_s:g} s", provider=provider) from exc
