"""Streaming and structured-output modes: real SDKs over real HTTP against the emulators.

* every provider streams by default (Anthropic ``messages.stream`` tool-input deltas,
  OpenAI Responses / Chat Completions ``stream=True``, Gemini
  ``streamGenerateContent?alt=sse``), reports its first event and its billed usage
  through ``providers.watch``, and still answers the same with ``stream = false``;
* broken streams map onto the taxonomy (junk mid-stream = server fault, not output);
* OpenAI-compatible endpoints take ``structured_output = json_schema | json_object |
  tool | prompt``: the request carries the matching fields (the schema goes into the
  prompt where the server cannot enforce it) and the answer is validated as before.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator

import pytest

from collabiq_llm.errors import LLMAPIError, LLMServerError, LLMTimeoutError, LLMValidationError
from collabiq_llm.prompt import OUTPUT_SCHEMA, SCHEMA_NAME
from collabiq_llm.providers.base import LLMProvider, ProviderResult
from collabiq_llm.providers.watch import CallWatch, watching
from tests.contract.conftest import REMOTE_TARGETS, SAMPLE_EMAIL, Target, call_once
from tests.emulators import DEFAULT_EXTRACTION, Behaviour, Emulator
from tests.emulators.fixtures import make_provider


@pytest.fixture(params=REMOTE_TARGETS, ids=lambda t: t.id)
def target(request: pytest.FixtureRequest) -> Iterator[tuple[Target, Emulator]]:
    assert request.param.flavour is not None
    with Emulator(request.param.flavour) as emu:
        yield request.param, emu


def _provider(target: Target, emu: Emulator, **overrides: object) -> LLMProvider:
    kwargs: dict[str, object] = {"api": target.api, "timeout_s": 2.0, **overrides}
    return make_provider(emu, target.kind, **kwargs)  # type: ignore[arg-type]


def _watched(provider: LLMProvider) -> tuple[ProviderResult | LLMAPIError, CallWatch]:
    """One call with a watch installed whose clock counts calls (no wall time involved)."""
    ticks = itertools.count(1)
    watch = CallWatch(clock=lambda: float(next(ticks)))

    async def main() -> ProviderResult | LLMAPIError:
        with watching(watch):
            try:
                return await call_once(provider, SAMPLE_EMAIL)
            except LLMAPIError as exc:
                return exc

    return asyncio.run(main()), watch


def _is_stream_request(emu: Emulator) -> bool:
    req = emu.requests[0]
    return emu.flavour.is_stream(req)


def test_streams_by_default_and_reports_first_event_and_usage(
    target: tuple[Target, Emulator],
) -> None:
    t, emu = target
    emu.set_default(Behaviour.ok().streaming(0.05))
    result, watch = _watched(_provider(t, emu))
    assert isinstance(result, ProviderResult), result
    assert _is_stream_request(emu)
    assert result.entities.person_in_charge == DEFAULT_EXTRACTION["person_in_charge"]
    assert result.entities.confidence.person == pytest.approx(0.95)
    assert (result.input_tokens, result.output_tokens) == (120, 40)
    assert result.request_id
    assert watch.first_event_at == 1.0  # marked once, on the first event
    assert (watch.input_tokens, watch.output_tokens) == (120, 40)


def test_stream_false_sends_one_plain_request(target: tuple[Target, Emulator]) -> None:
    t, emu = target
    result, watch = _watched(_provider(t, emu, stream=False))
    assert isinstance(result, ProviderResult), result
    assert not _is_stream_request(emu)
    assert (result.input_tokens, result.output_tokens) == (120, 40)
    assert watch.first_event_at is None  # nothing streamed: whole-response timing applies


@pytest.mark.parametrize(
    "behaviour",
    [Behaviour.refusal(), Behaviour.truncated(), Behaviour.schema_violation()],
    ids=["refusal", "truncated", "schema-violation"],
)
def test_bad_answers_stream_into_the_same_validation_errors(
    target: tuple[Target, Emulator], behaviour: Behaviour
) -> None:
    t, emu = target
    emu.enqueue(behaviour)
    result, _ = _watched(_provider(t, emu))
    assert isinstance(result, LLMValidationError), result
    assert not result.retryable and not result.trips_breaker


def test_junk_mid_stream_is_a_server_fault_with_its_usage(
    target: tuple[Target, Emulator],
) -> None:
    t, emu = target
    emu.enqueue(Behaviour.ok().junk_mid_stream(after_events=3))
    result, watch = _watched(_provider(t, emu))
    assert isinstance(result, LLMServerError), result
    assert "corrupted" in result.message or "ended before" in result.message
    assert watch.first_event_at is not None  # events had arrived before the junk
    assert emu.request_count == 1


def test_stalled_stream_after_headers_times_out_without_a_first_event(
    target: tuple[Target, Emulator],
) -> None:
    t, emu = target
    emu.enqueue(Behaviour.ok().stalled(after_events=0))
    result, watch = _watched(_provider(t, emu, timeout_s=0.5))
    assert isinstance(result, LLMTimeoutError), result
    assert watch.first_event_at is None


def test_error_event_inside_a_claude_stream_is_a_server_fault() -> None:
    """Anthropic can send ``event: error`` (overloaded) inside a 200 stream."""
    with Emulator("anthropic") as emu:
        overloaded = emu.flavour.stream_error_event(529, "Overloaded")  # type: ignore[attr-defined]
        emu.enqueue(Behaviour.raw(200, overloaded, headers={"content-type": "text/event-stream"}))
        provider = make_provider(emu, "claude", timeout_s=2.0)
        with pytest.raises(LLMAPIError) as info:
            asyncio.run(call_once(provider, SAMPLE_EMAIL))
        assert isinstance(info.value, LLMServerError), info.value
        assert "mid-stream" in info.value.message


# -- structured-output modes (OpenAI-compatible endpoints) ------------------------------

MODES = ("json_schema", "json_object", "tool", "prompt")


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "plain"])
@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("mode", MODES)
def test_structured_output_mode_request_and_answer(mode: str, api: str, stream: bool) -> None:
    with Emulator("openai") as emu:
        provider = make_provider(
            emu, "openai", api=api, structured_output=mode, stream=stream, timeout_s=2.0
        )
        result = asyncio.run(call_once(provider, SAMPLE_EMAIL))
        assert result.entities.person_in_charge == DEFAULT_EXTRACTION["person_in_charge"]
        body = emu.requests[0].json
        system = emu.requests[0].system_prompt() or ""
        schema_in_prompt = '"person_in_charge"' in system and "JSON Schema" in system
        assert schema_in_prompt == (mode in ("json_object", "prompt"))
        fmt = (
            body.get("response_format") if api == "chat" else (body.get("text") or {}).get("format")
        )
        tools = body.get("tools")
        if mode == "json_schema":
            assert fmt["type"] == "json_schema" and tools is None
            schema = fmt["json_schema"]["schema"] if api == "chat" else fmt["schema"]
            assert schema == OUTPUT_SCHEMA
        elif mode == "json_object":
            assert fmt == {"type": "json_object"} and tools is None
        elif mode == "tool":
            assert fmt is None and len(tools) == 1
            fn = tools[0]["function"] if api == "chat" else tools[0]
            assert fn["name"] == SCHEMA_NAME and fn["parameters"] == OUTPUT_SCHEMA
        else:
            assert fmt is None and tools is None


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "plain"])
def test_prompt_mode_takes_the_object_out_of_prose_and_fences(stream: bool) -> None:
    wrapped = "Sure! Here it is:\n```json\n" + json.dumps(DEFAULT_EXTRACTION) + "\n```"
    with Emulator("openai") as emu:
        emu.set_default(Behaviour.text_output(wrapped))
        prompt = make_provider(emu, "openai", api="chat", structured_output="prompt", stream=stream)
        result = asyncio.run(call_once(prompt, SAMPLE_EMAIL))
        assert result.entities.partner_org == DEFAULT_EXTRACTION["partner_org"]
        # where the server enforces JSON, prose around it is invalid output, as before
        enforced = make_provider(emu, "openai", api="chat", structured_output="json_object")
        with pytest.raises(LLMValidationError):
            asyncio.run(call_once(enforced, SAMPLE_EMAIL))


def test_json_schema_refused_with_500_works_in_json_object_mode() -> None:
    """llama-cpp-python's server answers ``json_schema`` with HTTP 500 but takes
    ``json_object``: per-endpoint ``structured_output`` makes such a server usable."""

    def like_llama_cpp(req: object) -> Behaviour:
        body = getattr(req, "json", {}) or {}
        fmt = (body.get("response_format") or {}).get("type")
        return Behaviour.status(500) if fmt == "json_schema" else Behaviour.ok()

    with Emulator("openai") as emu:
        emu.set_default(Behaviour.respond(like_llama_cpp))
        strict = make_provider(emu, "openai", api="chat")
        with pytest.raises(LLMServerError):
            asyncio.run(call_once(strict, SAMPLE_EMAIL))
        lenient = make_provider(emu, "openai", api="chat", structured_output="json_object")
        result = asyncio.run(call_once(lenient, SAMPLE_EMAIL))
        assert result.entities.startup_name == DEFAULT_EXTRACTION["startup_name"]


# -- retry-after behind a LiteLLM gateway -------------------------------------------------


@pytest.mark.parametrize("header", ["llm_provider-retry-after", "llm_provider-retry-after-ms"])
def test_gateway_passed_retry_after_is_read(target: tuple[Target, Emulator], header: str) -> None:
    """LiteLLM passes the upstream's ``retry-after`` on as ``llm_provider-retry-after``."""
    t, emu = target
    value = "7000" if header.endswith("-ms") else "7"

    def gateway_429(req: object) -> Behaviour:
        reply = emu.flavour.error_reply(429, "rate limited upstream", req)  # type: ignore[arg-type]
        return Behaviour.raw(429, reply.body, headers={header: value})

    emu.enqueue(Behaviour.respond(gateway_429))
    result, _ = _watched(_provider(t, emu))
    assert isinstance(result, LLMAPIError) and result.kind == "rate_limit", result
    assert result.retry_after == pytest.approx(7.0)


