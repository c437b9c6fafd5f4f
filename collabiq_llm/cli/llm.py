"""The ``collabiq llm`` command group: parse arguments, call the core, render.

Each command imports its implementation lazily, so ``--help`` stays fast and no
SDK is imported unless a provider is actually called.
"""

from __future__ import annotations

from pathlib import Path

import typer

from collabiq_llm.cli.output import EXIT_CODES_HELP
from collabiq_llm.cli.state_cmd import state_app

llm_app = typer.Typer(
    help="Extract emails, check providers, choose the strategy.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    rich_markup_mode=None,
)
dead_letters_app = typer.Typer(
    help="Emails no provider could handle: list or replay them.", no_args_is_help=False
)
llm_app.add_typer(dead_letters_app, name="dead-letters")
llm_app.add_typer(state_app, name="state")


@llm_app.command()
def extract(
    files: list[str] = typer.Argument(
        None, metavar="[FILES]...", help="Email files (.eml or text); '-' or none = stdin."
    ),
    jsonl: bool = typer.Option(
        False, "--jsonl", help='Input lines are {"text", "email_id"?, "received_at"?} objects.'
    ),
    strategy: str = typer.Option(
        None, "--strategy", "-s", help="failover | consensus | best-match (this run only)."
    ),
    concurrency: int = typer.Option(
        4, "--concurrency", "-n", min=1, max=256, help="Emails in flight at once (--jsonl)."
    ),
    output: Path = typer.Option(None, "--output", "-o", help="Write results here, not stdout."),
    received_at: str = typer.Option(
        None, "--received-at", help="Date the email was received (YYYY-MM-DD), for 어제/yesterday."
    ),
    pretty: bool = typer.Option(
        False, "--pretty", help="Indent a single result even when stdout is not a terminal."
    ),
) -> None:
    """Extract person, startup, partner, details and date as JSON."""
    from collabiq_llm.cli.extract_cmd import run_extract

    raise typer.Exit(
        run_extract(
            files or [],
            jsonl=jsonl,
            strategy=strategy,
            concurrency=concurrency,
            output=output,
            received_at=received_at,
            pretty=pretty,
        )
    )


@llm_app.command()
def status(
    detailed: bool = typer.Option(False, "--detailed", "-d", help="Tokens, cost, strategy, order."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Provider health, circuit state, latency, tokens and cost (reads state only)."""
    from collabiq_llm.cli.status_cmd import run_status

    raise typer.Exit(run_status(detailed=detailed, as_json=as_json))


@llm_app.command("test")
def test_cmd(
    providers: list[str] = typer.Argument(
        None, metavar="[PROVIDER]...", help="Providers to test (default: the active ones)."
    ),
    all_: bool = typer.Option(False, "--all", help="Test every configured provider."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Make a real lightweight extraction call per provider; exit 0 only if all pass."""
    from collabiq_llm.cli.admin_cmd import run_test

    raise typer.Exit(run_test(providers or [], all_providers=all_, as_json=as_json))


@llm_app.command("set-strategy")
def set_strategy(
    name: str = typer.Argument(..., metavar="STRATEGY", help="failover | consensus | best-match"),
    providers: str = typer.Option(
        None, "--providers", "-p", help="Comma-separated priority order, e.g. claude,gemini."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Persist the strategy (and provider order) for every process."""
    from collabiq_llm.cli.admin_cmd import run_set_strategy

    raise typer.Exit(run_set_strategy(name, providers, as_json=as_json))


@llm_app.command()
def reset(
    provider: str = typer.Argument(None, metavar="[PROVIDER]"),
    all_: bool = typer.Option(False, "--all", help="Reset every provider."),
) -> None:
    """Close a provider's circuit and clear its consecutive failures (history is kept)."""
    from collabiq_llm.cli.admin_cmd import run_reset

    raise typer.Exit(run_reset(provider, all_providers=all_))


@llm_app.command("eval")
def eval_cmd(
    datasets: list[Path] = typer.Argument(
        None,
        help="Labelled JSONL sets, each reported on its own; default: data/eval/emails.jsonl "
        "and data/eval/independent/emails.jsonl when present.",
        show_default=False,
    ),
    strategy: str = typer.Option(None, "--strategy", "-s", help="Evaluate one strategy."),
    compare: bool = typer.Option(
        False, "--compare", help="Each provider alone, consensus and best-match, side by side."
    ),
    limit: int = typer.Option(None, "--limit", min=1, help="Only the first N emails."),
    concurrency: int = typer.Option(8, "--concurrency", "-n", min=1, max=256),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Accuracy, coverage, calibration, cost and latency on a labelled set."""
    from collabiq_llm.cli.eval_cmd import run_eval

    raise typer.Exit(
        run_eval(
            datasets or None,
            strategy=strategy,
            compare=compare,
            limit=limit,
            concurrency=concurrency,
            as_json=as_json,
        )
    )


@dead_letters_app.callback(invoke_without_command=True)
def dead_letters_default(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    if ctx.invoked_subcommand is None:
        from collabiq_llm.cli.admin_cmd import run_dead_letters_list

        raise typer.Exit(run_dead_letters_list(as_json=as_json))


@dead_letters_app.command("list")
def dead_letters_list(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List kept emails with their errors."""
    from collabiq_llm.cli.admin_cmd import run_dead_letters_list

    raise typer.Exit(run_dead_letters_list(as_json=as_json))


@dead_letters_app.command("replay")
def dead_letters_replay(
    strategy: str = typer.Option(None, "--strategy", "-s", help="Override the strategy."),
    output: Path = typer.Option(None, "--output", "-o", help="Write results here, not stdout."),
) -> None:
    """Re-run kept emails; each is removed only after its result was written."""
    from collabiq_llm.cli.admin_cmd import run_dead_letters_replay

    raise typer.Exit(run_dead_letters_replay(strategy=strategy, output=output))
