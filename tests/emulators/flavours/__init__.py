"""Wire formats the emulators speak: one ``Flavour`` per provider API family."""

from __future__ import annotations

import json
import secrets
import string
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from tests.emulators.behaviour import Behaviour, RecordedRequest

_B62 = string.ascii_letters + string.digits


def rand_id(prefix: str, length: int = 24, alphabet: str = _B62) -> str:
    """A provider-looking id such as ``msg_01AbC...``."""
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def now_s() -> int:
    return int(time.time())


def text_of(content: Any) -> str | None:
    """Text of a message ``content``: a string, or a list of ``{"text": ...}`` parts."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text", "") for part in content if isinstance(part, dict)]
        return "".join(texts) or None
    return json.dumps(content, ensure_ascii=False)


@dataclass
class Reply:
    """A complete HTTP answer: status, headers and body bytes."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(status, body, {"content-type": "application/json", **(headers or {})})


class Flavour(ABC):
    """One provider's wire format: routes, auth check, success and error bodies."""

    name: str = ""
    base_path: str = ""  # appended to http://host:port to form the SDK base URL
    default_key: str = ""
    server_header: str = "cloudflare"

    @abstractmethod
    def route(self, method: str, path: str) -> str | None:
        """The endpoint a request targets (``"messages"``, ``"responses"``...) or None."""

    @abstractmethod
    def auth_error(self, req: RecordedRequest, api_key: str) -> Reply | None:
        """The provider's own rejection when the request is not authenticated, else None."""

    @abstractmethod
    def error_reply(self, status: int, message: str | None, req: RecordedRequest) -> Reply:
        """An error status with this provider's real error-body shape."""

    @abstractmethod
    def output_reply(self, req: RecordedRequest, b: Behaviour, output: Any) -> Reply:
        """A successful answer whose model output is ``output`` (dict, or raw text)."""

    @abstractmethod
    def special_reply(self, req: RecordedRequest, b: Behaviour) -> Reply:
        """``empty`` / ``refusal`` / ``blocked`` / ``truncated`` in this wire format."""

    @abstractmethod
    def user_prompt(self, req: RecordedRequest) -> str | None:
        """The user-turn text of a recorded request."""

    @abstractmethod
    def system_prompt(self, req: RecordedRequest) -> str | None:
        """The system / instructions text of a recorded request."""

    def request_id_headers(self) -> dict[str, str]:
        return {}

    def is_stream(self, req: RecordedRequest) -> bool:
        """Did the client ask for a server-sent-event stream?"""
        return isinstance(req.json, dict) and req.json.get("stream") is True

    @abstractmethod
    def stream_events(self, req: RecordedRequest, payload: dict[str, Any]) -> list[bytes]:
        """The SSE events the real API streams for the answer whose whole body is ``payload``."""

    def junk_event(self) -> bytes:
        """A truncated event, as a broken proxy or server might send one."""
        return b'data: {"type": "content_block_delta", "index": 0, "delta": {"ty\n\n'

    def render(self, b: Behaviour, req: RecordedRequest) -> Reply:
        """Turn a (non-transport) behaviour into the reply for this request."""
        if b.kind == "raw":
            headers = {"content-type": "application/json", **dict(b.headers)}
            return Reply(b.status_code, b.raw_body or b"", headers)
        if b.kind == "status":
            reply = self.error_reply(b.status_code, b.message, req)
            if b.retry_after is not None:
                value = b.retry_after
                reply.headers["retry-after"] = (
                    f"{value:g}" if isinstance(value, int | float) else str(value)
                )
            if b.retry_after_ms is not None:
                reply.headers["retry-after-ms"] = str(b.retry_after_ms)
            return self._with_ids(reply)
        if b.kind == "malformed_json" and b.part == "body":
            return self._with_ids(
                Reply(
                    200, b'{"id": "x", "output": [ {"type": ', {"content-type": "application/json"}
                )
            )
        if b.kind == "malformed_json":
            return self._with_ids(self.output_reply(req, b, '{"person_in_charge": "김철수", '))
        if b.kind in ("ok", "schema_violation"):
            return self._with_ids(self.output_reply(req, b, b.extraction))
        return self._with_ids(self.special_reply(req, b))

    def _with_ids(self, reply: Reply) -> Reply:
        reply.headers = {**self.request_id_headers(), **reply.headers}
        return reply


def get_flavour(name: str) -> Flavour:
    """The flavour object for ``"anthropic"``, ``"openai"`` or ``"gemini"``."""
    from tests.emulators.flavours.anthropic_wire import AnthropicFlavour
    from tests.emulators.flavours.gemini_wire import GeminiFlavour
    from tests.emulators.flavours.openai_wire import OpenAIFlavour

    table: dict[str, type[Flavour]] = {
        "anthropic": AnthropicFlavour,
        "openai": OpenAIFlavour,
        "gemini": GeminiFlavour,
    }
    try:
        return table[name]()
    except KeyError:
        raise ValueError(f"unknown flavour {name!r}; choose from {sorted(table)}") from None


FLAVOURS: tuple[str, ...] = ("anthropic", "openai", "gemini")


def sse(data: Any, event: str | None = None, sep: str = "\n\n") -> bytes:
    """One server-sent event: optional ``event:`` line, one ``data:`` line (compact JSON)."""
    body = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {body}{sep}".encode()


def pieces(text: str, n: int = 8) -> list[str]:
    """``text`` cut into about ``n`` consecutive pieces (how a model's tokens arrive)."""
    if not text:
        return []
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)]
