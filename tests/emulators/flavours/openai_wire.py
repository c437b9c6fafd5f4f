"""OpenAI Responses (``POST /v1/responses``) and Chat Completions (``/v1/chat/completions``)."""

from __future__ import annotations

import json
from typing import Any

from tests.emulators.behaviour import Behaviour, RecordedRequest
from tests.emulators.flavours import Flavour, Reply, now_s, pieces, rand_id, sse, text_of

_HEX = "0123456789abcdef"
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid schema for response_format 'collab_extraction'."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided: sk-proj-********************************wxyz. "
        "You can find your API key at https://platform.openai.com/account/api-keys.",
    ),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model `gpt-unknown` does not exist or you do not have access to it.",
    ),
    408: ("timeout", None, "Request timed out."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for gpt-5-mini in organization org-emulator on requests per min "
        "(RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def _mask(key: str) -> str:
    """How OpenAI echoes a wrong key: first 6 and last 4 characters only."""
    return key[:6] + "*" * max(0, len(key) - 10) + key[-4:] if len(key) > 10 else "****"


class OpenAIFlavour(Flavour):
    name = "openai"
    base_path = "/v1"
    default_key = "emu-openai-key-2b8e4d6f"

    def route(self, method: str, path: str) -> str | None:
        if method != "POST":
            return None
        return {"/v1/responses": "responses", "/v1/chat/completions": "chat"}.get(path)

    def request_id_headers(self) -> dict[str, str]:
        return {
            "x-request-id": rand_id("req_", 32, _HEX),
            "openai-processing-ms": "412",
            "openai-version": "2020-10-01",
        }

    def auth_error(self, req: RecordedRequest, api_key: str) -> Reply | None:
        auth = req.header("authorization") or ""
        if not auth.lower().startswith("bearer "):
            return self._error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
                None,
            )
        given = auth[7:].strip()
        if given != api_key:
            return self._error(
                401,
                f"Incorrect API key provided: {_mask(given)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            )
        return None

    def error_reply(self, status: int, message: str | None, req: RecordedRequest) -> Reply:
        kind, code, default = _ERRORS.get(
            status,
            ("server_error", None, "The server had an error while processing your request.")
            if status >= 500
            else ("invalid_request_error", None, "Bad request."),
        )
        return self._error(status, message or default, kind, code)

    def _error(self, status: int, message: str, kind: str, code: str | None) -> Reply:
        return Reply.json(
            status, {"error": {"message": message, "type": kind, "param": None, "code": code}}
        )

    # -- Responses -----------------------------------------------------------
    def _response(
        self,
        req: RecordedRequest,
        b: Behaviour,
        output: list[dict[str, Any]],
        *,
        status: str = "completed",
        incomplete: dict[str, Any] | None = None,
    ) -> Reply:
        body = req.json if isinstance(req.json, dict) else {}
        inp, out = b.usage
        created = now_s()
        items = list(output)
        if b.reasoning_tokens:
            items.insert(0, {"id": rand_id("rs_", 48, _HEX), "type": "reasoning", "summary": []})
        text_cfg = body.get("text") if isinstance(body.get("text"), dict) else {}
        response = {
            "id": rand_id("resp_", 48, _HEX),
            "object": "response",
            "created_at": created,
            "status": status,
            "background": False,
            "completed_at": created + 1 if status == "completed" else None,
            "error": None,
            "incomplete_details": incomplete,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": None,
            "model": b.model or body.get("model") or "gpt-5-mini-2025-08-07",
            "output": items,
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "prompt_cache_key": None,
            "prompt_cache_retention": None,
            "reasoning": {"effort": "medium", "summary": None},
            "safety_identifier": None,
            "service_tier": "default",
            "store": body.get("store", True),
            "temperature": 1.0,
            "text": {
                "format": text_cfg.get("format") or {"type": "text"},
                "verbosity": "medium",
            },
            "tool_choice": "auto",
            "tools": [],
            "top_logprobs": 0,
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": {
                "input_tokens": inp,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens": out,
                "output_tokens_details": {"reasoning_tokens": b.reasoning_tokens},
                "total_tokens": inp + out,
            },
            "user": None,
            "metadata": {},
        }
        return Reply.json(200, response)

    def _message_item(self, content: list[dict[str, Any]], status: str = "completed") -> dict:
        return {
            "id": rand_id("msg_", 48, _HEX),
            "type": "message",
            "status": status,
            "content": content,
            "role": "assistant",
        }

    @staticmethod
    def _text_part(text: str) -> dict[str, Any]:
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}

    # -- Chat Completions ----------------------------------------------------------
    def _chat(
        self,
        req: RecordedRequest,
        b: Behaviour,
        message: dict[str, Any] | None,
        finish: str = "stop",
    ) -> Reply:
        body = req.json if isinstance(req.json, dict) else {}
        inp, out = b.usage
        choices = []
        if message is not None:
            msg = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
            msg.update(message)
            choices.append({"index": 0, "message": msg, "logprobs": None, "finish_reason": finish})
        completion = {
            "id": rand_id("chatcmpl-", 29),
            "object": "chat.completion",
            "created": now_s(),
            "model": b.model or body.get("model") or "gpt-5-mini-2025-08-07",
            "choices": choices,
            "usage": {
                "prompt_tokens": inp,
                "completion_tokens": out,
                "total_tokens": inp + out,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": b.reasoning_tokens,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": None,
        }
        return Reply.json(200, completion)

    @staticmethod
    def forced_tool(req: RecordedRequest) -> str | None:
        """The function the request forces (``structured_output = "tool"``), if any."""
        body = req.json if isinstance(req.json, dict) else {}
        choice = body.get("tool_choice")
        if not isinstance(choice, dict) or choice.get("type") != "function":
            return None
        name = choice.get("name") or (choice.get("function") or {}).get("name")
        return str(name) if name else None

    def output_reply(self, req: RecordedRequest, b: Behaviour, output: Any) -> Reply:
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
        tool = self.forced_tool(req)
        if req.endpoint == "chat":
            if tool is not None:
                call = {
                    "id": rand_id("call_", 24),
                    "type": "function",
                    "function": {"name": tool, "arguments": text},
                }
                return self._chat(req, b, {"tool_calls": [call]}, finish="tool_calls")
            return self._chat(req, b, {"content": text})
        if tool is not None:
            item = {
                "id": rand_id("fc_", 48, _HEX),
                "type": "function_call",
                "status": "completed",
                "call_id": rand_id("call_", 24),
                "name": tool,
                "arguments": text,
            }
            return self._response(req, b, [item])
        return self._response(req, b, [self._message_item([self._text_part(text)])])

    def special_reply(self, req: RecordedRequest, b: Behaviour) -> Reply:
        chat = req.endpoint == "chat"
        if b.kind == "empty":
            return self._chat(req, b, {"content": ""}) if chat else self._response(req, b, [])
        if b.kind in ("refusal", "blocked"):
            msg = b.message or "I'm sorry, but I can't help with that."
            if chat:
                return self._chat(req, b, {"content": None, "refusal": msg})
            part = {"type": "refusal", "refusal": msg}
            return self._response(req, b, [self._message_item([part])])
        if b.kind == "truncated":
            partial = '{"person_in_charge": "김철수", "startup_na'
            if chat:
                return self._chat(req, b, {"content": partial}, finish="length")
            item = self._message_item([self._text_part(partial)], status="incomplete")
            return self._response(
                req, b, [item], status="incomplete", incomplete={"reason": "max_output_tokens"}
            )
        raise ValueError(f"openai emulator cannot render {b.kind!r}")

    def user_prompt(self, req: RecordedRequest) -> str | None:
        body = req.json if isinstance(req.json, dict) else {}
        if req.endpoint == "chat":
            for msg in reversed(body.get("messages") or []):
                if msg.get("role") == "user":
                    return text_of(msg.get("content"))
            return None
        value = body.get("input")
        if isinstance(value, list):
            users = [m for m in value if isinstance(m, dict) and m.get("role") == "user"]
            return text_of(users[-1].get("content")) if users else None
        return text_of(value)

    def system_prompt(self, req: RecordedRequest) -> str | None:
        body = req.json if isinstance(req.json, dict) else {}
        if req.endpoint == "chat":
            for msg in body.get("messages") or []:
                if msg.get("role") in ("system", "developer"):
                    return text_of(msg.get("content"))
            return None
        return text_of(body.get("instructions"))

    # -- streaming ("stream": true) -------------------------------------------------------
    def junk_event(self) -> bytes:
        return b'event: response.output_text.delta\ndata: {"type": "response.output_te\n\n'

    def stream_events(self, req: RecordedRequest, payload: dict[str, Any]) -> list[bytes]:
        if req.endpoint == "chat":
            return self._chat_events(req, payload)
        return self._response_events(payload)

    def _response_events(self, payload: dict[str, Any]) -> list[bytes]:
        """Responses stream: created, in_progress, per item added / part added / text deltas /
        done events, then the terminal event carrying the whole response."""
        seq = iter(range(10_000))

        def ev(kind: str, **fields: Any) -> bytes:
            return sse({"type": kind, "sequence_number": next(seq), **fields}, kind)

        running = {
            **payload,
            "status": "in_progress",
            "output": [],
            "completed_at": None,
            "incomplete_details": None,
            "usage": None,
        }
        events = [ev("response.created", response=running)]
        events.append(ev("response.in_progress", response=running))
        for out_i, item in enumerate(payload["output"]):
            added = {**item, "status": "in_progress"}
            if item["type"] == "message":
                added["content"] = []
            if item["type"] == "function_call":
                added["arguments"] = ""
            events.append(ev("response.output_item.added", output_index=out_i, item=added))
            if item["type"] == "function_call":
                where = {"item_id": item["id"], "output_index": out_i}
                for piece in pieces(item["arguments"]):
                    events.append(
                        ev("response.function_call_arguments.delta", **where, delta=piece)
                    )
                events.append(
                    ev(
                        "response.function_call_arguments.done",
                        **where,
                        arguments=item["arguments"],
                    )
                )
            for part_i, part in enumerate(item.get("content") or []):
                where = {"item_id": item["id"], "output_index": out_i, "content_index": part_i}
                empty = {**part, "text": ""} if part["type"] == "output_text" else part
                events.append(ev("response.content_part.added", **where, part=empty))
                if part["type"] == "output_text":
                    for piece in pieces(part["text"]):
                        events.append(
                            ev("response.output_text.delta", **where, delta=piece, logprobs=[])
                        )
                    events.append(
                        ev("response.output_text.done", **where, text=part["text"], logprobs=[])
                    )
                events.append(ev("response.content_part.done", **where, part=part))
            events.append(ev("response.output_item.done", output_index=out_i, item=item))
        terminal = {"completed": "response.completed", "incomplete": "response.incomplete"}
        events.append(ev(terminal.get(payload["status"], "response.failed"), response=payload))
        return events

    def _chat_events(self, req: RecordedRequest, payload: dict[str, Any]) -> list[bytes]:
        """Chat Completions chunks: role, content (or refusal) deltas, finish reason, then a
        usage-only chunk when ``stream_options.include_usage`` asked for it, then [DONE]."""
        body = req.json if isinstance(req.json, dict) else {}
        head = {k: payload[k] for k in ("id", "created", "model", "service_tier")}
        head |= {"object": "chat.completion.chunk", "system_fingerprint": None}

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            return sse({**head, "choices": choices, **extra})

        events: list[bytes] = []
        for choice in payload["choices"]:
            msg = choice["message"]
            base = {"index": choice["index"], "logprobs": None, "finish_reason": None}
            role = {"role": "assistant", "content": "", "refusal": None}
            events.append(chunk([{**base, "delta": role}]))
            for piece in pieces(msg.get("content") or ""):
                events.append(chunk([{**base, "delta": {"content": piece}}]))
            for piece in pieces(msg.get("refusal") or ""):
                events.append(chunk([{**base, "delta": {"refusal": piece}}]))
            for call_i, call in enumerate(msg.get("tool_calls") or []):
                fn = call["function"]
                first = {"index": call_i, "id": call["id"], "type": "function"}
                first["function"] = {"name": fn["name"], "arguments": ""}
                events.append(chunk([{**base, "delta": {"tool_calls": [first]}}]))
                for piece in pieces(fn["arguments"]):
                    more = {"index": call_i, "function": {"arguments": piece}}
                    events.append(chunk([{**base, "delta": {"tool_calls": [more]}}]))
            events.append(chunk([{**base, "delta": {}, "finish_reason": choice["finish_reason"]}]))
        options = body.get("stream_options") or {}
        if isinstance(options, dict) and options.get("include_usage"):
            events.append(chunk([], usage=payload["usage"]))
        events.append(sse("[DONE]"))
        return events
