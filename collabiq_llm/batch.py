"""Streaming JSONL batches: N emails in flight, results written in input order.

Memory stays flat on any input size: at most ``4 × concurrency`` lines are held
at once. Every input line yields exactly one output line: a result, an error for a
malformed line, or a failure record for an email kept in the dead-letter box.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from collabiq_llm.dead_letters import DeadLetterBox
from collabiq_llm.email.input import EmailInput, require_unicode
from collabiq_llm.errors import InputError
from collabiq_llm.unit_of_work import Outcome, process_email


@dataclass
class BatchSummary:
    lines: int = 0
    ok: int = 0
    bad_lines: int = 0
    dead_lettered: int = 0
    degraded: int = 0
    internal: int = 0  # a bug hit while reading one email: its error line, exit 1
    config: int = 0  # kept in dead letters, but the failure was a configuration error
    unkept: int = 0  # failed and the dead-letter folder was unwritable: full record in output
    written: int = 0  # output lines written so far (the resume point if the batch stops)
    dead_letter_ids: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        if outcome.kind == "ok":
            self.ok += 1
            self.degraded += outcome.degraded
        elif outcome.kind == "bad":
            self.bad_lines += 1
        elif outcome.kind == "internal":
            self.internal += 1
        elif outcome.kind == "unkept":
            self.unkept += 1
        else:
            self.config += outcome.kind == "config"
            self.dead_lettered += 1
            self.dead_letter_ids.append(outcome.email_id or "")


class OutputFailed(Exception):
    """The batch's own output could not be written: the one failure that ends a batch."""

    def __init__(self, written: int, error: OSError) -> None:
        self.written, self.error = written, error
        super().__init__(error.strerror or str(error))


class InputFailed(Exception):
    """An input stream failed mid-way (I/O error); every line read before it was written."""

    def __init__(self, lines: int, error: Exception) -> None:
        self.lines, self.error = lines, error
        super().__init__(getattr(error, "strerror", None) or str(error))


def parse_received_at(value: object) -> dt.date | None:
    """``received_at`` of a JSONL line or ``--received-at``: ISO date or datetime."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InputError("received_at must be an ISO date string such as 2025-11-02")
    try:
        return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"received_at {value!r} is not an ISO date (YYYY-MM-DD)") from None


def decode_line(raw: str | bytes) -> str:
    """A JSONL line as text; raw bytes must be UTF-8 (JSON's only encoding)."""
    if isinstance(raw, str):
        return raw
    if raw == b"\x00oversized-line":
        raise InputError("line is longer than 1 MB; one email is at most 10,000 characters")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"line is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def parse_line(raw: str | bytes, *, default_received_at: dt.date | None) -> EmailInput:
    """One JSONL line ``{"text": str, "email_id"?: str, "received_at"?: str}``."""
    from collabiq_llm.email.parsing import parse_email

    raw = decode_line(raw)
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise InputError("JSON is nested too deeply to read") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise InputError('each line must be a JSON object with a string "text"')
    email_id = obj.get("email_id")
    if email_id is not None and not isinstance(email_id, str):
        raise InputError('"email_id" must be a string')
    if email_id:
        require_unicode(email_id, '"email_id"')
    received = parse_received_at(obj.get("received_at")) or default_received_at
    return parse_email(obj["text"], received_at=received, email_id=email_id or None)


def failure_record(line_no: int | None, email: EmailInput | None, message: str, kind: str) -> dict:
    record: dict[str, object] = {"error": message, "error_kind": kind}
    if line_no is not None:
        record = {"line": line_no, **record}
    if email is not None:
        record["email_id"] = email.email_id
    return record


async def run_batch(
    extract: Callable[[EmailInput], Awaitable[object]],
    lines: Iterable[str | bytes],
    write: Callable[[str], None],
    *,
    dead_letters: DeadLetterBox,
    strategy: str,
    concurrency: int = 4,
    default_received_at: dt.date | None = None,
    on_done: Callable[[], None] | None = None,
) -> BatchSummary:
    """Extract every line with ``extract`` (an async callable returning an ExtractionResult).

    ``lines`` may be ``str`` or raw ``bytes`` (decoded here, so a line that is not
    UTF-8 becomes one ``bad_input`` record and the batch goes on). Each line is one
    :func:`~collabiq_llm.unit_of_work.process_email`, which turns anything the email
    causes into its own record; only ``write`` (the batch's output) or ``lines`` (its
    input) failing ends the batch, after every line already done was written.
    """
    summary = BatchSummary()
    gate = asyncio.Semaphore(max(1, concurrency))
    window: deque[asyncio.Task[Outcome]] = deque()

    def one(line_no: int, raw: str | bytes) -> Awaitable[Outcome]:
        return process_email(
            lambda: parse_line(raw, default_received_at=default_received_at),
            extract,
            dead_letters,
            strategy=strategy,
            where={"line": line_no},
            source=f"line {line_no}",
            gate=gate,
        )

    async def flush(until: int) -> None:
        while len(window) > until:
            outcome = await window.popleft()
            try:
                write(outcome.record)
            except OSError as exc:
                raise OutputFailed(summary.written, exc) from exc
            summary.written += 1
            summary.count(outcome)
            if on_done is not None:
                on_done()

    source = enumerate(lines, start=1)
    try:
        while True:
            try:
                line_no, raw = next(source)
            except StopIteration:
                break
            except (OSError, InputError) as exc:  # reading the input failed mid-way
                await flush(0)
                raise InputFailed(summary.lines, exc) from exc
            if not raw.strip():
                continue
            summary.lines += 1
            window.append(asyncio.create_task(one(line_no, raw)))
            await flush(4 * max(1, concurrency))
        await flush(0)
    finally:
        for task in window:
            task.cancel()
    return summary
