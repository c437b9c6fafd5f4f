"""Claude (Anthropic Messages API) provider: structured output through a forced tool call.

Streamed by default (``messages.stream``: the tool input arrives as
``input_json_delta`` events) so the orchestrator sees the first event and can
tell a hung server from a long answer; ``stream = false`` sends one request.

A forced tool call whose ``input_schema`` is the shared ``OUTPUT_SCHEMA`` is the
most widely supported way to get schema-shaped JSON from Claude models; the
``tool_use`` block's ``input`` is a plain dict, validated by ``parse_llm_output``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from collabiq_llm.email.input import EmailInput
from collabiq_llm.errors import LLMAPIError, LLMServerError, LLMValidationError
from collabiq_llm.prompt import (
    SCHEMA_NAME,
    TOOL_DESCRIPTION,
    build_prompt,
    output_schema,
    parse_llm_output,
)
from collabiq_llm.providers import watch
from collabiq_llm.providers.base import ProviderResult
from collabiq_llm.providers.remote import (
    RemoteProvider,
    normalise_base_url,
)
from collabiq_llm.providers.sdk_errors import (
    STREAM_DECODE_ERRORS,
    corrupt_stream,
    map_stainless_error,
    with_deadline,
)

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic
    from anthropic.types import Message


class ClaudeProvider(RemoteProvider["AsyncAnthropic"]):
    """Anthropic Messages API via the official ``anthropic`` SDK (imported on first use)."""

    sdk_modules = ("anthropic",)

    def _build_client(self) -> AsyncAnthropic:
        import anthropic  # lazy: ~0.7 s, only when Claude is actually used

        return anthropic.AsyncAnthropic(
            api_key=self._key(),
            base_url=normalise_base_url(self.config.base_url),  # None -> ANTHROPIC_BASE_URL
            timeout=self.timeout_s,
            max_retries=0,  # the orchestrator owns retries and failover
        )

    def request_params(self, email: EmailInput) -> dict[str, Any]:
        """The ``messages.create`` arguments for one email (also used by tests)."""
        system, user = build_prompt(email, self.company_context)
        return {
            "model": self.config.model,
            "max_tokens": self.config.max_output_tokens,
            "system": system,
            "messages": [{"role": "user", "content": user}],
            "tools": [
                {
                    "name": SCHEMA_NAME,
                    "description": TOOL_DESCRIPTION,
                    "input_schema": output_schema(),
                }
            ],
            "tool_choice": {"type": "tool", "name": SCHEMA_NAME},
        }

    async def aextract(self, email: EmailInput) -> ProviderResult:
        """One Messages call; every failure is raised as an ``LLMAPIError`` subclass."""
        params = self.request_params(email)
        try:
            client = self._client()  # outside the deadline: the first call imports the SDK
            started = time.perf_counter()
            if self.streams:
                call: Any = self._stream(client, params)
            else:
                call = client.messages.create(**params)
            message = await with_deadline(call, self.timeout_s, self.provider_name)
        except LLMAPIError:
            raise
        except STREAM_DECODE_ERRORS as exc:
            if self.streams:  # junk between events: a broken server, not model output
                raise corrupt_stream(exc, self.provider_name) from exc
            raise map_stainless_error(exc, "anthropic", self.provider_name) from exc
        except Exception as exc:
            raise map_stainless_error(exc, "anthropic", self.provider_name) from exc
        latency_ms = (time.perf_counter() - started) * 1000.0
        try:
            return self._result(message, email, latency_ms)
        except LLMAPIError as exc:  # billed even though unusable: keep its cost
            exc.with_usage(*self._usage(message), message.model)
            raise

    async def _stream(self, client: AsyncAnthropic, params: dict[str, Any]) -> Message:
        """Stream the call (tool-input deltas); the SDK assembles the final message.

        ``message_start`` is the first event and carries the billed input tokens;
        ``message_delta`` carries the running output count.
        """
        async with client.messages.stream(**params) as stream:
            ended = False
            async for event in stream:
                watch.first_event()
                if event.type == "message_start":
                    watch.usage(*self._usage(event.message), event.message.model)
                elif event.type == "message_delta" and event.usage is not None:
                    watch.usage(0, event.usage.output_tokens or 0)
                ended = ended or event.type == "message_stop"
            if not ended:
                raise LLMServerError(
                    "stream ended before message_stop", provider=self.provider_name
                )
            message = await stream.get_final_message()
            message._request_id = stream.request_id  # as messages.create sets it
            return message

    @staticmethod
    def _usage(message: Message) -> tuple[int, int]:
        usage = message.usage
        if usage is None:
            return 0, 0
        return (
            (usage.input_tokens or 0)
            + (usage.cache_creation_input_tokens or 0)
            + (usage.cache_read_input_tokens or 0),
            usage.output_tokens or 0,
        )

    def _result(self, message: Message, email: EmailInput, latency_ms: float) -> ProviderResult:
        name = self.provider_name
        request_id = getattr(message, "_request_id", None)
        tool_input = None
        for block in message.content or []:
            if getattr(block, "type", None) == "tool_use" and block.name == SCHEMA_NAME:
                tool_input = block.input
                break
        if tool_input is None:
            reason = message.stop_reason or "no stop reason"
            kind = "refused" if reason == "refusal" else "returned no tool call"
            text = " ".join(
                b.text for b in (message.content or []) if getattr(b, "type", None) == "text"
            )
            raise LLMValidationError(
                f"model {kind} (stop_reason={reason})",
                provider=name,
                snippet=text or None,
                request_id=request_id,
            )
        if message.stop_reason == "max_tokens":
            raise LLMValidationError(
                "output truncated at max_tokens", provider=name, request_id=request_id
            )
        entities = parse_llm_output(tool_input, email=email, provider=name)
        input_tokens, output_tokens = self._usage(message)
        return ProviderResult(
            provider=name,
            model=message.model or self.config.model,
            entities=entities,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            latency_ms=latency_ms,
            request_id=request_id,
        )

    async def _close_client(self, client: AsyncAnthropic) -> None:
        await client.close()
