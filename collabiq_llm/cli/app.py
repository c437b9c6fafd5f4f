"""Root of the ``collabiq`` command: global options and error -> exit code mapping.

Exit codes: 0 ok; 1 unexpected internal error; 2 usage or bad input; 3 some
email(s) could not be extracted (dead-lettered); 4 configuration error.
Nothing heavy is imported here: ``collabiq --help`` must start fast.
"""

from __future__ import annotations

import sys

import typer

from collabiq_llm.cli.llm import llm_app
from collabiq_llm.cli.output import EXIT_CODES_HELP, ExitCode, err_console_print, state

app = typer.Typer(
    name="collabiq",
    help="Turn collaboration emails into structured records with several LLM providers.\n\n"
    + EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(llm_app, name="llm")


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors (no locals)."),
) -> None:
    state.debug = debug


def main() -> None:
    """Console-script entry point: run the app, turn known errors into one-line messages."""
    from collabiq_llm.errors import (
        AllProvidersFailed,
        CollabIQError,
        ConfigurationError,
        InputError,
    )

    try:
        app()
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
