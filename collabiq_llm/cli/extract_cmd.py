"""``collabiq llm extract``: one email or a JSONL batch in, JSON out, nothing lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from collabiq_llm.cli.output import ExitCode, err_console_print, print_json, quiet_broken_pipe
from collabiq_llm.errors import InputError
from collabiq_llm.unit_of_work import exit_code

if TYPE_CHECKING:
    from collabiq_llm.entities import ExtractionResult

MAX_INPUT_BYTES = 25 * 1024 * 1024  # a raw .eml with attachments; the text limit is separate


def _open_source(name: str) -> IO[bytes]:
    """Open one input for reading: a file, ``-`` (stdin), or anything ``open`` can read
    (``/dev/stdin``, a FIFO, ``<(cmd)``); a directory or a missing file is an InputError."""
    if name == "-":
        if sys.stdin.isatty():
            raise InputError("no input: pass an email FILE or pipe one on stdin")
        return sys.stdin.buffer
    try:
        fh = open(name, "rb")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise InputError(f"file not found: {name}") from None
    except IsADirectoryError:
        raise InputError(f"{name} is a directory, not an email file") from None
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(os.fstat(fh.fileno()).st_mode):
        fh.close()
        raise InputError(f"{name} is a directory, not an email file")
    return fh


def _read_source(name: str) -> bytes:
    stream = _open_source(name)
    try:
        data = stream.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{name}: input is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB")
    return data


@dataclass
class _Input:
    name: str
    stream: IO[bytes]

    def close(self) -> None:
        if self.stream is not sys.stdin.buffer:
            self.stream.close()


def _open_all(sources: list[str]) -> list[_Input]:
    """Every input opened (not just looked at) before the first line is extracted, so an
    unreadable second file stops the batch before any provider call, not half-way."""
    opened: list[_Input] = []
    try:
        for name in sources:
            if name == "-" and sys.stdin.isatty():
                raise InputError("no input: pass a JSONL FILE or pipe lines on stdin")
            opened.append(_Input(name, _open_source(name)))
    except BaseException:
        for item in opened:
            item.close()
        raise
    return opened


def _refuse_output_among_inputs(output: Path | None, inputs: list[tuple[str, int]]) -> None:
    """``--output`` naming an input would truncate it before it is read: exit 2 instead."""
    if output is None:
        return
    try:
        out = os.stat(output)
    except OSError:
        return  # does not exist yet: cannot be an input
    for name, fd in inputs:
        try:
            st = os.fstat(fd) if fd >= 0 else os.stat(name if name != "-" else "/dev/stdin")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino) and stat.S_ISREG(st.st_mode):
            raise InputError(
                f"--output {output} is also an input ({name}); writing it would destroy the "
                "input: choose another output file"
            )


def _fileno(stream: IO[bytes]) -> int:
    try:
        return stream.fileno()
    except (OSError, ValueError):  # a test harness's in-memory stdin
        return -1


def _iter_lines(inputs: list[_Input]) -> Iterator[bytes]:
    """Raw lines of every input, one by one; decoding happens per line in the batch, so
    a line that is not UTF-8 becomes one error record instead of stopping the batch.
    A UTF-8 byte-order mark at the start of an input is dropped."""
    for item in inputs:
        try:
            first = True
            for line in _bounded_lines(item.stream):
                if first:
                    line, first = line.removeprefix(b"\xef\xbb\xbf"), False
                yield line
        finally:
            item.close()


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
    try:
        yield fh
    except BaseException:
        with contextlib.suppress(OSError):  # already failing (e.g. disk full): report that
            fh.close()
        raise
    fh.close()


def run_extract(
    files: list[str],
    *,
    jsonl: bool,
    strategy: str | None,
    concurrency: int,
    output: Path | None,
    received_at: str | None,
    pretty: bool = False,
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
    for name in orchestrator.provider_order():  # a provider without its key: exit 4 now,
        orchestrator.provider(name)  # not once per email (builds it; no SDK is imported)
    if jsonl:
        return _run_jsonl(
            orchestrator, sources, strategy_name, concurrency, output, default_received
        )
    return _run_files(orchestrator, sources, strategy_name, output, default_received, pretty)


def _dead_letter_box(orchestrator):
    from collabiq_llm.dead_letters import DeadLetterBox

    return DeadLetterBox(orchestrator.settings.home / "dead_letters")


def _load_file(name: str, received_at):
    """Read and parse one email file; anything it raises is this email's error."""
    from collabiq_llm.email.parsing import parse_email

    try:
        return parse_email(_read_source(name), received_at=received_at)
    except RecursionError:
        raise InputError(f"{name}: message is nested too deeply to read") from None


