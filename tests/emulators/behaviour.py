"""What an emulator does with one request: a scriptable ``Behaviour``.

Behaviours are flavour-neutral (``Behaviour.refusal()`` becomes a refusal in
each provider's own wire format); the flavour modules render them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_EXTRACTION: dict[str, Any] = {
    "person_in_charge": "김철수",
    "startup_name": "본봄",
    "partner_org": "신세계인터내셔널",
    "details": "신세계인터내셔널과 본봄 파일럿 킥오프 미팅 진행, 11월 1주 PoC 시작 예정",
    "date": "2025-11-01",
    "confidence": {"person": 0.95, "startup": 0.92, "partner": 0.9, "details": 0.85, "date": 0.8},
}
"""The spec's Korean example, as a valid model output."""

SCHEMA_VIOLATION: dict[str, Any] = {
    "person_in_charge": "김철수",
    "startup_name": 42,
    "details": ["not", "a", "string"],
    "confidence": {"person": 1.7, "startup": "high"},
    "summary": "extra field",
}
"""Valid JSON that breaks the shared schema in several ways at once."""


@dataclass
class RecordedRequest:
    """One request as the emulator saw it (headers lower-cased)."""

    flavour: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any
    time: float = field(default_factory=time.monotonic)
    endpoint: str | None = None
    peer: tuple[str, int] | None = None  # client address: same port = reused connection

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def user_prompt(self) -> str | None:
        """The user-turn text of the request, whatever the wire format."""
        from tests.emulators.flavours import get_flavour

        return get_flavour(self.flavour).user_prompt(self)

    def system_prompt(self) -> str | None:
        from tests.emulators.flavours import get_flavour

        return get_flavour(self.flavour).system_prompt(self)

    def email_text(self) -> str | None:
        """The email inside the prompt's ``<email>`` block (what an oracle answers from)."""
        from collabiq_llm.prompt import email_from_user_prompt

        prompt = self.user_prompt()
        return email_from_user_prompt(prompt) if prompt else None

    def received_date(self) -> dt.date | None:
        """The "Email received:" date in the prompt, if any."""
        prompt = self.user_prompt() or ""
        for line in prompt.splitlines():
            if line.startswith("Email received: "):
                try:
                    return dt.date.fromisoformat(line.removeprefix("Email received: ").strip())
                except ValueError:
                    return None
        return None


