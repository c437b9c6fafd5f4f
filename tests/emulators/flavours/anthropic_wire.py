"""Anthropic Messages API (``POST /v1/messages``) as the real service answers it."""

from __future__ import annotations

import json
from typing import Any

from tests.emulators.behaviour import Behaviour, RecordedRequest
from tests.emulators.flavours import Flavour, Reply, pieces, rand_id, sse, text_of

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
_MESSAGES = {
    400: "messages: at least one message is required",
    401: "invalid x-api-key",
    403: "Your API key does not have permission to use the specified resource.",
    404: "model: claude-unknown",
    408: "Request timed out",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    503: "Overloaded",
    529: "Overloaded",
}


class AnthropicFlavour(Flavour):
    name = "anthropic"
    base_path = ""
    default_key = "emu-anthropic-key-7f3a9c1d"

    def route(self, method: str, path: str) -> str | None:
        return "messages" if method == "POST" and path == "/v1/messages" else None

    def request_id_headers(self) -> dict[str, str]:
        return {
            "request-id": rand_id("req_011C", 20),
            "anthropic-organization-id": "4b4f0c2e-6a1e-4f59-9d36-2b0f6c0e9a11",
        }

    def auth_error(self, req: RecordedRequest, api_key: str) -> Reply | None:
        given = req.header("x-api-key")
        bearer = req.header("authorization") or ""
        if given is None and bearer.lower().startswith("bearer "):
            given = bearer[7:].strip()
        if given is None:
            return self._error(401, "x-api-key header is required")
        if given != api_key:
            return self._error(401, "invalid x-api-key")
        if not req.header("anthropic-version"):
            return self._error(400, "anthropic-version: header is required")
        return None

    def error_reply(self, status: int, message: str | None, req: RecordedRequest) -> Reply:
        return self._error(status, message or _MESSAGES.get(status, "Internal server error"))

    def _error(self, status: int, message: str) -> Reply:
        kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        body = {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": rand_id("req_011C", 20),
        }
        return Reply.json(status, body, {"x-should-retry": "true" if status >= 429 else "false"})

    def _message(
        self,
        req: RecordedRequest,
        b: Behaviour,
        content: list[dict[str, Any]],
        stop: str,
        **extra: Any,
    ) -> Reply:
        body = req.json if isinstance(req.json, dict) else {}
        inp, out = b.usage
        message = {
            "id": rand_id("msg_01", 22),
            "type": "message",
            "role": "assistant",
            "model": b.model or body.get("model") or "claude-sonnet-4-6",
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": inp,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                "output_tokens": out,
                "service_tier": "standard",
            },
            **extra,
        }
        return Reply.json(200, message)

    def _tool_name(self, req: RecordedRequest) -> str:
        body = req.json if isinstance(req.json, dict) else {}
        choice = body.get("tool_choice") or {}
        if isinstance(choice, dict) and choice.get("name"):
            return str(choice["name"])
        tools = body.get("tools") or [{}]
        return str(tools[0].get("name", "record")) if isinstance(tools[0], dict) else "record"

    def output_reply(self, req: RecordedRequest, b: Behaviour, output: Any) -> Reply:
        if isinstance(output, str):  # not JSON: the model wrote prose instead of calling the tool
            return self._message(req, b, [{"type": "text", "text": output}], "end_turn")
        block = {
            "type": "tool_use",
            "id": rand_id("toolu_01", 22),
            "name": self._tool_name(req),
            "input": output,
        }
        return self._message(req, b, [block], "tool_use")

    def special_reply(self, req: RecordedRequest, b: Behaviour) -> Reply:
        if b.kind == "empty":
            return self._message(req, b, [], "end_turn")
        if b.kind in ("refusal", "blocked"):
            return self._message(
                req,
                b,
                [],
                "refusal",
                stop_details={"type": "refusal", "category": None, "explanation": b.message},
            )
        if b.kind == "truncated":
            block = {
                "type": "tool_use",
                "id": rand_id("toolu_01", 22),
                "name": self._tool_name(req),
                "input": {"person_in_charge": "김철수"},
            }
            return self._message(req, b, [block], "max_tokens")
        raise ValueError(f"anthropic emulator cannot render {b.kind!r}")

    def user_prompt(self, req: RecordedRequest) -> str | None:
        body = req.json if isinstance(req.json, dict) else {}
        for msg in reversed(body.get("messages") or []):
            if msg.get("role") == "user":
                return text_of(msg.get("content"))
        return None

    def system_prompt(self, req: RecordedRequest) -> str | None:
        body = req.json if isinstance(req.json, dict) else {}
        return text_of(body.get("system"))

    # -- streaming (POST /v1/messages with "stream": true) ---------------------------
    def stream_events(self, req: RecordedRequest, payload: dict[str, Any]) -> list[bytes]:
        """The Messages stream: message_start, per block start / deltas / stop, message_delta
        (stop reason + output usage), message_stop — as the SDK's accumulator expects."""
        start = {
            **payload,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**payload["usage"], "output_tokens": 1},
        }
        events = [sse({"type": "message_start", "message": start}, "message_start")]
        events.append(sse({"type": "ping"}, "ping"))
        for index, block in enumerate(payload["content"]):
            if block["type"] == "tool_use":
                first = {**block, "input": {}}
                text = json.dumps(block["input"], ensure_ascii=False)
                deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces(text)]
            else:
                first = {**block, "text": ""}
                deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"])]
            events.append(
                sse(
                    {"type": "content_block_start", "index": index, "content_block": first},
                    "content_block_start",
                )
            )
            events += [
                sse(
                    {"type": "content_block_delta", "index": index, "delta": d},
                    "content_block_delta",
                )
                for d in deltas
            ]
            events.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
        delta: dict[str, Any] = {
            "stop_reason": payload["stop_reason"],
            "stop_sequence": payload.get("stop_sequence"),
        }
        if payload.get("stop_details") is not None:
            delta["stop_details"] = payload["stop_details"]
        usage = {"output_tokens": payload["usage"]["output_tokens"]}
        events.append(
            sse({"type": "message_delta", "delta": delta, "usage": usage}, "message_delta")
        )
        events.append(sse({"type": "message_stop"}, "message_stop"))
        return events

    def junk_event(self) -> bytes:
        return b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'

    def stream_error_event(self, status: int, message: str) -> bytes:
        """An error that arrives inside a 200 stream (e.g. overloaded mid-answer)."""
        kind = _ERROR_TYPES.get(status, "api_error")
        return sse({"type": "error", "error": {"type": kind, "message": message}}, "error")
