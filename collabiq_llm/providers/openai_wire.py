"""OpenAI request shapes per structured-output mode, and the answer text they yield.

Kept apart from transport (``openai.py``) because it is pure data: what to send
for ``structured_output = json_schema | json_object | tool | prompt``, on the
Responses or the Chat Completions API, and where the JSON comes back.

* ``json_schema``: the server enforces the schema (OpenAI, vLLM, Ollama, LM Studio).
* ``json_object``: the server only guarantees *some* JSON object (llama-cpp-python's
  server answers ``json_schema`` with HTTP 500): the schema goes into the prompt.
* ``tool``: a forced function call whose parameters are the schema (servers with
  tool calling but no response formats).
* ``prompt``: nothing enforced (a server that ignores ``text.format``): the schema
  goes into the prompt and the first JSON object of the answer is taken.

Whatever the mode, the answer is validated by ``parse_llm_output`` as before.
"""

from __future__ import annotations

import json
from typing import Any

from collabiq_llm.prompt import SCHEMA_NAME, TOOL_DESCRIPTION, output_schema

SCHEMA_IN_PROMPT = ("json_object", "prompt")


def schema_instructions() -> str:
    """System-prompt addition for modes where the server cannot enforce the schema."""
    schema = json.dumps(output_schema(), ensure_ascii=False, separators=(",", ":"))
    return (
        "\n\nAnswer with exactly one JSON object and nothing else: no prose, no code "
        f"fences. The object must validate against this JSON Schema:\n{schema}"
    )


def chat_params(mode: str, model: str, system: str, user: str, max_tokens: int) -> dict[str, Any]:
    """``chat.completions.create`` arguments (without ``stream``)."""
    if mode in SCHEMA_IN_PROMPT:
        system += schema_instructions()
    params: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        # compatible servers (Ollama, LM Studio) know max_tokens, not max_completion_tokens
        "max_tokens": max_tokens,
    }
    if mode == "json_schema":
        params["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": output_schema()},
        }
    elif mode == "json_object":
        params["response_format"] = {"type": "json_object"}
    elif mode == "tool":
        params["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": SCHEMA_NAME,
                    "description": TOOL_DESCRIPTION,
                    "parameters": output_schema(),
                    "strict": True,
                },
            }
        ]
        params["tool_choice"] = {"type": "function", "function": {"name": SCHEMA_NAME}}
    return params


def responses_params(
    mode: str, model: str, system: str, user: str, max_tokens: int
) -> dict[str, Any]:
    """``responses.create`` arguments (without ``stream``)."""
    if mode in SCHEMA_IN_PROMPT:
        system += schema_instructions()
    params: dict[str, Any] = {
        "model": model,
        "instructions": system,
        "input": user,
        "max_output_tokens": max_tokens,
        "store": False,  # emails carry personal data: nothing kept server-side
    }
    if mode == "json_schema":
        params["text"] = {
            "format": {
                "type": "json_schema",
                "name": SCHEMA_NAME,
                "strict": True,
                "schema": output_schema(),
            }
        }
    elif mode == "json_object":
        params["text"] = {"format": {"type": "json_object"}}
    elif mode == "tool":
        params["tools"] = [
            {
                "type": "function",
                "name": SCHEMA_NAME,
                "description": TOOL_DESCRIPTION,
                "parameters": output_schema(),
                "strict": True,
            }
        ]
        params["tool_choice"] = {"type": "function", "name": SCHEMA_NAME}
    return params


def json_text(mode: str, text: str) -> str:
    """The JSON of an answer: as is when enforced, else the outermost ``{...}`` of the text.

    Only in ``prompt`` mode may a model wrap its object in prose or a code fence;
    anything without braces is returned unchanged, so validation reports it.
    """
    if mode != "prompt":
        return text
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text