@dataclass(frozen=True)
class Behaviour:
    """How to answer one request. Build with the class methods, not directly."""

    kind: str
    extraction: dict[str, Any] | str | None = None  # str: raw model output text
    latency_s: float = 0.0
    usage: tuple[int, int] = (120, 40)
    reasoning_tokens: int = 0
    model: str | None = None
    status_code: int = 200
    retry_after: float | str | None = None
    retry_after_ms: int | None = None
    message: str | None = None
    raw_body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    max_s: float = 30.0
    part: str = "body"
    fn: Callable[[RecordedRequest], Behaviour] | None = None
    stream_s: float = 0.0  # streaming: the events are spread over this many seconds
    stall_after: int | None = None  # streaming: stop sending after this many events
    junk_after: int | None = None  # streaming: send junk after this many events

    # -- success -------------------------------------------------------------
    @classmethod
    def ok(
        cls,
        extraction: dict[str, Any] | None = None,
        *,
        latency_s: float = 0.0,
        usage: tuple[int, int] = (120, 40),
        reasoning_tokens: int = 0,
        model: str | None = None,
    ) -> Behaviour:
        """A valid extraction (``DEFAULT_EXTRACTION`` unless given) with realistic usage."""
        return cls(
            "ok",
            extraction=dict(extraction if extraction is not None else DEFAULT_EXTRACTION),
            latency_s=latency_s,
            usage=usage,
            reasoning_tokens=reasoning_tokens,
            model=model,
        )

    # -- HTTP errors ---------------------------------------------------------
    @classmethod
    def status(
        cls,
        code: int,
        *,
        retry_after: float | str | None = None,
        retry_after_ms: int | None = None,
        message: str | None = None,
        latency_s: float = 0.0,
    ) -> Behaviour:
        """An error status with the provider's real error-body shape (+ retry-after headers)."""
        return cls(
            "status",
            status_code=code,
            retry_after=retry_after,
            retry_after_ms=retry_after_ms,
            message=message,
            latency_s=latency_s,
        )

    @classmethod
    def raw(
        cls,
        status: int,
        body: bytes | str | dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        latency_s: float = 0.0,
    ) -> Behaviour:
        """Exactly this status and body (dicts are JSON-encoded)."""
        if isinstance(body, dict):
            body = json.dumps(body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode("utf-8")
        return cls(
            "raw",
            status_code=status,
            raw_body=body,
            headers=tuple((headers or {}).items()),
            latency_s=latency_s,
        )

    # -- transport faults ----------------------------------------------------
    @classmethod
    def hang(cls, max_s: float = 30.0) -> Behaviour:
        """Read the request, then send nothing until the server stops (or ``max_s``)."""
        return cls("hang", max_s=max_s)

    @classmethod
    def drop(cls, *, latency_s: float = 0.0) -> Behaviour:
        """Read the request, then close the connection without any response."""
        return cls("drop", latency_s=latency_s)

    # -- bad 200s --------------------------------------------------------------
    @classmethod
    def malformed_json(cls, part: str = "body") -> Behaviour:
        """A 200 whose HTTP body (``part="body"``) or model output (``"output"``) is not JSON."""
        if part not in ("body", "output"):
            raise ValueError("part must be 'body' or 'output'")
        return cls("malformed_json", part=part)

    @classmethod
    def text_output(cls, text: str, *, latency_s: float = 0.0) -> Behaviour:
        """A well-formed answer whose model output is exactly ``text`` (streamed or not)."""
        return cls("ok", extraction=text, latency_s=latency_s)

    @classmethod
    def schema_violation(cls, extraction: dict[str, Any] | None = None) -> Behaviour:
        """A well-formed answer whose model output is valid JSON that violates the schema."""
        return cls("schema_violation", extraction=extraction or dict(SCHEMA_VIOLATION))

    @classmethod
    def empty(cls) -> Behaviour:
        """A 200 with no output at all (no content / no candidates)."""
        return cls("empty")

    @classmethod
    def refusal(cls, message: str = "I'm sorry, but I can't help with that.") -> Behaviour:
        """The model declines (Anthropic stop_reason refusal, OpenAI refusal, Gemini SAFETY)."""
        return cls("refusal", message=message)

    @classmethod
    def blocked(cls) -> Behaviour:
        """The prompt itself is blocked (Gemini promptFeedback.blockReason; others: refusal)."""
        return cls("blocked")

    @classmethod
    def truncated(cls) -> Behaviour:
        """Output cut at the token limit (max_tokens / incomplete / MAX_TOKENS)."""
        return cls("truncated")

    # -- dynamic ---------------------------------------------------------------
    @classmethod
    def respond(cls, fn: Callable[[RecordedRequest], Behaviour]) -> Behaviour:
        """Decide per request: ``fn(request) -> Behaviour`` (e.g. an oracle reading the email)."""
        return cls("respond", fn=fn)

    # -- streaming (requests with "stream": true / Gemini streamGenerateContent) --------
    def streaming(self, duration_s: float) -> Behaviour:
        """Stream the answer's events over ``duration_s`` after the first one (a long
        generation); ``latency_s`` stays the time to the first byte. Non-streaming
        requests get the whole answer after ``latency_s + duration_s``."""
        return dataclasses.replace(self, stream_s=duration_s)

    def stalled(self, after_events: int = 0) -> Behaviour:
        """Send the headers and ``after_events`` events, then nothing (a stream that hangs;
        0 = headers only). Non-streaming requests hang."""
        return dataclasses.replace(self, stall_after=after_events)

    def junk_mid_stream(self, after_events: int = 2) -> Behaviour:
        """Send ``after_events`` good events, then a line of junk, then end the stream.
        Non-streaming requests get a 200 whose body is not JSON."""
        return dataclasses.replace(self, junk_after=after_events)

    def delayed(self, latency_s: float) -> Behaviour:
        """The same behaviour, answered after ``latency_s`` seconds."""
        return dataclasses.replace(self, latency_s=latency_s)