# -- servers that cannot stream ----------------------------------------------------------


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_server_that_ignores_stream_is_detected_and_timed_whole(api: str) -> None:
    """A server that answers ``"stream": true`` with one JSON body: that body is the answer,
    and the provider stops asking for streams (whole-response timing from then on)."""
    with Emulator("openai") as emu:

        def whole(req: object) -> Behaviour:
            reply = emu.flavour.render(Behaviour.ok(), req)  # type: ignore[arg-type]
            return Behaviour.raw(200, reply.body, headers=reply.headers)

        emu.set_default(Behaviour.respond(whole))
        provider = make_provider(emu, "openai", api=api, timeout_s=2.0)
        assert provider.streams
        first, watch = _watched(provider)
        assert isinstance(first, ProviderResult), first
        assert first.entities.startup_name == DEFAULT_EXTRACTION["startup_name"]
        assert watch.first_event_at is not None  # it answered: not a hang
        assert not provider.streams
        second, _ = _watched(provider)
        assert isinstance(second, ProviderResult)
        assert [r.json.get("stream") for r in emu.requests] == [True, None]


def test_server_that_refuses_stream_is_asked_again_whole() -> None:
    def no_streams(req: object) -> Behaviour:
        if (getattr(req, "json", None) or {}).get("stream"):
            return Behaviour.status(400, message="'stream' is not supported by this server")
        return Behaviour.ok()

    with Emulator("openai") as emu:
        emu.set_default(Behaviour.respond(no_streams))
        provider = make_provider(emu, "openai", api="chat", timeout_s=2.0)
        result, _ = _watched(provider)
        assert isinstance(result, ProviderResult), result
        _watched(provider)
        assert [r.json.get("stream") for r in emu.requests] == [True, None, None]
