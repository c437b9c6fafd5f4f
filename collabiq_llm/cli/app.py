"""Root of the ``collabiq`` command: global options and error -> exit code mapping.

Exit codes: 0 ok; 1 unexpected internal error; 2 usage or bad input; 3 some
email(s) could not be extracted (dead-lettered); 4 configuration error.
Nothing heavy is imported here: ``collabiq --help`` must start fast.
"""

from __future__ import annotations

import sys

import typer

from collabiq_llm.cli.config_cmd import config_app
from collabiq_llm.cli.llm import llm_app
from collabiq_llm.cli.output import EXIT_CODES_HELP, ExitCode, err_console_print, state

app = typer.Typer(
    name="collabiq",
    help="Turn collaboration emails into structured records with several LLM providers.\n\n"
    + EXIT_CODES_HELP,
    epilog="Examples:\n\n\b\n  collabiq llm extract data/samples/ko_pilot_kickoff.eml\n"
    "  collabiq llm status --check\n  collabiq config show",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(llm_app, name="llm")
app.add_typer(config_app, name="config")


def _version(value: bool) -> None:
    if value:
        from collabiq_llm import __version__

        print(f"collabiq {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks for errors (no locals); accepted after any command."
    ),
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    state.debug = state.debug or debug


def take_debug_flag(argv: list[str]) -> tuple[list[str], bool]:
    """``--debug`` anywhere before a ``--`` (``collabiq llm status --debug``) -> (rest, True)."""
    end = argv.index("--") if "--" in argv else len(argv)
    head = [a for a in argv[:end] if a != "--debug"]
    return head + argv[end:], len(head) != end


def main() -> None:
    """Console-script entry point: run the app, turn known errors into one-line messages."""
    from collabiq_llm.errors import (
        AllProvidersFailed,
        CollabIQError,
        ConfigurationError,
        InputError,
    )

    argv, debug = take_debug_flag(sys.argv[1:])
    state.debug = debug  # per run (tests call main() many times in one process)
    try:
        app(args=argv, prog_name="collabiq")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err_console_print("interrupted")
        sys.exit(130)
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
