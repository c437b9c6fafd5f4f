"""``collabiq --help`` as typer prints it on a terminal at least 80 columns wide.

Why a copy: importing typer alone costs more than the whole ``--help`` budget (6× a bare
interpreter), and the root help is the page people (and container health checks) ask
for most. ``cli/fast.py`` prints this text only when click would format at its full
width (80 columns or more: click caps help at 78); narrower terminals go to typer.
``tests/contract/test_command_imports.py`` renders typer's page and fails when the two
differ; regenerate with ``python -m collabiq_llm.cli.help_text --write``.
"""

from __future__ import annotations

MIN_COLUMNS = 80
"""Click wraps help at ``min(columns, 80) - 2``: from 80 columns on, the page is this text."""

# generated: python -m collabiq_llm.cli.help_text --write
ROOT_HELP = "\n".join(
    [
        "Usage: collabiq [OPTIONS] COMMAND [ARGS]...",
        "",
        "  Turn collaboration emails into structured records with several LLM",
        "  providers.",
        "",
        "  Exit codes: 0 ok; 1 internal error; 2 usage or bad input; 3 email(s) not",
        "  extracted (kept in dead letters); 4 configuration error.",
        "",
        "Options:",
        "  --debug               Show tracebacks for errors (no locals); accepted after",
        "                        any command.",
        "  -V, --version         Print the version and exit.",
        "  --install-completion  Install completion for the current shell.",
        "  --show-completion     Show completion for the current shell, to copy it or",
        "                        customize the installation.",
        "  -h, --help            Show this message and exit.",
        "",
        "Commands:",
        "  llm     Extract emails, check providers, choose the strategy.",
        "  config  See the effective configuration and where each value came from.",
        "",
        "  Examples:",
        "",
        "    collabiq llm extract data/samples/ko_pilot_kickoff.eml",
        "    collabiq llm status --check",
        "    collabiq config show",
        "",
    ]
)
# end generated


_BEGIN = "# generated: python -m collabiq_llm.cli.help_text --write\n"
_END = "# end generated"


def generated_block(text: str) -> str:
    """The ``ROOT_HELP = ...`` statement for ``text``, one source line per help line."""
    import json

    lines = "".join(
        f"        {json.dumps(line, ensure_ascii=False)},\n" for line in text.split("\n")
    )
    return f'ROOT_HELP = "\\n".join(\n    [\n{lines}    ]\n)\n'


def typer_root_help() -> str:
    """The page typer renders now (imports typer: for the test and ``--write``)."""
    import contextlib
    import io
    import os

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(MIN_COLUMNS)
    out = io.StringIO()
    try:
        from collabiq_llm.cli.root import app

        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            app(args=["--help"], prog_name="collabiq")
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
    return out.getvalue()


if __name__ == "__main__":
    import sys
    from pathlib import Path

    fresh = typer_root_help()
    if "--write" in sys.argv:
        path = Path(__file__)
        source = path.read_text("utf-8")
        head, rest = source.split(_BEGIN, 1)
        tail = rest.split(_END, 1)[1]
        path.write_text(head + _BEGIN + generated_block(fresh) + _END + tail, "utf-8")
    sys.stdout.write(fresh)
