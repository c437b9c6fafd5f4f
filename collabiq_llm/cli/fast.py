"""A typer-free route for the commands cron and health checks run most often.

Why: importing typer (and its click layer) costs several times a bare interpreter's
start-up, more than ``collabiq llm status --json`` needs to read two JSON files. Only
exact, known argument lists take this route (``--version`` / ``-V``; ``--help`` / ``-h`` on
a terminal of 80 columns or more (``cli/help_text.py``); ``llm status`` with ``--json`` /
``--detailed`` / ``-d`` / ``--check``, optionally after ``--debug``); anything else — a
subcommand's help, a typo, an unknown flag — goes to typer, which owns usage errors.
The CLI tests run both routes and compare their output.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

STATUS_FLAGS = {
    "--json": "as_json",
    "--detailed": "detailed",
    "-d": "detailed",
    "--check": "check",
}


COMPLETE_VAR = "_COLLABIQ_COMPLETE"
"""Set by the shell completion scripts typer installs: typer must answer those calls."""


def print_version() -> None:
    from collabiq_llm import __version__

    sys.stdout.write(f"collabiq {__version__}\n")


def _version() -> int:
    print_version()
    return 0


def _help() -> int:
    from collabiq_llm.cli.help_text import ROOT_HELP

    sys.stdout.write(ROOT_HELP)
    return 0


def _full_width_help() -> bool:
    """Would click format help at its widest? (it wraps at ``min(columns, 80) - 2``)"""
    import shutil

    from collabiq_llm.cli.help_text import MIN_COLUMNS

    return shutil.get_terminal_size().columns >= MIN_COLUMNS


def route(argv: list[str]) -> Callable[[], int] | None:
    """The handler for ``argv`` when it can skip typer, else ``None``."""
    from collabiq_llm.cli.output import state

    if os.environ.get(COMPLETE_VAR):  # a shell asking typer for completions
        return None

    args = list(argv)
    debug = bool(args) and args[0] == "--debug"
    if debug:
        args = args[1:]
    if args in (["--version"], ["-V"]):
        return _version
    if args in (["--help"], ["-h"]) and _full_width_help():
        return _help
    if args[:2] != ["llm", "status"]:
        return None
    flags = args[2:]
    if len(set(flags)) != len(flags) or any(f not in STATUS_FLAGS for f in flags):
        return None
    options = {name: False for name in STATUS_FLAGS.values()}
    for flag in flags:
        options[STATUS_FLAGS[flag]] = True

    def status() -> int:
        state.debug = state.debug or debug
        wants_table = options["detailed"] or not (options["as_json"] or options["check"])
        if not wants_table:  # the table needs the full path; the rest maybe no pydantic
            from collabiq_llm.status_fast import run

            code = run(as_json=options["as_json"], check=options["check"])
            if code is not None:
                return code
        from collabiq_llm.cli.status_cmd import run_status

        return run_status(**options)

    return status
