"""The ``collabiq llm`` command group: parse arguments, call the core, render.

Each command imports its implementation lazily, so ``--help`` stays fast and no
SDK is imported unless a provider is actually called.
"""

from __future__ import annotations

from pathlib import Path

import typer

from collabiq_llm.cli.output import EXIT_CODES_HELP
from collabiq_llm.cli.state_cmd import state_app


def examples(*lines: str) -> str:
    """A help epilog: the example command lines, kept as written (``\\b`` stops rewrapping)."""
    head = "Example:" if len(lines) == 1 else "Examples:"
    return head + "\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


llm_app = typer.Typer(
    help="Extract emails, check providers, choose the strategy.\n\n" + EXIT_CODES_HELP,
    epilog=examples("collabiq llm extract mail.eml", "collabiq llm status"),
    no_args_is_help=True,
    rich_markup_mode=None,
)
dead_letters_app = typer.Typer(
    help="Emails no provider could handle: list, show, replay or drop them.",
    epilog=examples("collabiq llm dead-letters", "collabiq llm dead-letters replay --json"),
    no_args_is_help=False,
)
llm_app.add_typer(dead_letters_app, name="dead-letters")
llm_app.add_typer(state_app, name="state")


@llm_app.command(
    epilog=examples(
        "collabiq llm extract data/samples/ko_pilot_kickoff.eml",
        "cat mail.eml | collabiq llm extract --strategy consensus",
        "collabiq llm extract --jsonl inbox.jsonl -o results.jsonl --skip 120",
    )
)
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
    skip: int = typer.Option(
        0,
        "--skip",
        min=0,
        help="--jsonl: skip the first N non-blank input lines (to resume where Ctrl-C said).",
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
            skip=skip,
        )
    )


