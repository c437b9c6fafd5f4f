"""The typer application behind ``collabiq`` (global options, ``llm`` and ``config``).

Kept apart from :mod:`collabiq_llm.cli.app` so the console script can answer the
read-only commands (``llm status``, ``--version``) without importing typer at all.
"""

from __future__ import annotations

import typer

from collabiq_llm.cli.config_cmd import config_app
from collabiq_llm.cli.llm import llm_app
from collabiq_llm.cli.output import EXIT_CODES_HELP, state

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


def _print_version(value: bool) -> None:
    if value:
        from collabiq_llm.cli.fast import print_version

        print_version()
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks for errors (no locals); accepted after any command."
    ),
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    state.debug = state.debug or debug
