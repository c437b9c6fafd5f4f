"""Root of the ``collabiq`` command: global options and error -> exit code mapping.

Exit codes: 0 ok; 1 unexpected internal error; 2 usage or bad input; 3 some
email(s) could not be extracted (dead-lettered); 4 configuration error.
Nothing heavy is imported here: ``collabiq --help`` must start fast, and ``llm status``
and ``--version`` skip typer altogether (``cli/fast.py``).
"""

from __future__ import annotations

import sys
from typing import Any

from collabiq_llm.cli.output import ExitCode, err_console_print, state


def __getattr__(name: str) -> Any:
    """``app`` (the typer application) is built on first access: see ``cli/root.py``."""
    if name == "app":
        from collabiq_llm.cli.root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM (``kill``, a container stop) ends the process as Ctrl-C does: through
    ``atexit``, so the state events a batch still holds are written (or spooled)."""
    import signal

    def terminated(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, terminated)
    except ValueError:  # not the main thread (an embedding application): leave it alone
        pass


def take_debug_flag(argv: list[str]) -> tuple[list[str], bool]:
    """``--debug`` anywhere before a ``--`` (``collabiq llm status --debug``) -> (rest, True)."""
    end = argv.index("--") if "--" in argv else len(argv)
    head = [a for a in argv[:end] if a != "--debug"]
    return head + argv[end:], len(head) != end


def main() -> None:
    """Console-script entry point: run the app, turn known errors into one-line messages."""
    from collabiq_llm.cli.fast import route

    argv, debug = take_debug_flag(sys.argv[1:])
    state.debug = debug  # per run (tests call main() many times in one process)
    _exit_cleanly_on_sigterm()
    try:
        fast = route(argv)
        if fast is not None:
            sys.exit(fast())
        from collabiq_llm.cli.root import app

        app(args=argv, prog_name="collabiq")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err_console_print("interrupted")
        sys.exit(130)
    except BrokenPipeError:  # the reader stopped reading (`| head -1`), like other Unix tools
        from collabiq_llm.cli.output import quiet_broken_pipe

        quiet_broken_pipe()
        sys.exit(int(ExitCode.OK))
    except Exception as exc:  # every error ends as one line + documented exit code
        from collabiq_llm.errors import (
            AllProvidersFailed,
            CollabIQError,
            ConfigurationError,
            InputError,
        )
        from collabiq_llm.redact import redact

        if state.debug:
            import traceback

            sys.stderr.write(redact("".join(traceback.format_exception(exc))))
        if isinstance(exc, InputError):
            code = ExitCode.BAD_INPUT
        elif isinstance(exc, ConfigurationError):
            code = ExitCode.CONFIG
        elif isinstance(exc, AllProvidersFailed):
            code = ExitCode.NOT_EXTRACTED
        elif isinstance(exc, CollabIQError):
            code = ExitCode.INTERNAL
        else:
            code = ExitCode.INTERNAL
            exc = Exception(f"internal error ({type(exc).__name__}): {exc}")
        hint = "" if state.debug else " (run with --debug for details)"
        suffix = hint if code == ExitCode.INTERNAL else ""
        err_console_print(f"error: {redact(exc)}{suffix}")
        sys.exit(int(code))


if __name__ == "__main__":
    main()
