"""``collabiq llm extract``: one email or a JSONL batch in, JSON out, nothing lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from collabiq_llm.cli.output import ExitCode, err_console_print, print_json
from collabiq_llm.errors import AllProvidersFailed, InputError

if TYPE_CHECKING:
    from collabiq_llm.entities import ExtractionResult

MAX_INPUT_BYTES = 25 * 1024 * 1024  # a raw .eml with attachments; the text limit is separate


def _read_source(name: str) -> bytes:
    if name == "-":
        if sys.stdin.isatty():
            raise InputError("no input: pass an email FILE or pipe one on stdin")
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    else:
        path = Path(name)
        if not path.exists():
            raise InputError(f"file not found: {name}")
        if path.is_dir():
            raise InputError(f"{name} is a directory, not an email file")
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            raise InputError(f"cannot read {name}: {exc.strerror}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{name}: input is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB")
    return data


def _iter_lines(sources: list[str]) -> Iterator[bytes]:
    """Raw lines of every source, one by one; decoding happens per line in the batch, so
    a line that is not UTF-8 becomes one error record instead of stopping the batch."""
    for name in sources:
        if name == "-":
            if sys.stdin.isatty():
                raise InputError("no input: pass a JSONL FILE or pipe lines on stdin")
            stream: IO[bytes] = sys.stdin.buffer
            close = False
        else:
            path = Path(name)
            if not path.is_file():
                raise InputError(f"file not found: {name}")
            try:
                stream, close = path.open("rb"), True
            except OSError as exc:
                raise InputError(f"cannot read {name}: {exc.strerror}") from None
        try:
            yield from _bounded_lines(stream)
        finally:
            if close:
                stream.close()


MAX_LINE_BYTES = 1024 * 1024  # a JSONL line holds one email of ≤ 10,000 characters


def _bounded_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """Lines, but a line over MAX_LINE_BYTES is skipped in chunks (memory stays flat) and
    replaced by a marker that becomes one error record for that line."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):  # drain the rest of the huge line
            line = stream.readline(MAX_LINE_BYTES)
        yield OVERSIZED_LINE


