"""The emulators are faithful enough to trust: the SDKs' strict validation accepts them.

anthropic / openai clients built with ``_strict_response_validation=True`` check
every body against types generated from the official API specs; google-genai's
response models forbid unknown fields, so validating our camelCase bodies with
them catches any invented field.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.emulators import DEFAULT_EXTRACTION, Behaviour, Emulator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = {"type": "object", "properties": {}, "additionalProperties": False, "required": []}
BODY_KINDS = [
    Behaviour.ok(),
    Behaviour.ok(reasoning_tokens=12, usage=(300, 90)),
    Behaviour.schema_violation(),
    Behaviour.malformed_json("output"),
    Behaviour.empty(),
    Behaviour.refusal(),
    Behaviour.blocked(),
    Behaviour.truncated(),
]
IDS = ["ok", "ok-reasoning", "schema", "bad-output", "empty", "refusal", "blocked", "truncated"]


def _post(emu: Emulator, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any, dict]:
    conn = http.client.HTTPConnection(emu.host, emu.port, timeout=5)
    try:
        conn.request(
            "POST", path, json.dumps(body), {"content-type": "application/json", **headers}
        )
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None, dict(resp.getheaders())
    finally:
        conn.close()


@pytest.mark.parametrize("behaviour", BODY_KINDS, ids=IDS)
def test_anthropic_bodies_pass_strict_validation(behaviour: Behaviour) -> None:
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
        message = client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=256,
            messages=[{"role": "user", "content": "hi"}],
            tools=[{"name": "collab_extraction", "input_schema": SCHEMA}],
            tool_choice={"type": "tool", "name": "collab_extraction"},
        )
        client.close()
    assert message.id.startswith("msg_")
    assert message.model == "claude-sonnet-4-6"
    assert message.usage.input_tokens == behaviour.usage[0]
    assert message.stop_reason in {"tool_use", "end_turn", "refusal", "max_tokens"}
    assert message._request_id and message._request_id.startswith("req_")


@pytest.mark.parametrize("behaviour", BODY_KINDS, ids=IDS)
@pytest.mark.parametrize("api", ["responses", "chat"])
def test_openai_bodies_pass_strict_validation(behaviour: Behaviour, api: str) -> None:
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
            resp = client.responses.create(
                model="gpt-5-mini", input="hi", text={"format": fmt}, max_output_tokens=256
            )
            assert resp.id.startswith("resp_")
            assert resp.usage is not None and resp.usage.input_tokens == behaviour.usage[0]
            assert resp.status in {"completed", "incomplete"}
        else:
            chat = client.chat.completions.create(
                model="gpt-5-mini",
                messages=[{"role": "user", "content": "hi"}],
                response_format={"type": "json_schema", "json_schema": fmt},
            )
            assert chat.id.startswith("chatcmpl-")
            assert chat.usage is not None and chat.usage.prompt_tokens == behaviour.usage[0]
        client.close()


@pytest.mark.parametrize("behaviour", BODY_KINDS, ids=IDS)
@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_gemini_bodies_use_only_real_field_names(behaviour: Behaviour, version: str) -> None:
    from google.genai import types

    with Emulator("gemini") as emu:
        emu.set_default(behaviour)
        status, body, _ = _post(
            emu,
            f"/{version}/models/gemini-2.5-flash:generateContent",
            {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
            {"x-goog-api-key": emu.api_key},
        )
    assert status == 200
    # extra="forbid" + camelCase aliases: an invented or misspelt field fails here.
    parsed = types.GenerateContentResponse.model_validate(body)
    assert parsed.usage_metadata is not None
    assert parsed.usage_metadata.prompt_token_count == behaviour.usage[0]
    assert parsed.model_version == "gemini-2.5-flash" and parsed.response_id


@pytest.mark.parametrize(
    ("status", "cls_name"),
    [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (403, "PermissionDeniedError"),
        (404, "NotFoundError"),
        (408, "RequestTimeoutError"),
        (429, "RateLimitError"),
        (500, "InternalServerError"),
        (503, "ServiceUnavailableError"),
        (529, "OverloadedError"),
    ],
)
def test_anthropic_error_bodies(status: int, cls_name: str) -> None:
    import anthropic

    with Emulator("anthropic") as emu:
        emu.set_default(Behaviour.status(status, retry_after=3))
        client = anthropic.Anthropic(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)
        with pytest.raises(anthropic.APIStatusError) as info:
            client.messages.create(
                model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
        client.close()
    exc = info.value
    assert type(exc).__name__ == cls_name
    assert exc.body["type"] == "error" and set(exc.body["error"]) == {"type", "message"}
    assert exc.response.headers["retry-after"] == "3"
    assert exc.request_id and exc.request_id.startswith("req_")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 408, 429, 500, 503])
def test_openai_error_bodies(status: int) -> None:
    import openai

    with Emulator("openai") as emu:
        emu.set_default(Behaviour.status(status, retry_after_ms=250))
        client = openai.OpenAI(api_key=emu.api_key, base_url=emu.base_url, max_retries=0)
        with pytest.raises(openai.APIStatusError) as info:
            client.responses.create(model="gpt-5-mini", input="hi")
        client.close()
    exc = info.value
    assert exc.status_code == status
    assert set(exc.body) == {"message", "type", "param", "code"}  # the SDK unwraps "error"
    assert exc.response.headers["retry-after-ms"] == "250"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 503])
def test_gemini_error_bodies(status: int) -> None:
    from google.genai import Client, errors, types

    with Emulator("gemini") as emu:
        emu.set_default(Behaviour.status(status))
        client = Client(api_key=emu.api_key, http_options=types.HttpOptions(base_url=emu.base_url))
        with pytest.raises(errors.APIError) as info:
            client.models.generate_content(model="gemini-2.5-flash", contents="hi")
        client.close()
    exc = info.value
    assert exc.code == status and exc.message and exc.status
    if status == 429:
        assert exc.status == "RESOURCE_EXHAUSTED"
        assert any(d.get("retryDelay") for d in exc.details["error"]["details"])


def test_auth_is_checked_with_each_providers_real_rejection() -> None:
    with Emulator("anthropic", api_key="right") as emu:
        status, body, _ = _post(emu, "/v1/messages", {}, {"x-api-key": "wrong"})
        assert (status, body["error"]["type"]) == (401, "authentication_error")
        status, body, _ = _post(emu, "/v1/messages", {}, {"authorization": "Bearer right"})
        assert status == 400 and "anthropic-version" in body["error"]["message"]
    with Emulator("openai", api_key="right-key-0123456789") as emu:
        status, body, _ = _post(
            emu, "/v1/responses", {}, {"authorization": "Bearer wrong-key-0123456789"}
        )
        assert (status, body["error"]["code"]) == (401, "invalid_api_key")
        assert "wrong-key-0123456789" not in json.dumps(body)  # the real API masks it too
    with Emulator("gemini", api_key="right") as emu:
        path = "/v1beta/models/gemini-2.5-flash:generateContent"
        status, body, _ = _post(emu, path, {}, {"x-goog-api-key": "wrong"})
        assert status == 400 and "API_KEY_INVALID" in json.dumps(body)
        status, body, _ = _post(emu, path, {}, {})
        assert (status, body["error"]["status"]) == (403, "PERMISSION_DENIED")
        status, _, _ = _post(emu, path + "?key=right", {"contents": []}, {})
        assert status == 200
        assert emu.request_count == 3


def test_queue_then_default_and_respond_sees_the_request() -> None:
    seen: list[str | None] = []

    def oracle(req: Any) -> Behaviour:
        seen.append(req.user_prompt())
        return Behaviour.ok({**DEFAULT_EXTRACTION, "startup_name": "오라클"})

    with Emulator("openai") as emu:
        emu.set_default(Behaviour.respond(oracle))
        emu.enqueue(Behaviour.status(503), Behaviour.status(429))
        headers = {"authorization": f"Bearer {emu.api_key}"}
        codes = [
            _post(
                emu,
                "/v1/chat/completions",
                {"messages": [{"role": "user", "content": f"m{i}"}]},
                headers,
            )[0]
            for i in range(3)
        ]
        assert codes == [503, 429, 200]
        assert seen == ["m2"]
        assert [r.endpoint for r in emu.requests] == ["chat"] * 3


def test_hang_blocks_neither_other_requests_nor_stop() -> None:
    emu = Emulator("anthropic").start()
    emu.enqueue(Behaviour.hang(max_s=30))
    headers = {"x-api-key": emu.api_key, "anthropic-version": "2023-06-01"}
    errors: list[BaseException] = []

    def hung_call() -> None:
        try:
            _post(emu, "/v1/messages", {"messages": []}, headers)
        except BaseException as exc:  # the dropped connection is expected here
            errors.append(exc)

    thread = threading.Thread(target=hung_call, daemon=True)
    thread.start()
    assert emu.wait_for_requests(1)
    status, _, _ = _post(emu, "/v1/messages", {"messages": []}, headers)
    assert status == 200 and thread.is_alive()  # answered while the other call still hangs
    emu.stop()
    thread.join(timeout=10)  # generous: the hang itself would last 30 s
    assert not thread.is_alive() and errors


def test_drop_closes_without_response() -> None:
    with Emulator("gemini") as emu:
        emu.set_default(Behaviour.drop())
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            _post(emu, "/v1/models/m:generateContent", {}, {"x-goog-api-key": emu.api_key})


def test_keep_alive_connections_disable_nagle() -> None:
    """TCP_NODELAY on every server-side socket: without it each keep-alive request waits
    ~40 ms for a delayed ACK (checked as the socket option, not with a stopwatch)."""
    with Emulator("openai") as emu:
        conn = http.client.HTTPConnection(emu.host, emu.port, timeout=5)
        body = json.dumps({"model": "m", "input": "hi"})
        headers = {"authorization": f"Bearer {emu.api_key}", "content-type": "application/json"}
        for _ in range(3):
            conn.request("POST", "/v1/responses", body, headers)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
        with emu._lock:  # the server side of every open connection
            server_sides = list(emu._conns)
        assert server_sides
        for sock in server_sides:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        conn.close()


def test_cli_prints_base_url_and_serves() -> None:
    import openai

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators", "--flavour", "openai", "--latency-ms", "5"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        api_key = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=5)
        resp = client.responses.create(model="gpt-5-mini", input="hi")
        assert json.loads(resp.output_text)["startup_name"] == "본봄"
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
