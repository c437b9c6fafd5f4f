"""A local spool of health and cost events recorded while the Redis backend was unreachable.

Why: extraction must go on when Redis is down, but no cost event may be lost.
So each event is appended (one JSON line, fsynced) to
``$COLLABIQ_HOME/state_spool/<namespace>.jsonl`` and replayed into Redis on the
next successful connection — by whichever process of this host gets there first.

* Appends and replays hold the same sidecar file lock (``<file>.lock``), so a
  replay never truncates a line appended meanwhile.
* Every line carries the event's id. Redis remembers applied ids (see
  ``redis_scripts``), so replaying a line twice counts it once: a process that
  dies after applying some lines but before truncating the file loses nothing and
  double-counts nothing. The file is truncated only after every line was applied.
* A torn last line (a crash mid-append) is skipped with a warning; every other
  line is still replayed.
* A replay already running in another process is not waited for (``None``).

:class:`Fallback` is the policy around it: after a failure the backend counts as
down for a few seconds (no email waits for it again meanwhile), one warning per
process, and the spool is replayed before the next operation that reaches it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from filelock import FileLock, Timeout

from collabiq_llm.errors import StateError
from collabiq_llm.redact import redact
from collabiq_llm.state.jsonfile import FILE_MODE, POLL_INTERVAL_S, append_line, ensure_dir

SPOOL_SCHEMA = 1
T = TypeVar("T")
EventKind = Literal["call", "email"]


@dataclass(frozen=True)
class SpooledEvent:
    """One spooled line: which store method it was for, its id, and the event as JSON data."""

    kind: EventKind
    event_id: str
    data: dict[str, Any]


def warn(message: str, *, level: str = "warning") -> None:
    """One line on stderr (the spool must never raise because a warning failed)."""
    with contextlib.suppress(Exception):
        sys.stderr.write(f"collabiq: {level}: {message}\n")
        sys.stderr.flush()


class Spool:
    """Append-only JSONL file of events waiting for Redis, under a file lock."""

    def __init__(self, path: Path, *, lock_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s
        self._lock = FileLock(
            self.path.with_name(self.path.name + ".lock"),
            timeout=lock_timeout_s,
            mode=FILE_MODE,
            poll_interval=POLL_INTERVAL_S,
        )

    @contextlib.contextmanager
    def _locked(self, timeout: float) -> Iterator[bool]:
        ensure_dir(self.path.parent)
        try:
            self._lock.acquire(timeout=timeout)
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            self._lock.release()

    def append(self, kind: EventKind, event_id: str, data: dict[str, Any]) -> None:
        """Persist one event (fsynced before returning); raises ``StateError`` if impossible."""
        line = json.dumps(
            {
                "schema": SPOOL_SCHEMA,
                "kind": kind,
                "id": event_id,
                "spooled_at": dt.datetime.now(dt.UTC).isoformat(),
                "event": data,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
        try:
            with self._locked(self.lock_timeout_s) as got:
                if not got:
                    raise StateError(f"could not lock the spool {self.path} in time")
                append_line(self.path, line)
        except OSError as exc:
            raise StateError(f"cannot write the spool {self.path}: {exc}") from exc

    def pending(self) -> bool:
        """Anything to replay? (One ``stat``: cheap enough to ask before every operation.)"""
        try:
            return self.path.stat().st_size > 0
        except OSError:
            return False

    def _read(self) -> list[SpooledEvent]:
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        events: list[SpooledEvent] = []
        bad = 0
        for line in lines:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if obj.get("schema") != SPOOL_SCHEMA or obj.get("kind") not in ("call", "email"):
                    raise ValueError("not a spooled event")
                events.append(SpooledEvent(obj["kind"], str(obj["id"]), dict(obj["event"])))
            except (ValueError, KeyError, TypeError, AttributeError):
                bad += 1
        if bad:
            warn(f"spool {self.path}: skipped {bad} unreadable line(s) (torn by a crash?)")
        return events

    def replay(self, apply: Callable[[SpooledEvent], None]) -> int | None:
        """Apply every spooled event in order, then empty the file; returns how many.

        ``apply`` raising stops the replay and leaves the file whole (already-applied
        events are ignored by Redis next time). ``None``: another process is replaying.
        """
        with self._locked(0) as got:
            if not got:
                return None
            events = self._read()
            for event in events:
                apply(event)
            if self.path.exists():
                os.truncate(self.path, 0)
            return len(events)

    def __len__(self) -> int:
        return len(self._read())


_warned = threading.Event()  # one "backend unavailable" warning per process


class Fallback:
    """Runs operations against a remote backend, or their fallback while it is down.

    After a failure the backend counts as down for ``down_for_s``: no operation
    waits for it again meanwhile (each email would otherwise pay the timeout).
    The first failure in a process prints one warning. Before the first operation
    that reaches the backend again, the spool is replayed through ``apply``.
    """

    def __init__(
        self,
        spool: Spool,
        *,
        name: str,
        errors: tuple[type[BaseException], ...],
        apply: Callable[[SpooledEvent], None],
        down_for_s: float,
    ) -> None:
        self.spool = spool
        self.name = name
        self.errors = errors
        self.apply = apply
        self.down_for_s = down_for_s
        self._down_until = 0.0
        self._replay_broken = False

    def is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def mark_down(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.down_for_s
        if not _warned.is_set():
            _warned.set()
            warn(
                f"{self.name} unavailable ({type(exc).__name__}: {redact(exc)}); breaker decisions "
                f"fall back to closed; events spooled to {self.spool.path}"
            )

    def run(self, op: Callable[[], T], fallback: Callable[[], T]) -> T:
        """``op`` against the backend (spool replayed first), or ``fallback`` while it is down."""
        if self.is_down():
            return fallback()
        try:
            if self.spool.pending() and not self._replay_broken:
                self._replay_safely()
            return op()
        except self.errors as exc:
            self.mark_down(exc)
            return fallback()

    def _replay_safely(self) -> None:
        """Replay; an unexpected error (a bug, a line from a newer version) must not stop
        extraction: warn once, keep the spool for a later process, go on."""
        try:
            self.replay()
        except self.errors:
            raise
        except Exception as exc:
            self._replay_broken = True
            warn(
                f"could not replay the spool {self.spool.path} ({type(exc).__name__}: {exc}); "
                "it is kept for the next process"
            )

    def must(self, op: Callable[[], T]) -> T:
        """For admin writes: no silent fallback, a clear error instead."""

        def down() -> T:
            raise StateError(f"{self.name} is unavailable; try again when it is back")

        return self.run(op, down)

    def replay(self) -> int:
        """Replay the spool now (raises the backend's error if it is unreachable)."""
        count = self.spool.replay(self.apply)
        self._down_until = 0.0  # it answered
        if count:
            warn(f"{self.name} is back; replayed {count} spooled event(s)", level="note")
        return count or 0
