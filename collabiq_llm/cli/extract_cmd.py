"""``collabiq llm extract``: one email or a JSONL batch in, JSON out, nothing lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from collabiq_llm.cli.inputs import (  # noqa: F401 - MAX_LINE_BYTES etc. re-exported
    MAX_INPUT_BYTES,
    MAX_LINE_BYTES,
    OVERSIZED_LINE,
    _bounded_lines,
    _fileno,
    _iter_lines,
    _open_all,
    _read_source,
    _refuse_output_among_inputs,
)
from collabiq_llm.cli.output import ExitCode, err_console_print, print_json, quiet_broken_pipe
from collabiq_llm.errors import InputError
from collabiq_llm.unit_of_work import exit_code

if TYPE_CHECKING:
    from collabiq_llm.entities import ExtractionResult


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
    for name in orchestrator.provider_order():  # a provider without its key: exit 4 now,
        orchestrator.provider(name)  # not once per email (builds it; no SDK is imported)
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


def _run_jsonl(orchestrator, sources, strategy, concurrency, output, received_at, skip=0) -> int:
    import time

    from collabiq_llm.batch import InputFailed, OutputFailed, run_batch
    from collabiq_llm.cli import progress as prog

    inputs = _open_all(sources)  # every input opened before the first line is extracted
    try:
        _refuse_output_among_inputs(output, [(i.name, _fileno(i.stream)) for i in inputs])
    except BaseException:
        for item in inputs:
            item.close()
        raise
    bar = None
    if prog.progress_wanted(output):
        total = prog.count_lines(sources)
        bar = prog.BatchProgress(None if total is None else max(0, total - skip))
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
                    prog.skip_lines(_iter_lines(inputs), skip),
                    write,
                    dead_letters=_dead_letter_box(orchestrator),
                    strategy=strategy,
                    concurrency=concurrency,
                    default_received_at=received_at,
                    on_done=bar.advance if bar else None,
                )
        finally:
            await orchestrator.aclose()
            for item in inputs:
                item.close()

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
    except OutputFailed as exc:
        done = skip + exc.written
        return _output_failed(
            exc.error, output, exc.written, f"non-blank input line {done + 1} (--skip {done})"
        )
    except InputFailed as exc:
        err_console_print(
            f"error: reading the input failed after {exc.lines} line(s): {exc}; those "
            f"{written} result line(s) were written; re-run with --skip {skip + written} "
            "to finish"
        )
        return int(ExitCode.BAD_INPUT)
    finally:
        if bar:
            bar.stop()
    err_console_print(
        prog.batch_summary(
            summary, elapsed_s=time.monotonic() - started, cost_usd=cost[0], skipped=skip
        )
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


def _degraded_warning(result: ExtractionResult) -> str:
    """Exit 0 is right (the email has a record), but the operator must hear why, per provider."""
    from collabiq_llm.cli.progress import degraded_reasons

    meta = result.meta
    answered = sum(a.outcome == "success" for a in meta.attempts)
    if meta.provider == "offline" and answered <= 1:
        why = "answered by the offline extractor"
    elif meta.strategy == "consensus" and answered >= 2:
        why = f"{answered} providers answered but agreed on no field; confidence kept ≤ 0.5"
    else:
        why = f"only {meta.provider} answered; no consensus"
    reasons = degraded_reasons(meta.attempts)
    return f"warning: {result.email_id}: degraded result ({why})" + (
        f": {reasons}" if reasons else ""
    )
