"""Gemini provider: ``generate_content`` with a JSON response schema (google-genai SDK).

google-genai differs from the other two SDKs in ways that matter for failover:
no timeout by default (ours is passed in milliseconds), raw ``httpx2`` errors
for connection failures and timeouts, and "blocked" answers that arrive as a
200 with no candidates or a SAFETY finish reason. All of that is mapped here.
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import TYPE_CHECKING, Any

from collabiq_llm.email.input import EmailInput
from collabiq_llm.errors import (
    LLMAPIError,
    LLMAuthenticationError,
    LLMRateLimitError,
    LLMServerError,
    LLMValidationError,
)
from collabiq_llm.prompt import build_prompt, output_schema, parse_llm_output
from collabiq_llm.providers import watch
from collabiq_llm.providers.base import ProviderResult
from collabiq_llm.providers.remote import (
    RemoteProvider,
    normalise_base_url,
)
from collabiq_llm.providers.sdk_errors import (
    STREAM_DECODE_ERRORS,
    body_message,
    corrupt_stream,
    error_for_status,
    map_common_error,
    parse_retry_after,
    scrub_chain,
    with_deadline,
)

if TYPE_CHECKING:
    from google.genai import Client
    from google.genai.types import GenerateContentResponse

_OK_FINISH = {None, "STOP", "FINISH_REASON_UNSPECIFIED"}
_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


class GeminiProvider(RemoteProvider["Client"]):
    """Google Gemini API via the official ``google-genai`` SDK (imported on first use).

    The per-loop holder keeps the ``genai.Client`` referenced, which matters: a
    collected client closes its connection pool under a running call.
    """

    sdk_modules = ("google.genai",)

    def _build_client(self) -> Client:
        from google import genai  # lazy: only when Gemini is actually used
        from google.genai import types

        options = types.HttpOptions(
            base_url=normalise_base_url(self.config.base_url),  # None -> GOOGLE_GEMINI_BASE_URL
            api_version=self.config.api_version,  # None -> the SDK's default (v1)
            timeout=max(1, round(self.timeout_s * 1000)),  # milliseconds!
            retry_options=types.HttpRetryOptions(attempts=1),  # no hidden retries
        )
        return genai.Client(api_key=self._key(), http_options=options)

    def request_params(self, email: EmailInput) -> dict[str, Any]:
        """The ``generate_content`` arguments for one email (also used by tests)."""
        system, user = build_prompt(email, self.company_context)
        return {
            "model": self.config.model,
            "contents": user,
            "config": {
                "system_instruction": system,
                "response_mime_type": "application/json",
                "response_json_schema": output_schema(),
                "max_output_tokens": self.config.max_output_tokens,
            },
        }

    async def aextract(self, email: EmailInput) -> ProviderResult:
        """One generateContent call; every failure is raised as an ``LLMAPIError`` subclass."""
        params = self.request_params(email)
        try:
            client = self._client()  # outside the deadline: the first call imports the SDK
            started = time.perf_counter()
            if self.streams:
                call: Any = self._stream(client, params)
            else:
                call = client.aio.models.generate_content(**params)
            response = await with_deadline(call, self.timeout_s, self.provider_name)
        except LLMAPIError:
            raise
        except STREAM_DECODE_ERRORS as exc:
            if self.streams:  # junk between events: a broken server, not model output
                raise corrupt_stream(exc, self.provider_name) from exc
            raise map_gemini_error(exc, self.provider_name) from exc
        except Exception as exc:
            raise map_gemini_error(exc, self.provider_name) from exc
        latency_ms = (time.perf_counter() - started) * 1000.0
        try:
            return self._result(response, email, latency_ms)
        except LLMAPIError as exc:  # billed even though unusable: keep its cost
            exc.with_usage(*_usage(response), response.model_version)
            raise

    async def _stream(self, client: Client, params: dict[str, Any]) -> GenerateContentResponse:
        """``generate_content_stream`` (SSE); the chunks are merged into one response."""
        chunks: list[GenerateContentResponse] = []
        async for chunk in await client.aio.models.generate_content_stream(**params):
            watch.first_event()
            chunks.append(chunk)
            if chunk.usage_metadata is not None:
                watch.usage(*_usage(chunk), chunk.model_version)
        if not chunks:
            raise LLMServerError("stream ended without any chunk", provider=self.provider_name)
        return merge_chunks(chunks)

    def _result(
        self, response: GenerateContentResponse, email: EmailInput, latency_ms: float
    ) -> ProviderResult:
        name = self.provider_name
        request_id = response.response_id
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            raise LLMValidationError(
                f"prompt blocked ({_enum_name(feedback.block_reason)})",
                provider=name,
                snippet=feedback.block_reason_message,
                request_id=request_id,
            )
        if not response.candidates:
            raise LLMValidationError("response has no candidates", provider=name)
        candidate = response.candidates[0]
        finish = _enum_name(candidate.finish_reason)
        parts = candidate.content.parts if candidate.content is not None else None
        text = "".join(p.text for p in parts or [] if p.text and not p.thought)
        if finish not in _OK_FINISH:
            raise LLMValidationError(
                f"generation stopped ({finish})",
                provider=name,
                snippet=text or candidate.finish_message,
                request_id=request_id,
            )
        if not text:
            raise LLMValidationError("candidate has no text", provider=name, request_id=request_id)
        entities = parse_llm_output(text, email=email, provider=name)
        input_tokens, output_tokens = _usage(response)
        return ProviderResult(
            provider=name,
            model=response.model_version or self.config.model,
            entities=entities,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=latency_ms,
            request_id=request_id,
        )

    async def _close_client(self, client: Client) -> None:
        await client.aio.aclose()
        client.close()  # genai.Client also builds a sync pool; release it too


def merge_chunks(chunks: list[GenerateContentResponse]) -> GenerateContentResponse:
    """One response from streamed chunks: text joined, the last finish reason and usage."""
    from google.genai import types

    texts: list[str] = []
    finish = finish_message = None
    seen_candidate = False
    for chunk in chunks:
        if not chunk.candidates:
            continue
        seen_candidate = True
        cand = chunk.candidates[0]
        parts = cand.content.parts if cand.content is not None else None
        texts += [p.text for p in parts or [] if p.text and not p.thought]
        finish = cand.finish_reason or finish
        finish_message = cand.finish_message or finish_message
    last = chunks[-1]
    candidates = None
    if seen_candidate:
        text = "".join(texts)
        content = types.Content(role="model", parts=[types.Part(text=text)] if text else None)
        candidates = [
            types.Candidate(content=content, finish_reason=finish, finish_message=finish_message)
        ]
    return types.GenerateContentResponse(
        candidates=candidates,
        prompt_feedback=next((c.prompt_feedback for c in chunks if c.prompt_feedback), None),
        usage_metadata=next((c.usage_metadata for c in reversed(chunks) if c.usage_metadata), None),
        model_version=last.model_version,
        response_id=last.response_id,
    )


def _usage(response: GenerateContentResponse) -> tuple[int, int]:
    """Billed tokens; thinking tokens are billed as output."""
    usage = response.usage_metadata
    if usage is None:
        return 0, 0
    return (
        (usage.prompt_token_count or 0) + (usage.tool_use_prompt_token_count or 0),
        (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0),
    )


def _enum_name(value: object) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _retry_delay(details: object) -> float | None:
    """``RetryInfo.retryDelay`` ("2s", "0.5s") from a google.rpc error body."""
    error = details.get("error", details) if isinstance(details, dict) else None
    items = error.get("details") if isinstance(error, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("RetryInfo"):
            match = _DELAY.match(str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def map_gemini_error(exc: BaseException, provider: str) -> LLMAPIError:
    """Map google-genai ``APIError``s by code/status, everything else via the common map."""
    genai_errors = sys.modules.get("google.genai.errors")  # loaded if the SDK raised
    scrub_chain(exc)
    unknown = getattr(genai_errors, "UnknownApiResponseError", None)
    if unknown is not None and isinstance(exc, unknown):  # junk where an event should be
        return corrupt_stream(exc, provider)
    if genai_errors is None or not isinstance(exc, genai_errors.APIError):
        return map_common_error(exc, provider)
    code = int(exc.code) if exc.code else 0
    status = str(exc.status or "")
    message = exc.message or body_message(exc.details) or f"{code} {status}".strip()
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    retry_after = parse_retry_after(headers) or _retry_delay(exc.details)
    request_id = headers.get("x-request-id") if headers is not None else None
    if "API_KEY_INVALID" in json.dumps(exc.details, default=str) or status in (
        "UNAUTHENTICATED",
        "PERMISSION_DENIED",
    ):
        # Gemini answers a bad key with 400 INVALID_ARGUMENT + reason API_KEY_INVALID.
        return LLMAuthenticationError(
            message, provider=provider, status_code=code or None, request_id=request_id
        )
    if status == "RESOURCE_EXHAUSTED":
        return LLMRateLimitError(
            message,
            provider=provider,
            status_code=code or None,
            retry_after=retry_after,
            request_id=request_id,
        )
    return error_for_status(
        code or 500, message, provider=provider, retry_after=retry_after, request_id=request_id
    )
