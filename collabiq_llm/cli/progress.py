"""Progress on stderr for long runs (batches, ``llm test``), and the words around them.

Rules: progress is drawn only on a terminal (stderr), never when the results go
to that same terminal (stdout is a TTY and no ``--output``: the bar would be
drawn into the JSON records); it is stopped before the final message; messages
printed while it runs (warnings) appear above it, not glued into it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

# -- words --------------------------------------------------------------------------------


def degraded_reasons(attempts: Sequence[Any]) -> str:
    """'gemini skipped: over daily budget …; claude server: …' — the last word per provider
    that did not answer (the offline extractor is the answer, not a reason)."""
    last: dict[str, Any] = {}
    for att in attempts:
        if att.provider != "offline":
            last[att.provider] = att
    parts = []
    for name, att in last.items():
        if att.outcome == "success":
            continue
        if att.outcome == "skipped":
            parts.append(f"{name} skipped: {att.error or 'not called'}")
        else:
            parts.append(f"{name} {att.error_kind or att.outcome}: {att.error or 'no answer'}")
    return "; ".join(parts)


def duration(seconds: float) -> str:
    """'4.2 s', '3 min 05 s', '1 h 02 min'."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def batch_summary(summary: Any, *, elapsed_s: float, cost_usd: float | None, skipped: int) -> str:
    """The one line a batch ends with: counts per outcome, time and money."""
    from collabiq_llm.state.costs import money

    parts = [f"{summary.ok} extracted"]
    if summary.degraded:
        parts[0] += f" ({summary.degraded} degraded)"
    parts += [f"{summary.bad_lines} bad", f"{summary.dead_lettered} kept in dead letters"]
    if getattr(summary, "internal", 0):
        parts.append(f"{summary.internal} internal errors")
    head = f"{summary.lines} lines" + (f" (after skipping {skipped})" if skipped else "")
    cost = "unknown" if cost_usd is None else money(cost_usd)
    return f"{head}: {', '.join(parts)}; {duration(elapsed_s)}, cost {cost}"


# -- input --------------------------------------------------------------------------------


def count_lines(sources: Sequence[str]) -> int | None:
    """Non-blank lines of the input files; None when one is stdin, a pipe or a device (size
    unknown, and reading it here would consume the lines the batch must read)."""
    if any(name == "-" or not Path(name).is_file() for name in sources):
        return None
    total = 0
    for name in sources:
        try:
            with Path(name).open("rb") as fh:
                total += sum(1 for line in fh if line.strip())
        except OSError:
            return None
    return total


def skip_lines(lines: Iterable[bytes], skip: int) -> Iterator[bytes]:
    """The input with its first ``skip`` non-blank lines blanked, so line numbers stay true."""
    seen = 0
    for line in lines:
        if seen < skip and line.strip():
            seen += 1
            yield b"\n"
            continue
        yield line


# -- drawing ------------------------------------------------------------------------------


def progress_wanted(output: Path | None) -> bool:
    """On a terminal, unless the results are being printed on that same terminal."""
    if not sys.stderr.isatty():
        return False
    return output is not None or not sys.stdout.isatty()


class BatchProgress:
    """A bar with count, % and ETA when the total is known; a spinner with a count if not."""

    def __init__(self, total: int | None, *, label: str = "extracting") -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from collabiq_llm.cli.output import stderr_console

        if total is None:
            columns: list[Any] = [
                SpinnerColumn(),
                TextColumn(label + " {task.completed} emails"),
                TimeElapsedColumn(),
            ]
        else:
            columns = [
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
            ]
        self._p = Progress(
            *columns,
            console=stderr_console(),
            transient=True,
            redirect_stdout=False,  # results stay on stdout, never drawn above the bar
            redirect_stderr=True,  # warnings printed meanwhile go above the bar
        )
        self._task = self._p.add_task(label, total=total)
        self._p.start()

    def advance(self) -> None:
        self._p.advance(self._task)

    def stop(self) -> None:
        self._p.stop()


class CheckProgress:
    """``llm test``: one line per provider, a spinner until it answers, then its result."""

    def __init__(self, names: Sequence[str]) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from collabiq_llm.cli.output import stderr_console

        self._p = Progress(
            SpinnerColumn(finished_text="·"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=stderr_console(),
            transient=True,
            redirect_stdout=False,
            redirect_stderr=True,
        )
        self._tasks = {n: self._p.add_task(f"{n}: calling…", total=1) for n in names}
        self._p.start()

    def done(self, name: str, ok: bool) -> None:
        self._p.update(
            self._tasks[name], completed=1, description=f"{name}: {'ok' if ok else 'failed'}"
        )

    def stop(self) -> None:
        self._p.stop()
