"""OpenAI provider: Responses API or Chat Completions, streamed, four structured-output modes.

``api = "responses"`` (default) is OpenAI's primary API; ``api = "chat"`` speaks
Chat Completions, which is what OpenAI-compatible servers (Ollama, vLLM, LM Studio,
llama.cpp) implement. ``structured_output`` picks how the schema is requested
(``openai_wire``). Answers stream by default so the orchestrator sees the first
event (hang detection); ``stream = false`` for servers that cannot stream.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from collabiq_llm.email.input import EmailInput
from collabiq_llm.errors import (
    LLMAPIError,
    LLMServerError,
    LLMValidationError,
)
from collabiq_llm.prompt import build_prompt, parse_llm_output
from collabiq_llm.providers import openai_wire as wire
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

    _stream_unsupported = False  # learned per process: the server ignores or rejects streams

    @property
    def mode(self) -> str:
        return self.config.structured_output

    @property
    def streams(self) -> bool:
        """Configured to stream and not found unable to (a server that ignored or refused
        ``stream`` is then timed on whole responses for the rest of the process)."""
        return self.config.stream and not self._stream_unsupported

    def request_params(self, email: EmailInput) -> dict[str, Any]:
        """The SDK call's arguments for one email, for the configured API and structured-output
        mode (``openai_wire``); also used by tests. ``stream`` is added by ``aextract``."""
        system, user = build_prompt(email, self.company_context)
        build = wire.chat_params if self.config.api == "chat" else wire.responses_params
        return build(self.mode, self.config.model, system, user, self.config.max_output_tokens)

    async def aextract(self, email: EmailInput) -> ProviderResult:
        """One API call (streamed unless ``stream = false``); failures are ``LLMAPIError``s."""
        params = self.request_params(email)
        chat = self.config.api == "chat"
        try:
            client = self._client()  # outside the deadline: the first call imports the SDK
            started = time.perf_counter()
            call: Any = self._send(client, params, chat)
            response = await with_deadline(call, self.timeout_s, self.provider_name)
        except LLMAPIError:
            raise
        except STREAM_DECODE_ERRORS as exc:
            if self.streams:  # junk between events: a broken server, not model output
                raise corrupt_stream(exc, self.provider_name) from exc
            raise map_stainless_error(exc, "openai", self.provider_name) from exc
        except Exception as exc:
            raise map_stainless_error(exc, "openai", self.provider_name) from exc
        latency_ms = (time.perf_counter() - started) * 1000.0
        try:
            if chat:
                return self._chat_result(response, email, latency_ms)
            return self._responses_result(response, email, latency_ms)
        except LLMAPIError as exc:  # billed even though unusable: keep its cost
            exc.with_usage(*_usage(response), getattr(response, "model", None))
            raise

    async def _send(self, client: AsyncOpenAI, params: dict[str, Any], chat: bool) -> Any:
        """Streamed when possible; a server that cannot stream is detected and remembered."""
        if not self.streams:
            if chat:
                return await client.chat.completions.create(**params)
            return await client.responses.create(**params)
        try:
            if chat:
                return await self._chat_stream(client, params)
            return await self._responses_stream(client, params)
        except _NotAStream as answer:  # the server ignored "stream": its JSON is the answer
            self._stream_unsupported = True
            watch.first_event()  # it did answer: not a hang
            return answer.parse(chat)
        except Exception as exc:
            if not _refuses_streaming(exc):
                raise
        self._stream_unsupported = True  # 400 "stream not supported": ask again, whole
        watch.first_event()
        return await self._send(client, params, chat)

    async def _responses_stream(self, client: AsyncOpenAI, params: dict[str, Any]) -> Response:
        """Stream a Responses call; the terminal event carries the whole response."""
        stream = await client.responses.create(**params, stream=True)
        await _check_is_stream(stream)
        final: Response | None = None
        async for event in stream:
            watch.first_event()
            kind = getattr(event, "type", "")
            if kind in ("response.completed", "response.incomplete", "response.failed"):
                final = event.response
                watch.usage(*_usage(final), final.model)
            elif kind == "error":
                raise LLMServerError(
                    f"error event mid-stream: {getattr(event, 'message', '') or 'unknown'}",
                    provider=self.provider_name,
                )
        if final is None:
            raise LLMServerError(
                "stream ended before the response completed", provider=self.provider_name
            )
        final._request_id = stream.response.headers.get("x-request-id")
        return final

    async def _chat_stream(self, client: AsyncOpenAI, params: dict[str, Any]) -> ChatAnswer:
        """Stream a Chat Completions call and put the chunks back together."""
        stream = await client.chat.completions.create(
            **params, stream=True, stream_options={"include_usage": True}
        )
        await _check_is_stream(stream)
        answer = ChatAnswer()
        answer.request_id = stream.response.headers.get("x-request-id")
        async for chunk in stream:
            watch.first_event()
            answer.add(chunk)
            if chunk.usage is not None:
                watch.usage(*_usage(chunk), chunk.model)
        if answer.finish_reason is None and not answer.content and not answer.tool_arguments:
            raise LLMServerError(
                "stream ended before the completion finished", provider=self.provider_name
            )
        return answer

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
            if self.mode == "tool" and getattr(item, "type", None) == "function_call":
                texts.append(item.arguments or "")
                continue
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
        text = wire.json_text(self.mode, "".join(texts))
        entities = parse_llm_output(text, email=email, provider=name)
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
        self, completion: ChatCompletion | ChatAnswer, email: EmailInput, latency_ms: float
    ) -> ProviderResult:
        name = self.provider_name
        answer = completion if isinstance(completion, ChatAnswer) else ChatAnswer.of(completion)
        request_id = answer.request_id
        if not answer.has_choice:
            raise LLMValidationError("completion has no choices", provider=name)
        if answer.refusal:
            raise LLMValidationError(
                "model refused", provider=name, snippet=answer.refusal, request_id=request_id
            )
        if answer.finish_reason in ("length", "content_filter"):
            raise LLMValidationError(
                f"completion incomplete (finish_reason={answer.finish_reason})",
                provider=name,
                request_id=request_id,
            )
        text = answer.tool_arguments if self.mode == "tool" else answer.content
        if not text:
            what = "no tool call" if self.mode == "tool" else "no content"
            raise LLMValidationError(f"completion has {what}", provider=name)
        entities = parse_llm_output(wire.json_text(self.mode, text), email=email, provider=name)
        return ProviderResult(
            provider=name,
            model=answer.model or self.config.model,
            entities=entities,
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
            latency_ms=latency_ms,
            request_id=request_id,
        )

    async def _close_client(self, client: AsyncOpenAI) -> None:
        await client.close()


class _NotAStream(Exception):
    """The server answered a stream request with one JSON body (it ignored ``stream``)."""

    def __init__(self, body: bytes, request_id: str | None) -> None:
        super().__init__("not a stream")
        self.body, self.request_id = body, request_id

    def parse(self, chat: bool) -> Any:
        from openai.types.chat import ChatCompletion
        from openai.types.responses import Response

        data = json.loads(self.body)  # JSONDecodeError -> invalid output, mapped by the caller
        answer = (ChatCompletion if chat else Response).model_validate(data)
        answer._request_id = self.request_id
        return answer


async def _check_is_stream(stream: Any) -> None:
    """Raise ``_NotAStream`` (with the body) when the server did not send an event stream."""
    response = stream.response
    kind = response.headers.get("content-type", "")
    if "text/event-stream" not in kind and "json" in kind:
        body = await response.aread()
        await stream.close()
        raise _NotAStream(body, response.headers.get("x-request-id"))


def _refuses_streaming(exc: BaseException) -> bool:
    """A 400/422 whose message is about the ``stream`` parameter (server cannot stream)."""
    status = getattr(exc, "status_code", None)
    text = str(getattr(exc, "message", "") or exc).lower()
    return status in (400, 422) and "stream" in text


class ChatAnswer:
    """A chat completion's first choice as plain fields: from one body or from a stream."""

    def __init__(self) -> None:
        self.has_choice = False
        self.content = ""
        self.refusal = ""
        self.tool_arguments = ""
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.request_id: str | None = None
        self.usage: object = None

    @classmethod
    def of(cls, completion: ChatCompletion) -> ChatAnswer:
        answer = cls()
        answer.model = completion.model
        answer.request_id = getattr(completion, "_request_id", None)
        answer.usage = completion.usage
        if completion.choices:
            choice = completion.choices[0]
            answer.has_choice = choice.message is not None
            answer.finish_reason = choice.finish_reason
            message = choice.message
            if message is not None:
                answer.content = message.content or ""
                answer.refusal = message.refusal or ""
                calls = message.tool_calls or []
                if calls and getattr(calls[0], "function", None) is not None:
                    answer.tool_arguments = calls[0].function.arguments or ""
        return answer

    def add(self, chunk: Any) -> None:
        """Fold one ``ChatCompletionChunk`` in (choice 0 only; a usage-only chunk has none)."""
        self.model = chunk.model or self.model
        self.request_id = self.request_id or getattr(chunk, "_request_id", None)
        if chunk.usage is not None:
            self.usage = chunk.usage
        for choice in chunk.choices or []:
            if choice.index != 0:
                continue
            self.has_choice = True
            delta = choice.delta
            if delta is not None:
                self.content += delta.content or ""
                self.refusal += delta.refusal or ""
                for call in delta.tool_calls or []:
                    if call.index == 0 and call.function is not None:
                        self.tool_arguments += call.function.arguments or ""
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason

    @property
    def input_tokens(self) -> int:
        return _usage(self)[0]

    @property
    def output_tokens(self) -> int:
        return _usage(self)[1]


def _usage(response: object) -> tuple[int, int]:
    """Billed tokens of a Responses or Chat Completions answer (0, 0 when absent)."""
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0
    if hasattr(usage, "prompt_tokens"):  # Chat Completions
        return usage.prompt_tokens or 0, usage.completion_tokens or 0
    return getattr(usage, "input_tokens", 0) or 0, getattr(usage, "output_tokens", 0) or 0