OVERSIZED_LINE = b"\x00oversized-line"


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    try:
        fh = path.open("w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    with fh:
        yield fh


def run_extract(
    files: list[str],
    *,
    jsonl: bool,
    strategy: str | None,
    concurrency: int,
    output: Path | None,
    received_at: str | None,
    pretty: bool = False,
    skip: int = 0,
) -> int:
    from collabiq_llm.batch import parse_received_at
    from collabiq_llm.orchestration.orchestrator import Orchestrator

    sources = files or ["-"]
    default_received = parse_received_at(received_at)
    orchestrator = Orchestrator()
    try:
        strategy_name = orchestrator.active_strategy(strategy)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if jsonl:
        return _run_jsonl(
            orchestrator, sources, strategy_name, concurrency, output, default_received, skip
        )
    if skip:
        raise InputError("--skip needs --jsonl (it skips input lines of a batch)")
    return _run_files(orchestrator, sources, strategy_name, output, default_received, pretty)


def _dead_letter_box(orchestrator):
    from collabiq_llm.dead_letters import DeadLetterBox

    return DeadLetterBox(orchestrator.settings.home / "dead_letters")


def _run_files(orchestrator, sources, strategy, output, received_at, pretty) -> int:
    """Each file (or stdin) is one email -> one JSON object, written as soon as it is done.

    One input on a terminal (or with ``--pretty``) is pretty-printed; otherwise (a pipe,
    cron appending to a file, several inputs, ``--output``) each result is one compact
    JSON line, in input order, so ``>> records.jsonl`` stays valid JSONL. With several
    inputs an unreadable one gets an error line and the rest go on (exit 2 at the end);
    a single bad input is exit 2 at once.
    """
    from collabiq_llm.email.parsing import parse_email

    single = len(sources) == 1
    first = parse_email(_read_source(sources[0]), received_at=received_at) if single else None
    counts = {"failed": 0, "bad": 0}

    with _output(output) as fh:  # opened before any provider call: a bad path fails fast

        def emit(record: dict) -> None:
            if single and fh is sys.stdout and (pretty or sys.stdout.isatty()):
                print_json(record)
            else:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                fh.flush()

        async def _all() -> None:
            try:
                for name in sources:
                    if first is not None:
                        email = first
                    else:
                        try:
                            email = parse_email(_read_source(name), received_at=received_at)
                        except InputError as exc:
                            counts["bad"] += 1
                            where = "" if name in str(exc) else f"{name}: "
                            err_console_print(f"error: {where}{exc}")
                            emit({"source": name, "error": str(exc), "error_kind": "bad_input"})
                            continue
                    try:
                        result = await orchestrator.aextract(email, strategy)
                    except AllProvidersFailed as exc:
                        counts["failed"] += 1
                        emit(_dead_letter(orchestrator, name, email, strategy, exc))
                        continue
                    if result.meta.degraded:
                        err_console_print(_degraded_warning(result))
                    emit(json.loads(result.model_dump_json()))
            finally:
                await orchestrator.aclose()

        asyncio.run(_all())
    if counts["failed"]:
        return int(ExitCode.NOT_EXTRACTED)
    return int(ExitCode.BAD_INPUT) if counts["bad"] else int(ExitCode.OK)


def _dead_letter(orchestrator, name: str, email, strategy: str, exc: AllProvidersFailed) -> dict:
    """Keep an email every provider failed on; the record that stands in for its result."""
    from collabiq_llm.dead_letters import DeadLetter

    path = _dead_letter_box(orchestrator).put(
        DeadLetter(
            email_id=email.email_id,
            text=email.text,
            received_at=email.received_at,
            strategy=strategy,
            errors={k: str(v) for k, v in exc.failures.items()},
            source="stdin" if name == "-" else name,
        )
    )
    err_console_print(f"error: {'stdin' if name == '-' else name}: {exc} — kept in {path}")
    return {
        "email_id": email.email_id,
        "error": str(exc),
        "error_kind": "all_providers_failed",
        "dead_letter": True,
    }


def _run_jsonl(orchestrator, sources, strategy, concurrency, output, received_at, skip=0) -> int:
    import time

    from collabiq_llm.batch import run_batch
    from collabiq_llm.cli import progress as prog

    for name in sources:  # every input checked before the first line is extracted
        if name == "-" and sys.stdin.isatty():
            raise InputError("no input: pass a JSONL FILE or pipe lines on stdin")
        if name != "-" and not Path(name).is_file():
            raise InputError(f"file not found: {name}")
    total = prog.count_lines(sources) if prog.progress_wanted(output) else None
    bar = (
        prog.BatchProgress(None if total is None else max(0, total - skip))
        if prog.progress_wanted(output)
        else None
    )
    written = 0
    cost: list[float | None] = [0.0]
    started = time.monotonic()

    async def extract(email):
        result = await orchestrator.aextract(email, strategy)
        if cost[0] is not None:
            cost[0] = None if result.meta.cost_usd is None else cost[0] + result.meta.cost_usd
        return result

    async def _go():
        try:
            with _output(output) as fh:

                def write(line: str) -> None:
                    nonlocal written
                    fh.write(line + "\n")
                    fh.flush()
                    written += 1

                return await run_batch(
                    extract,
                    prog.skip_lines(_iter_lines(sources), skip),
                    write,
                    dead_letters=_dead_letter_box(orchestrator),
                    strategy=strategy,
                    concurrency=concurrency,
                    default_received_at=received_at,
                    on_done=bar.advance if bar else None,
                )
        finally:
            await orchestrator.aclose()

    try:
        summary = asyncio.run(_go())
    except KeyboardInterrupt:
        if bar:
            bar.stop()  # before the message, never glued to it
        where = f" in {output}" if output else ""
        err_console_print(
            f"interrupted: {written} result line(s) were written{where}, in input order; "
            f"to finish, re-run with --skip {skip + written}"
            + (" and append (>>) to the same output" if output is None else "")
        )
        return 130
    finally:
        if bar:
            bar.stop()
    err_console_print(
        prog.batch_summary(
            summary, elapsed_s=time.monotonic() - started, cost_usd=cost[0], skipped=skip
        )
    )
    if summary.dead_lettered:
        return int(ExitCode.NOT_EXTRACTED)
    return int(ExitCode.BAD_INPUT) if summary.bad_lines else int(ExitCode.OK)


def _degraded_warning(result: ExtractionResult) -> str:
    """Exit 0 is right (the email has a record), but the operator must hear why, per provider."""
    from collabiq_llm.cli.progress import degraded_reasons

    meta = result.meta
    if meta.provider == "offline":
        why = "answered by the offline extractor"
    else:
        why = f"only {meta.provider} answered; no consensus"
    reasons = degraded_reasons(meta.attempts)
    return f"warning: {result.email_id}: degraded result ({why})" + (
        f": {reasons}" if reasons else ""
    )
