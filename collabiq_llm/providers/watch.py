"""What a streaming provider tells the orchestrator while a call is still running.

A hung provider and a slow one differ in when the first event of the answer
arrives, not when the last does. Providers that stream call :func:`first_event`
when the first server-sent event arrives and :func:`usage` as soon as billed
tokens are known (so a call cancelled mid-stream still has its cost recorded).
The orchestrator installs one :class:`CallWatch` per call in a context variable
(each asyncio task has its own context), so the provider interface stays
``aextract(email)`` and providers that do not stream need not know about it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class CallWatch:
    """The live view of one provider call; ``clock`` is the orchestrator's monotonic clock."""

    clock: Callable[[], float]
    first_event_at: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    model: str | None = None
    listeners: list[Callable[[], None]] = field(default_factory=list)

    def first_event(self) -> None:
        """The answer started arriving (idempotent: only the first call counts)."""
        if self.first_event_at is not None:
            return
        self.first_event_at = self.clock()
        for listener in self.listeners:
            with contextlib.suppress(Exception):  # a listener must never break the stream
                listener()

    def usage(self, input_tokens: int, output_tokens: int, model: str | None = None) -> None:
        """Tokens billed so far (the latest report wins: streams report running totals)."""
        self.input_tokens = max(self.input_tokens, int(input_tokens or 0))
        self.output_tokens = max(self.output_tokens, int(output_tokens or 0))
        if model:
            self.model = model


_WATCH: ContextVar[CallWatch | None] = ContextVar("collabiq_call_watch", default=None)


@contextlib.contextmanager
def watching(watch: CallWatch) -> Iterator[CallWatch]:
    """Install ``watch`` for the calls made inside this block (this task only)."""
    token = _WATCH.set(watch)
    try:
        yield watch
    finally:
        _WATCH.reset(token)


def first_event() -> None:
    """Called by a streaming provider on the first event of the answer."""
    watch = _WATCH.get()
    if watch is not None:
        watch.first_event()


def usage(input_tokens: int, output_tokens: int, model: str | None = None) -> None:
    """Called by a streaming provider when billed token counts become known."""
    watch = _WATCH.get()
    if watch is not None:
        watch.usage(input_tokens, output_tokens, model)
