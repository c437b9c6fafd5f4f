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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from collabiq_llm.dead_letters import DeadLetter, DeadLetterBox
from collabiq_llm.email.input import EmailInput
from collabiq_llm.errors import AllProvidersFailed, InputError


@dataclass
class BatchSummary:
    lines: int = 0
    ok: int = 0
    bad_lines: int = 0
    dead_lettered: int = 0
    degraded: int = 0
    dead_letter_ids: list[str] = field(default_factory=list)


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
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise InputError('each line must be a JSON object with a string "text"')
    email_id = obj.get("email_id")
    if email_id is not None and not isinstance(email_id, str):
        raise InputError('"email_id" must be a string')
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
    extract: Callable[[EmailInput], object],
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
    UTF-8 becomes one ``bad_input`` record and the batch goes on).
    """
    summary = BatchSummary()
    gate = asyncio.Semaphore(max(1, concurrency))
    window: deque[asyncio.Task[str]] = deque()

    async def one(line_no: int, raw: str | bytes) -> str:
        try:
            email = parse_line(raw, default_received_at=default_received_at)
        except InputError as exc:
            summary.bad_lines += 1
            record = failure_record(line_no, None, str(exc), "bad_input")
            return json.dumps(record, ensure_ascii=False)
        async with gate:
            try:
                result = await extract(email)  # type: ignore[misc]
            except AllProvidersFailed as exc:
                await asyncio.to_thread(
                    dead_letters.put,
                    DeadLetter(
                        email_id=email.email_id,
                        text=email.text,
                        received_at=email.received_at,
                        strategy=strategy,
                        errors={k: str(v) for k, v in exc.failures.items()},
                        source=f"line {line_no}",
                    ),
                )
                summary.dead_lettered += 1
                summary.dead_letter_ids.append(email.email_id)
                record = failure_record(line_no, email, str(exc), "all_providers_failed")
                return json.dumps({**record, "dead_letter": True}, ensure_ascii=False)
        summary.ok += 1
        if getattr(getattr(result, "meta", None), "degraded", False):
            summary.degraded += 1
        return result.model_dump_json()  # type: ignore[attr-defined]

    async def flush(until: int) -> None:
        while len(window) > until:
            write(await window.popleft())
            if on_done is not None:
                on_done()

    for line_no, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        summary.lines += 1
        window.append(asyncio.create_task(one(line_no, raw)))
        await flush(4 * max(1, concurrency))
    await flush(0)
    return summary