@llm_app.command(
    epilog=examples(
        "collabiq llm status",
        "collabiq llm status --detailed",
        "collabiq llm status --check || page-oncall",
    )
)
def status(
    detailed: bool = typer.Option(
        False, "--detailed", "-d", help="Money (today, month, lifetime, budgets), tokens, order."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    check: bool = typer.Option(
        False,
        "--check",
        help="Health check: exit 3 if a configured provider cannot take calls "
        "(each named on stderr), else 0. No table.",
    ),
) -> None:
    """Provider health, circuit state, latency, tokens and cost (reads state only)."""
    from collabiq_llm.cli.status_cmd import run_status

    raise typer.Exit(run_status(detailed=detailed, as_json=as_json, check=check))


@llm_app.command(
    "test", epilog=examples("collabiq llm test", "collabiq llm test claude --timeout 10 --json")
)
def test_cmd(
    providers: list[str] = typer.Argument(
        None, metavar="[PROVIDER]...", help="Providers to test (default: the active ones)."
    ),
    all_: bool = typer.Option(False, "--all", help="Test every configured provider."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    timeout: float = typer.Option(
        None, "--timeout", min=0.1, help="Give up on a provider after this many seconds."
    ),
) -> None:
    """Make a real lightweight extraction call per provider; exit 0 only if all pass.

    Exit 3 when a call failed (or a provider is over budget), 4 when only keys are
    missing, or when no remote provider is configured (only offline was tested).
    """
    from collabiq_llm.cli.admin_cmd import run_test

    raise typer.Exit(
        run_test(providers or [], all_providers=all_, as_json=as_json, timeout_s=timeout)
    )


@llm_app.command(
    "set-strategy",
    epilog=examples(
        "collabiq llm set-strategy consensus",
        "collabiq llm set-strategy failover --providers claude,gemini",
    ),
)
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


@llm_app.command(epilog=examples("collabiq llm reset openai", "collabiq llm reset --all"))
def reset(
    provider: str = typer.Argument(None, metavar="[PROVIDER]"),
    all_: bool = typer.Option(False, "--all", help="Reset every provider."),
) -> None:
    """Close a provider's circuit and clear its consecutive failures (history is kept)."""
    from collabiq_llm.cli.admin_cmd import run_reset

    raise typer.Exit(run_reset(provider, all_providers=all_))


@llm_app.command(
    "eval",
    epilog=examples(
        "collabiq llm eval data/eval/emails.jsonl --compare",
        "collabiq llm eval data/eval/emails.jsonl --strategy consensus --limit 20 --json",
    ),
)
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
    """Emails no provider could handle: list, show, replay or drop them."""
    if ctx.invoked_subcommand is None:
        from collabiq_llm.cli.dead_letters_cmd import run_dead_letters_list

        raise typer.Exit(run_dead_letters_list(as_json=as_json))


@dead_letters_app.command(
    "list", epilog=examples("collabiq llm dead-letters list", "collabiq llm dead-letters --json")
)
def dead_letters_list(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List kept emails (id, when, errors); newest last."""
    from collabiq_llm.cli.dead_letters_cmd import run_dead_letters_list

    raise typer.Exit(run_dead_letters_list(as_json=as_json))


@dead_letters_app.command("show", epilog=examples("collabiq llm dead-letters show em_3f2a"))
def dead_letters_show(
    letter: str = typer.Argument(..., metavar="ID", help="Id, email_id or unique id prefix."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """One kept email: its text, errors per provider, tries and source."""
    from collabiq_llm.cli.dead_letters_cmd import run_dead_letters_show

    raise typer.Exit(run_dead_letters_show(letter, as_json=as_json))


@dead_letters_app.command(
    "replay",
    epilog=examples(
        "collabiq llm dead-letters replay --output replayed.jsonl",
        "collabiq llm dead-letters replay em_3f2a --strategy consensus --json",
    ),
)
def dead_letters_replay(
    letters: list[str] = typer.Argument(
        None, metavar="[ID]...", help="Letters to replay (default: all)."
    ),
    strategy: str = typer.Option(
        None, "--strategy", "-s", help="Override the current strategy for this replay."
    ),
    output: Path = typer.Option(None, "--output", "-o", help="Append results here, not stdout."),
    accept_degraded: bool = typer.Option(
        False,
        "--accept-degraded",
        help="Take a degraded answer (offline extractor, lone consensus) and drop the letter.",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="One JSON object: replayed, kept (with why) and the results."
    ),
) -> None:
    """Re-run kept emails with the current strategy; a letter is removed only after its
    result was written, and kept when the answer would be degraded."""
    from collabiq_llm.cli.dead_letters_cmd import run_dead_letters_replay

    raise typer.Exit(
        run_dead_letters_replay(
            letters or [],
            strategy=strategy,
            output=output,
            accept_degraded=accept_degraded,
            as_json=as_json,
        )
    )


@dead_letters_app.command("drop", epilog=examples("collabiq llm dead-letters drop em_3f2a"))
def dead_letters_drop(
    letters: list[str] = typer.Argument(..., metavar="ID...", help="Letters to delete."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Delete kept emails for good (every ID is checked before anything is deleted)."""
    from collabiq_llm.cli.dead_letters_cmd import run_dead_letters_drop

    raise typer.Exit(run_dead_letters_drop(letters, as_json=as_json))


@llm_app.command(
    epilog=examples(
        "collabiq llm metrics",
        "collabiq llm metrics -o /var/lib/node_exporter/textfile_collector/collabiq.prom",
    )
)
def metrics(
    output: Path = typer.Option(
        None, "--output", "-o", help="Write here atomically (temp file + rename), not stdout."
    ),
) -> None:
    """Prometheus text format: calls, failures, breaker, health, latency, tokens, cost, budget."""
    from collabiq_llm.cli.metrics_cmd import run_metrics

    raise typer.Exit(run_metrics(output))


@llm_app.command(
    epilog=examples(
        "collabiq llm costs",
        "collabiq llm costs --by provider --since 2026-11-01",
        "collabiq llm costs --by strategy --json",
    )
)
def costs(
    by: str = typer.Option("day", "--by", help="day | provider | strategy"),
    since: str = typer.Option(None, "--since", help="Only emails on or after this UTC date."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Cost of emails from the ledger, by day, provider or strategy (reads state only)."""
    from collabiq_llm.cli.costs_cmd import run_costs

    raise typer.Exit(run_costs(by=by, since=since, as_json=as_json))
