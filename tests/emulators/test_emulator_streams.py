"""The emulators' streams are what the real APIs send: the SDKs' strict validation and
stream accumulators accept every event, and the faults break a stream the way real
servers and proxies do.

Strict clients (``_strict_response_validation=True``) validate each server-sent event
against the SDK's generated event types; the Anthropic and OpenAI accumulators then
rebuild the same message a non-streamed call returns. google-genai's response models
forbid unknown fields, so validating each chunk with them catches an invented field.
"""

from __future__ import annotations

import json

import pytest

from tests.emulators import DEFAULT_EXTRACTION, Behaviour, Emulator
from tests.emulators.test_emulators import BODY_KINDS, IDS, SCHEMA


@pytest.mark.parametrize("behaviour", BODY_KINDS, ids=IDS)
def test_anthropic_stream_passes_strict_validation_and_accumulates(behaviour: Behaviour) -> None:
    import anthropic

    with Emulator("anthropic") as emu:
        emu.set_default(behaviour)
        client = anthropic.Anthropic(
            api_key=emu.api_key,
            base_url=emu.base_url,
            max_retries=0,
            timeout=5,
            _strict_response_validation=True,
        )
        params = {
            "model": "claude-sonnet-4-6",
            "max_tokens": 256,
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"name": "collab_extraction", "input_schema": SCHEMA}],
            "tool_choice": {"type": "tool", "name": "collab_extraction"},
        }
        whole = client.messages.create(**params)  # type: ignore[arg-type]
        with client.messages.stream(**params) as stream:  # type: ignore[arg-type]
            kinds = [event.type for event in stream]
            streamed = stream.get_final_message()
        client.close()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert streamed.stop_reason == whole.stop_reason
    assert streamed.usage.input_tokens == whole.usage.input_tokens
    assert streamed.usage.output_tokens == whole.usage.output_tokens
    assert [b.type for b in streamed.content] == [b.type for b in whole.content]
    for got, want in zip(streamed.content, whole.content, strict=True):
        if want.type == "tool_use":
            assert got.input == want.input  # rebuilt from the input_json_delta pieces


@pytest.mark.parametrize("behaviour", BODY_KINDS, ids=IDS)
@pytest.mark.parametrize("api", ["responses", "chat"])
def test_openai_stream_passes_strict_validation(behaviour: Behaviour, api: str) -> None:
    import openai

    fmt = {"type": "json_schema", "name": "collab_extraction", "strict": True, "schema": SCHEMA}
    with Emulator("openai") as emu:
        emu.set_default(behaviour)
        client = openai.OpenAI(
            api_key=emu.api_key,
            base_url=emu.base_url,
            max_retries=0,
            timeout=5,
            _strict_response_validation=True,
        )
        if api == "responses":
            events = list(
                client.responses.create(
                    model="gpt-5-mini",
                    input="hi",
                    text={"format": fmt},
                    max_output_tokens=256,
                    stream=True,
                )
            )
            assert events[0].type == "response.created"
            final = events[-1]
            assert final.type in ("response.completed", "response.incomplete")
            assert final.response.usage is not None
            assert final.response.usage.input_tokens == behaviour.usage[0]
            numbers = [e.sequence_number for e in events]
            assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        else:
            chunks = list(
                client.chat.completions.create(
                    model="gpt-5-mini",
                    messages=[{"role": "user", "content": "hi"}],
                    response_format={"type": "json_schema", "json_schema": fmt},
                    stream=True,
                    stream_options={"include_usage": True},
                )
            )
            assert chunks[-1].usage is not None
            assert chunks[-1].usage.prompt_tokens == behaviour.usage[0]
            assert chunks[-1].choices == []
        client.close()


def test_gemini_stream_chunks_use_only_real_field_names() -> None:
    from google.genai import types

    with Emulator("gemini") as emu:
        emu.set_default(Behaviour.ok())
        import http.client

        conn = http.client.HTTPConnection(emu.host, emu.port, timeout=5)
        body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
        conn.request(
            "POST",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            json.dumps(body),
            {"content-type": "application/json", "x-goog-api-key": emu.api_key},
        )
        resp = conn.getresponse()
        raw = resp.read().decode()
        conn.close()
    assert resp.status == 200 and resp.getheader("content-type", "").startswith("text/event-stream")
    datas = [line[len("data: ") :] for line in raw.splitlines() if line.startswith("data: ")]
    assert len(datas) > 1
    text = ""
    for data in datas:
        chunk = types.GenerateContentResponse._from_response(response=json.loads(data), kwargs={})
        text += "".join(p.text or "" for p in chunk.candidates[0].content.parts)
    assert json.loads(text) == DEFAULT_EXTRACTION
    assert chunk.candidates[0].finish_reason == "STOP"
    assert chunk.usage_metadata.candidates_token_count == 40


def test_a_stall_sends_headers_and_then_nothing() -> None:
    """``stalled(0)``: a 200 with event-stream headers, then silence (a read timeout)."""
    import httpx2 as httpx

    with Emulator("openai") as emu:
        emu.enqueue(Behaviour.ok().stalled(after_events=0))
        body = {"model": "m", "input": "hi", "stream": True}
        headers = {"authorization": f"Bearer {emu.api_key}"}
        with (
            httpx.Client(timeout=httpx.Timeout(5.0, read=0.3)) as client,
            client.stream("POST", emu.base_url + "/responses", json=body, headers=headers) as r,
        ):
            assert r.status_code == 200
            with pytest.raises(httpx.ReadTimeout):
                for _ in r.iter_bytes():
                    pass
