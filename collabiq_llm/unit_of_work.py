"""The per-email unit of work: parse → extract → keep on failure → one output record.

This is the one place that enforces "nothing lost": whatever one email causes (a
malformed line, JSON nested 50,000 deep, a lone surrogate, a parser bug, every
provider down, an unwritable dead-letter folder), it ends as *that email's* record
and the caller goes on with the next. Only the caller's own output stream failing
may end a batch. The record is always a JSON line that can be encoded as UTF-8.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from collabiq_llm.dead_letters import DeadLetter, DeadLetterBox
from collabiq_llm.email.input import EmailInput
from collabiq_llm.errors import AllProvidersFailed, ConfigurationError, InputError
from collabiq_llm.redact import redact

Kind = Literal["ok", "bad", "internal", "dead_letter", "config", "unkept"]
"""ok: a result; bad: unusable input (exit 2); internal: a bug hit while reading this
email (exit 1); dead_letter: kept for replay (exit 3); config: kept for replay, but
the failure was a configuration error (exit 4); unkept: every provider failed
and the dead-letter folder could not be written, so the full record with the email's
text is the output line itself (exit 4)."""


@dataclass
class Outcome:
    """What became of one email: the line to write and what to count."""

    kind: Kind
    record: str
    email_id: str | None = None
    degraded: bool = False
    message: str | None = None  # one stderr line for failures (files mode prints it)
    result: Any = None


def dumps(record: dict[str, Any]) -> str:
    """One JSON line, readable UTF-8; unpaired surrogates escaped so writing never fails."""
    text = json.dumps(record, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(record, ensure_ascii=True, default=str)
    return text


def describe(exc: BaseException) -> str:
    """A one-line, key-free description of an unexpected exception."""
    if isinstance(exc, RecursionError):
        return "input is nested too deeply to read (recursion limit)"
    if isinstance(exc, MemoryError):
        return "input is too large to read (out of memory)"
    detail = str(exc).splitlines()[0][:200] if str(exc) else ""
    return redact(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)


async def process_email(
    load: Callable[[], EmailInput],
    extract: Callable[[EmailInput], Awaitable[Any]],
    dead_letters: DeadLetterBox,
    *,
    strategy: str,
    where: dict[str, Any],
    source: str,
    gate: asyncio.Semaphore | None = None,
) -> Outcome:
    """Run one email end to end; never raises for anything the email can cause.

    ``where`` leads every failure record (``{"line": 5}`` or ``{"source": "a.eml"}``);
    ``source`` is how a dead letter names where the email came from.
    """
    try:
        email = load()
    except (InputError, RecursionError, MemoryError) as exc:
        message = str(exc) if isinstance(exc, InputError) else describe(exc)
        return Outcome(
            "bad",
            dumps({**where, "error": message, "error_kind": "bad_input"}),
            None,
            message=message,
        )
    except Exception as exc:  # a bug in reading this one email: say so, go on
        message = f"internal error reading this email ({describe(exc)})"
        return Outcome(
            "internal",
            dumps({**where, "error": message, "error_kind": "internal"}),
            message=message,
        )

    try:
        if gate is None:
            result = await extract(email)
        else:
            async with gate:
                result = await extract(email)
        line = result.model_dump_json()
        line.encode("utf-8")
    except AllProvidersFailed as exc:
        errors = {k: str(v) for k, v in exc.failures.items()} or {"all": str(exc)}
        return await _keep(
            dead_letters, email, strategy, where, source, str(exc), "all_providers_failed", errors
        )
    except ConfigurationError as exc:  # not this email's fault, but keep it until fixed
        message = f"configuration error: {redact(exc)}"
        return await _keep(
            dead_letters, email, strategy, where, source, message, "config", {"config": message}
        )
    except Exception as exc:  # not the providers: a bug or the state store; keep the email
        message = f"internal error ({describe(exc)})"
        return await _keep(
            dead_letters, email, strategy, where, source, message, "internal", {"internal": message}
        )
    degraded = bool(getattr(getattr(result, "meta", None), "degraded", False))
    return Outcome("ok", line, email.email_id, degraded=degraded, result=result)


async def _keep(
    box: DeadLetterBox,
    email: EmailInput,
    strategy: str,
    where: dict[str, Any],
    source: str,
    message: str,
    kind: str,
    errors: dict[str, str],
) -> Outcome:
    """Keep a failed email in the dead letters; when that fails, in the output line itself."""
    letter = DeadLetter(
        email_id=email.email_id,
        text=email.text,
        received_at=email.received_at,
        strategy=strategy,
        errors=errors,
        source=source,
    )
    record: dict[str, Any] = {
        **where,
        "error": message,
        "error_kind": kind,
        "email_id": email.email_id,
    }
    try:
        path = await asyncio.to_thread(box.put, letter)
    except Exception as exc:  # read-only home, disk full, dead_letters is a file, ...
        why = (exc.strerror if isinstance(exc, OSError) else None) or describe(exc)
        record.update(
            dead_letter=False,
            kept_in_output=True,
            dead_letter_error=redact(f"cannot write {box.folder}: {why}"),
            text=email.text,
            received_at=email.received_at.isoformat() if email.received_at else None,
            strategy=strategy,
            errors={k: redact(v)[:300] for k, v in errors.items()},
            source=source,
        )
        return Outcome(
            "unkept",
            dumps(record),
            email.email_id,
            message=f"{message} — NOT kept in dead letters ({why}); "
            "the full email is in its output line",
        )
    record["dead_letter"] = True
    return Outcome(
        "config" if kind == "config" else "dead_letter",
        dumps(record),
        email.email_id,
        message=f"{message} — kept in {path}",
    )


def exit_code(counts: Mapping[str, int]) -> int:
    """The documented exit code for a run, from how many emails ended each way: an email
    kept only in the output or a configuration error (4) outranks one kept in dead
    letters (3), then an internal error (1), then bad input (2); 0 = all have results."""
    for kind, code in (
        ("unkept", 4),
        ("config", 4),
        ("dead_letter", 3),
        ("internal", 1),
        ("bad", 2),
    ):
        if counts.get(kind):
            return code
    return 0
