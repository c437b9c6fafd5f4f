"""Where CLI output goes: data to stdout, messages to stderr; colour only on a TTY."""

from __future__ import annotations

import enum
import json
import os
import sys
from typing import Any

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 internal error; 2 usage or bad input; "
    "3 email(s) not extracted (kept in dead letters); 4 configuration error."
)


class ExitCode(enum.IntEnum):
    OK = 0
    INTERNAL = 1
    BAD_INPUT = 2
    NOT_EXTRACTED = 3
    CONFIG = 4


class _State:
    """Per-run CLI flags (a plain class: ``dataclasses`` costs start-up time)."""

    def __init__(self) -> None:
        self.debug = False


state = _State()


def err_console_print(message: str) -> None:
    """One line on stderr, without Rich markup interpretation."""
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()


def _color_system() -> str | None:
    """``NO_COLOR`` (any non-empty value) turns every ANSI style off, bold included."""
    return None if os.environ.get("NO_COLOR") else "auto"


def stderr_console():
    """Rich console on stderr: styled only on a terminal, never with ``NO_COLOR``."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, color_system=_color_system())


def stdout_console():
    """Rich console on stdout: styled only on a terminal, never with ``NO_COLOR``."""
    from rich.console import Console

    width = None
    if not sys.stdout.isatty() and not os.environ.get("COLUMNS"):
        width = PIPE_WIDTH  # cron mail, `| less`: no terminal to fit, so lose nothing
    return Console(highlight=False, color_system=_color_system(), width=width)


PIPE_WIDTH = 200
"""Table width when stdout is not a terminal and COLUMNS is unset (Rich would use 80)."""


def compact_table(title: str):
    """A table with a header rule only (no side borders), so many columns fit in 100 chars."""
    from rich import box
    from rich.table import Table

    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )


def print_json(data: Any, *, compact: bool = False) -> None:
    """Data on stdout as JSON (UTF-8, not ASCII-escaped, so Korean stays readable)."""
    text = json.dumps(data, ensure_ascii=False, indent=None if compact else 2, default=str)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def quiet_broken_pipe() -> None:
    """The reader closed our stdout (``| head -1``): point stdout at /dev/null so the
    interpreter's final flush cannot print "Exception ignored ... BrokenPipeError"."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
