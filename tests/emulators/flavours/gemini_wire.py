"""Gemini API ``POST /{v1,v1beta}/models/{model}:generateContent`` (camelCase JSON)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from tests.emulators.behaviour import Behaviour, RecordedRequest
from tests.emulators.flavours import Flavour, Reply, pieces, rand_id, sse

_PATH = re.compile(
    r"^/(v1|v1beta|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)$"
)
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "UNAVAILABLE",
}
_MESSAGES = {
    400: 'Invalid JSON payload received. Unknown name "foo": Cannot find field.',
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential.",
    403: "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API.",
    404: "models/gemini-unknown is not found for API version v1beta, or is not supported for "
    "generateContent. Call ListModels to see the list of available models and their "
    "supported methods.",
    408: "Deadline expired before operation could complete.",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
    529: "The model is overloaded. Please try again later.",
}
_SAFETY = [
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
]


class GeminiFlavour(Flavour):
    name = "gemini"
    base_path = ""
    default_key = "emu-gemini-key-5c1e8a3b"
    server_header = "scaffolding on HTTPServer2"

    def route(self, method: str, path: str) -> str | None:
        match = _PATH.match(unquote(path)) if method == "POST" else None
        if match is None:
            return None
        return "stream" if match.group(3) == "streamGenerateContent" else "generate"

    def is_stream(self, req: RecordedRequest) -> bool:
        """Gemini streams on its own method (``:streamGenerateContent?alt=sse``)."""
        return req.endpoint == "stream"

    def stream_events(self, req: RecordedRequest, payload: dict[str, Any]) -> list[bytes]:
        """SSE chunks as the real API sends them: each a GenerateContentResponse holding a
        piece of the text; the last one carries finishReason and the full usage."""
        meta = {"modelVersion": payload["modelVersion"], "responseId": payload["responseId"]}
        usage = payload["usageMetadata"]
        prompt_only = {k: v for k, v in usage.items() if k.startswith("prompt")}
        prompt_only["totalTokenCount"] = usage.get("promptTokenCount", 0)
        candidates = payload.get("candidates")
        if not candidates:  # blocked / empty: one chunk, as the real API does
            return [sse(payload, sep="\r\n\r\n")]
        cand = candidates[0]
        parts = (cand.get("content") or {}).get("parts") or []
        text = "".join(p.get("text", "") for p in parts)
        chunks = pieces(text) or [""]
        events = []
        for i, piece in enumerate(chunks):
            last = i == len(chunks) - 1
            chunk_cand: dict[str, Any] = {"index": 0}
            if piece or "content" in cand:
                chunk_cand["content"] = {"parts": [{"text": piece}], "role": "model"}
            if last:
                chunk_cand |= {k: v for k, v in cand.items() if k not in ("content", "index")}
            body = {"candidates": [chunk_cand], "usageMetadata": usage if last else prompt_only}
            events.append(sse({**body, **meta}, sep="\r\n\r\n"))
        return events

    def api_version(self, req: RecordedRequest) -> str | None:
        match = _PATH.match(unquote(req.path))
        return match.group(1) if match else None

    def model(self, req: RecordedRequest) -> str:
        match = _PATH.match(unquote(req.path))
        return match.group(2) if match else "gemini-2.5-flash"

    def request_id_headers(self) -> dict[str, str]:
        return {"server-timing": "gfet4t7; dur=812", "vary": "Origin, X-Origin, Referer"}

    def auth_error(self, req: RecordedRequest, api_key: str) -> Reply | None:
        given = req.header("x-goog-api-key") or req.query.get("key")
        if not given:
            return self.error_reply(403, None, req)
        if given != api_key:
            # The real service answers a wrong key with 400 INVALID_ARGUMENT, not 401.
            return self._error(
                400,
                "API key not valid. Please pass a valid API key.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"},
                    },
                    {
                        "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                        "locale": "en-US",
                        "message": "API key not valid. Please pass a valid API key.",
                    },
                ],
            )
        return None

    def error_reply(self, status: int, message: str | None, req: RecordedRequest) -> Reply:
        details: list[dict[str, Any]] = []
        if status == 429:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/"
                            "generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                            "quotaDimensions": {"location": "global", "model": self.model(req)},
                            "quotaValue": "10",
                        }
                    ],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"},
            ]
        default = _MESSAGES.get(status, "Internal error encountered.")
        return self._error(status, message or default, details)

    def _error(self, status: int, message: str, details: list[dict[str, Any]] | None) -> Reply:
        error: dict[str, Any] = {
            "code": status,
            "message": message,
            "status": _STATUS.get(status, "UNKNOWN" if status >= 500 else "FAILED_PRECONDITION"),
        }
        if details:
            error["details"] = details
        return Reply.json(
            status, {"error": error}, {"content-type": "application/json; charset=UTF-8"}
        )

    def _response(
        self,
        req: RecordedRequest,
        b: Behaviour,
        candidates: list[dict[str, Any]] | None,
        *,
        feedback: dict[str, Any] | None = None,
        output_tokens: bool = True,
    ) -> Reply:
        inp, out = b.usage
        out = out if output_tokens else 0
        thoughts = min(b.reasoning_tokens, out)
        usage: dict[str, Any] = {
            "promptTokenCount": inp,
            "totalTokenCount": inp + out,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": inp}],
        }
        if out:
            usage["candidatesTokenCount"] = out - thoughts
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        body: dict[str, Any] = {}
        if candidates:  # proto3 JSON leaves out empty lists
            body["candidates"] = candidates
        if feedback:
            body["promptFeedback"] = feedback
        body["usageMetadata"] = usage
        body["modelVersion"] = b.model or self.model(req)
        body["responseId"] = rand_id("", 22)
        return Reply.json(200, body, {"content-type": "application/json; charset=UTF-8"})

    @staticmethod
    def _candidate(text: str | None, finish: str) -> dict[str, Any]:
        cand: dict[str, Any] = {}
        if text is not None:
            cand["content"] = {"parts": [{"text": text}], "role": "model"}
        cand["finishReason"] = finish
        cand["index"] = 0
        return cand

    def output_reply(self, req: RecordedRequest, b: Behaviour, output: Any) -> Reply:
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
        return self._response(req, b, [self._candidate(text, "STOP")])

    def special_reply(self, req: RecordedRequest, b: Behaviour) -> Reply:
        if b.kind == "empty":
            return self._response(req, b, None, output_tokens=False)
        if b.kind == "refusal":
            cand = self._candidate(None, "SAFETY")
            cand["safetyRatings"] = _SAFETY
            return self._response(req, b, [cand], output_tokens=False)
        if b.kind == "blocked":
            feedback = {"blockReason": "SAFETY", "safetyRatings": _SAFETY}
            return self._response(req, b, None, feedback=feedback, output_tokens=False)
        if b.kind == "truncated":
            cand = self._candidate('{"person_in_charge": "김철수", "startup_na', "MAX_TOKENS")
            return self._response(req, b, [cand])
        raise ValueError(f"gemini emulator cannot render {b.kind!r}")

    def user_prompt(self, req: RecordedRequest) -> str | None:
        body = req.json if isinstance(req.json, dict) else {}
        users = [c for c in body.get("contents") or [] if c.get("role", "user") == "user"]
        return _parts_text(users[-1]) if users else None

    def system_prompt(self, req: RecordedRequest) -> str | None:
        body = req.json if isinstance(req.json, dict) else {}
        system = body.get("systemInstruction") or body.get("system_instruction")
        return _parts_text(system) if isinstance(system, dict) else None


def _parts_text(content: dict[str, Any]) -> str | None:
    texts = [p.get("text", "") for p in content.get("parts") or [] if isinstance(p, dict)]
    return "".join(texts) or None
