"""What each provider puts on the wire is what its API expects.

Path, auth header, model, structured-output fields, token limit and timeout,
checked on the request the emulator recorded from the real SDK.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from collabiq_llm.prompt import OUTPUT_SCHEMA, SCHEMA_NAME
from tests.contract.conftest import SAMPLE_EMAIL, call_once
from tests.emulators import Emulator
from tests.emulators.fixtures import BASE_URL_ENV, make_provider

pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")

COMPANIES = "- 신세계인터내셔널 (Shinsegae International, SI)\n- 본봄 (Bonbom)"


def _run(emu: Emulator, kind: str, **kwargs: object) -> None:
    provider = make_provider(emu, kind, **kwargs)  # type: ignore[arg-type]
    asyncio.run(call_once(provider, SAMPLE_EMAIL))


def _check_prompt(system: str | None, user: str | None) -> None:
    assert system and "untrusted data" in system and "Known companies" in system
    assert "신세계인터내셔널 (Shinsegae International, SI)" in system
    assert user and "Email received: 2025-11-02" in user
    assert f"<email>\n{SAMPLE_EMAIL.text}\n</email>" in user


def test_claude_request(anthropic_emulator: Emulator) -> None:
    emu = anthropic_emulator
    _run(emu, "claude", timeout_s=7.5, max_output_tokens=900, company_context=COMPANIES)
    req = emu.requests[0]
    body = req.json
    assert (req.method, req.path) == ("POST", "/v1/messages")
    auth = req.header("authorization") or ""
    assert req.header("x-api-key") == emu.api_key or auth == f"Bearer {emu.api_key}"
    assert req.header("anthropic-version")
    assert req.header("x-stainless-retry-count") == "0"
    assert float(req.header("x-stainless-read-timeout") or 0) == 7.5
    assert body["model"] == "claude-sonnet-4-6"
    assert body["max_tokens"] == 900
    assert body["tools"] == [
        {
            "name": SCHEMA_NAME,
            "description": body["tools"][0]["description"],
            "input_schema": OUTPUT_SCHEMA,
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": SCHEMA_NAME}
    assert [m["role"] for m in body["messages"]] == ["user"]
    _check_prompt(req.system_prompt(), req.user_prompt())


def test_openai_responses_request(openai_emulator: Emulator) -> None:
    emu = openai_emulator
    _run(
        emu,
        "openai",
        api="responses",
        timeout_s=6.0,
        max_output_tokens=700,
        company_context=COMPANIES,
    )
    req = emu.requests[0]
    body = req.json
    assert (req.method, req.path) == ("POST", "/v1/responses")
    assert req.header("authorization") == f"Bearer {emu.api_key}"
    assert req.header("x-stainless-retry-count") == "0"
    assert float(req.header("x-stainless-read-timeout") or 0) == 6.0
    assert body["model"] == "gpt-5-mini"
    assert body["text"]["format"] == {
        "type": "json_schema",
        "name": SCHEMA_NAME,
        "strict": True,
        "schema": OUTPUT_SCHEMA,
    }
    assert body["max_output_tokens"] == 700
    assert body["store"] is False
    _check_prompt(body["instructions"], body["input"])


def test_openai_chat_request(openai_emulator: Emulator) -> None:
    emu = openai_emulator
    _run(
        emu,
        "openai",
        api="chat",
        max_output_tokens=512,
        company_context=COMPANIES,
        model="llama3.1:8b",
    )
    req = emu.requests[0]
    body = req.json
    assert (req.method, req.path) == ("POST", "/v1/chat/completions")
    assert req.header("authorization") == f"Bearer {emu.api_key}"
    assert body["model"] == "llama3.1:8b"
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": OUTPUT_SCHEMA},
    }
    assert body["max_tokens"] == 512
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    _check_prompt(req.system_prompt(), req.user_prompt())


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("api_version", [None, "v1beta"])
def test_gemini_request(gemini_emulator: Emulator, api_version: str | None, stream: bool) -> None:
    emu = gemini_emulator
    _run(
        emu,
        "gemini",
        timeout_s=2.5,
        max_output_tokens=800,
        company_context=COMPANIES,
        api_version=api_version,
        stream=stream,
    )
    req = emu.requests[0]
    body = req.json
    version = api_version or "v1"
    method = "streamGenerateContent" if stream else "generateContent"
    assert (req.method, req.path) == ("POST", f"/{version}/models/gemini-2.5-flash:{method}")
    assert req.query == ({"alt": "sse"} if stream else {})
    assert req.header("x-goog-api-key") == emu.api_key
    assert req.header("x-server-timeout") == str(math.ceil(2.5))
    gen = body["generationConfig"]
    assert gen["responseMimeType"] == "application/json"
    assert gen["responseJsonSchema"] == OUTPUT_SCHEMA
    assert gen["maxOutputTokens"] == 800
    assert body["contents"][0]["role"] == "user"
    _check_prompt(req.system_prompt(), req.user_prompt())


@pytest.mark.parametrize("kind", ["claude", "openai", "gemini"])
def test_base_url_with_trailing_slash(kind: str) -> None:
    flavour = {"claude": "anthropic", "openai": "openai", "gemini": "gemini"}[kind]
    with Emulator(flavour) as emu:
        _run(emu, kind, base_url=emu.base_url + "/")
        assert emu.request_count == 1 and emu.requests[0].endpoint is not None


@pytest.mark.parametrize("kind", ["claude", "openai", "gemini"])
def test_sdk_base_url_env_var_works_when_config_has_none(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flavour = {"claude": "anthropic", "openai": "openai", "gemini": "gemini"}[kind]
    with Emulator(flavour) as emu:
        monkeypatch.setenv(BASE_URL_ENV[kind], emu.base_url)
        _run(emu, kind, base_url=None)
        assert emu.request_count == 1 and emu.requests[0].endpoint is not None


def test_keyless_openai_compatible_server_gets_a_dummy_key() -> None:
    with Emulator("openai", api_key="not-needed") as emu:
        _run(emu, "openai", api="chat", api_key="", key_required=False)
        assert emu.requests[0].header("authorization") == "Bearer not-needed"