def _run_files(orchestrator, sources, strategy, output, received_at, pretty) -> int:
    """Each file (or stdin) is one email -> one JSON object, written as soon as it is done.

    One input on a terminal (or with ``--pretty``) is pretty-printed; otherwise (a pipe,
    cron appending to a file, several inputs, ``--output``) each result is one compact
    JSON line, in input order, so ``>> records.jsonl`` stays valid JSONL. With several
    inputs an unreadable one gets an error line and the rest go on (exit 2 at the end);
    a single bad input is exit 2 at once. Every email goes through the same unit of work
    as a batch line (:func:`~collabiq_llm.unit_of_work.process_email`).
    """
    from collabiq_llm.unit_of_work import process_email

    single = len(sources) == 1
    first = _load_file(sources[0], received_at) if single else None
    _refuse_output_among_inputs(output, [(n, -1) for n in sources if n != "-"])
    counts: Counter[str] = Counter()
    written = 0
    failed: _StopOutput | None = None

    with _output(output) as fh:  # opened before any provider call: a bad path fails fast
        box = _dead_letter_box(orchestrator)

        def emit(line: str) -> None:
            nonlocal written
            if single and fh is sys.stdout and (pretty or sys.stdout.isatty()):
                print_json(json.loads(line))
            else:
                fh.write(line + "\n")
                fh.flush()
            written += 1

        async def _all() -> None:
            try:
                for name in sources:
                    label = "stdin" if name == "-" else name
                    outcome = await process_email(
                        (lambda: first)
                        if first is not None
                        else (lambda n=name: _load_file(n, received_at)),
                        lambda email: orchestrator.aextract(email, strategy),
                        box,
                        strategy=strategy,
                        where={"source": name},
                        source=label,
                    )
                    counts[outcome.kind] += 1
                    if outcome.message is not None:
                        where = "" if label in outcome.message else f"{label}: "
                        err_console_print(f"error: {where}{outcome.message}")
                    elif outcome.degraded:
                        err_console_print(_degraded_warning(outcome.result))
                    try:
                        emit(outcome.record)
                    except OSError as exc:
                        raise _StopOutput(exc, name) from exc
            finally:
                await orchestrator.aclose()

        try:
            asyncio.run(_all())
        except _StopOutput as stop:
            failed = stop
            with contextlib.suppress(OSError):
                fh.close()  # the unwritten rest of its buffer would only fail again
    if failed is not None:
        return _output_failed(failed.error, output, written, f"input {failed.name}")
    return exit_code(counts)


class _StopOutput(Exception):
    def __init__(self, error: OSError, name: str) -> None:
        self.error, self.name = error, name


def _output_failed(error: OSError, output: Path | None, written: int, resume: str) -> int:
    """The batch's own output failed: the one thing that ends it. Say what was written."""
    if isinstance(error, BrokenPipeError):
        quiet_broken_pipe()
        return int(ExitCode.OK)  # the reader stopped reading (`| head -1`): not an error
    dest = output or "stdout"
    err_console_print(
        f"error: cannot write results to {dest}: {error.strerror or error}; the first "
        f"{written} result line(s) were written, in input order; re-run from {resume} to finish"
    )
    return int(ExitCode.BAD_INPUT)


def _run_jsonl(orchestrator, sources, strategy, concurrency, output, received_at) -> int:
    from collabiq_llm.batch import InputFailed, OutputFailed, run_batch

    inputs = _open_all(sources)
    try:
        _refuse_output_among_inputs(output, [(i.name, _fileno(i.stream)) for i in inputs])
    except BaseException:
        for item in inputs:
            item.close()
        raise
    progress = _progress()
    written = 0

    async def _go():
        try:
            with _output(output) as fh:

                def write(line: str) -> None:
                    nonlocal written
                    fh.write(line + "\n")
                    fh.flush()
                    written += 1

                return await run_batch(
                    lambda email: orchestrator.aextract(email, strategy),
                    _iter_lines(inputs),
                    write,
                    dead_letters=_dead_letter_box(orchestrator),
                    strategy=strategy,
                    concurrency=concurrency,
                    default_received_at=received_at,
                    on_done=progress.advance if progress else None,
                )
        finally:
            await orchestrator.aclose()
            for item in inputs:
                item.close()

    try:
        summary = asyncio.run(_go())
    except KeyboardInterrupt:
        where = f" in {output}" if output else ""
        err_console_print(
            f"interrupted: the first {written} result line(s) were written{where}, in input "
            f"order; re-run from non-blank input line {written + 1} to finish"
        )
        return 130
    except OutputFailed as exc:
        return _output_failed(
            exc.error, output, exc.written, f"non-blank input line {exc.written + 1}"
        )
    except InputFailed as exc:
        err_console_print(
            f"error: reading the input failed after {exc.lines} line(s): {exc}; those "
            f"{written} result line(s) were written; re-run from non-blank input line "
            f"{written + 1} to finish"
        )
        return int(ExitCode.BAD_INPUT)
    finally:
        if progress:
            progress.stop()
    err_console_print(
        f"{summary.lines} lines: {summary.ok} extracted"
        + (f" ({summary.degraded} degraded)" if summary.degraded else "")
        + f", {summary.bad_lines} bad, {summary.dead_lettered} kept in dead letters"
        + (f", {summary.internal} internal errors" if summary.internal else "")
    )
    if summary.unkept:
        err_console_print(
            f"error: {summary.unkept} failed email(s) could not be kept in dead letters "
            f"({_dead_letter_box(orchestrator).folder} is not writable); their full records, "
            'text included, are in the output instead, marked "kept_in_output": true'
        )
    return exit_code(
        {
            "unkept": summary.unkept,
            "config": summary.config,
            "dead_letter": summary.dead_lettered,
            "internal": summary.internal,
            "bad": summary.bad_lines,
        }
    )


class _Progress:
    def __init__(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from collabiq_llm.cli.output import stderr_console

        self._p = Progress(
            SpinnerColumn(),
            TextColumn("{task.completed} emails"),
            TimeElapsedColumn(),
            console=stderr_console(),
            transient=True,
            redirect_stdout=False,  # results must stay on stdout, not be drawn above the bar
            redirect_stderr=False,
        )
        self._task = self._p.add_task("extract", total=None)
        self._p.start()

    def advance(self) -> None:
        self._p.advance(self._task)

    def stop(self) -> None:
        self._p.stop()


def _progress() -> _Progress | None:
    return _Progress() if sys.stderr.isatty() else None


def _degraded_warning(result: ExtractionResult) -> str:
    """Exit 0 is right (the email has a record), but the operator must hear about it."""
    meta = result.meta
    if meta.provider == "offline":
        why = "every remote provider failed; answered by the offline extractor"
    else:
        why = f"only {meta.provider} answered; no consensus"
    return f"warning: {result.email_id}: degraded result ({why})"
