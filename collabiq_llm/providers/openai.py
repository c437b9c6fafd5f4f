"""OpenAI provider: Responses API with a strict JSON schema, or Chat Completions.

``api = "responses"`` (default) is OpenAI's primary API; ``api = "chat"`` speaks
Chat Completions with ``response_format: json_schema``, which is what
OpenAI-compatible servers (Ollama, vLLM, LM Studio) implement.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from collabiq_llm.email.input import EmailInput
from collabiq_llm.errors import (
    LLMAPIError,
    LLMServerError,
    LLMValidationError,
)
from collabiq_llm.prompt import SCHEMA_NAME, build_prompt, output_schema, parse_llm_output
from collabiq_llm.providers.base import ProviderResult
from collabiq_llm.providers.remote import (
    RemoteProvider,
    normalise_base_url,
)
from collabiq_llm.providers.sdk_errors import (
    map_stainless_error,
    with_deadline,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletion
    from openai.types.responses import Response


class OpenAIProvider(RemoteProvider["AsyncOpenAI"]):
    """OpenAI (or an OpenAI-compatible server) via the official ``openai`` SDK.

    Keyless local servers (``key_required = false``) get a dummy key: the SDK
    refuses to start without one.
    """

    sdk_modules = ("openai",)

    def _build_client(self) -> AsyncOpenAI:
        import openai  # lazy: only when this provider is actually used

        return openai.AsyncOpenAI(
            api_key=self._key(),
            base_url=normalise_base_url(self.config.base_url),  # None -> OPENAI_BASE_URL
            timeout=self.timeout_s,
            max_retries=0,  # the orchestrator owns retries and failover
        )

    def request_params(self, email: EmailInput) -> dict[str, Any]:
        """The SDK call's arguments for one email, for the configured API (also for tests)."""
        system, user = build_prompt(email, self.company_context)
        if self.config.api == "chat":
            return {
                "model": self.config.model,
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": output_schema()},
                },
                # compatible servers (Ollama, LM Studio) know max_tokens, not max_completion_tokens
                "max_tokens": self.config.max_output_tokens,
            }
        return {
            "model": self.config.model,
            "instructions": system,
            "input": user,
            "text": {
                "format": {
                    "type": "json_schema",
                    "name": SCHEMA_NAME,
                    "strict": True,
                    "schema": output_schema(),
                }
            },
            "max_output_tokens": self.config.max_output_tokens,
            "store": False,  # emails carry personal data: nothing kept server-side
        }

    async def aextract(self, email: EmailInput) -> ProviderResult:
        """One API call; every failure is raised as an ``LLMAPIError`` subclass."""
        params = self.request_params(email)
        try:
            client = self._client()  # outside the deadline: the first call imports the SDK
            started = time.perf_counter()
            if self.config.api == "chat":
                call: Any = client.chat.completions.create(**params)
            else:
                call = client.responses.create(**params)
            response = await with_deadline(call, self.timeout_s, self.provider_name)
        except LLMAPIError:
            raise
        except Exception as exc:
            raise map_stainless_error(exc, "openai", self.provider_name) from exc
        latency_ms = (time.perf_counter() - started) * 1000.0
        try:
            if self.config.api == "chat":
                return self._chat_result(response, email, latency_ms)
            return self._responses_result(response, email, latency_ms)
        except LLMAPIError as exc:  # billed even though unusable: keep its cost
            exc.with_usage(*_usage(response), getattr(response, "model", None))
            raise

    def _responses_result(
        self, response: Response, email: EmailInput, latency_ms: float
    ) -> ProviderResult:
        name = self.provider_name
        request_id = getattr(response, "_request_id", None)
        if response.status == "failed" or response.error is not None:
            detail = response.error.message if response.error is not None else "failed"
            raise LLMServerError(f"response failed: {detail}", provider=name, request_id=request_id)
        if response.status == "incomplete":
            reason = getattr(response.incomplete_details, "reason", None) or "unknown"
            raise LLMValidationError(
                f"response incomplete ({reason})", provider=name, request_id=request_id
            )
        texts: list[str] = []
        for item in response.output or []:
            if getattr(item, "type", None) != "message":
                continue
            for part in item.content or []:
                if part.type == "refusal":
                    raise LLMValidationError(
                        "model refused", provider=name, snippet=part.refusal, request_id=request_id
                    )
                if part.type == "output_text":
                    texts.append(part.text)
        if not texts:
            raise LLMValidationError(
                f"response has no output text (status={response.status})",
                provider=name,
                request_id=request_id,
            )
        entities = parse_llm_output("".join(texts), email=email, provider=name)
        input_tokens, output_tokens = _usage(response)
        return ProviderResult(
            provider=name,
            model=response.model or self.config.model,
            entities=entities,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=latency_ms,
            request_id=request_id,
        )

    def _chat_result(
        self, completion: ChatCompletion, email: EmailInput, latency_ms: float
    ) -> ProviderResult:
        name = self.provider_name
        request_id = getattr(completion, "_request_id", None)
        if not completion.choices:
            raise LLMValidationError("completion has no choices", provider=name)
        choice = completion.choices[0]
        message = choice.message
        if message is None:
            raise LLMValidationError("completion has no message", provider=name)
        if message.refusal:
            raise LLMValidationError(
                "model refused", provider=name, snippet=message.refusal, request_id=request_id
            )
        if choice.finish_reason in ("length", "content_filter"):
            raise LLMValidationError(
                f"completion incomplete (finish_reason={choice.finish_reason})",
                provider=name,
                request_id=request_id,
            )
        if not message.content:
            raise LLMValidationError("completion has no content", provider=name)
        entities = parse_llm_output(message.content, email=email, provider=name)
        input_tokens, output_tokens = _usage(completion)
        return ProviderResult(
            provider=name,
            model=completion.model or self.config.model,
            entities=entities,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=latency_ms,
            request_id=request_id,
        )

    async def _close_client(self, client: AsyncOpenAI) -> None:
        await client.close()


def _usage(response: object) -> tuple[int, int]:
    """Billed tokens of a Responses or Chat Completions answer (0, 0 when absent)."""
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0
    if hasattr(usage, "prompt_tokens"):  # Chat Completions
        return usage.prompt_tokens or 0, usage.completion_tokens or 0
    return getattr(usage, "input_tokens", 0) or 0, getattr(usage, "output_tokens", 0) or 0
