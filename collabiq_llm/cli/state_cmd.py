"""``collabiq llm state …``: move the shared state between backends.

``collabiq llm state migrate --to redis://host:6379/0[?namespace=prod] [--from DIR]``
copies a JSON state folder (default: the one this host uses) into Redis, once:
running it again on the same files copies nothing (see ``state/migrate.py``).
Imports stay lazy so ``collabiq --help`` is not slowed by this module.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from collabiq_llm.cli.output import ExitCode, err_console_print, print_json

state_app = typer.Typer(
    help="Shared state (breakers, health, costs): migrate it between backends.",
    epilog="Example:\n\n\b\n  collabiq llm state migrate --to redis://127.0.0.1:6379/0",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@state_app.command(
    "migrate",
    epilog="Example:\n\n\b\n  collabiq llm state migrate --to redis://127.0.0.1:6379/0",
)
def migrate(
    to: str = typer.Option(
        ..., "--to", metavar="URL", help="Target: redis://[user:pass@]host:port/db[?namespace=N]."
    ),
    from_dir: Path = typer.Option(
        None, "--from", metavar="DIR", help="JSON state folder (default: this host's)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Add the folder again although it changed since its last migration."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Copy JSON state (totals, breakers, ledger) into Redis; safe to run twice."""
    raise typer.Exit(run_migrate(to, from_dir, force=force, as_json=as_json))


def default_source() -> Path:
    """The JSON folder this host uses: ``state_url=file://DIR`` or ``$COLLABIQ_HOME/llm_health``."""
    from collabiq_llm.settings import Settings

    settings = Settings()
    from collabiq_llm.state import json_state_folder

    url = (settings.state_url or "").strip()
    return json_state_folder(settings, url) if url.startswith("file://") else settings.state_dir


def run_migrate(
    to: str, from_dir: Path | None, *, force: bool = False, as_json: bool = False
) -> int:
    """Exit code: 0 copied (or copied before), 2 refused (the folder changed since: --force)."""
    from collabiq_llm.errors import ConfigurationError
    from collabiq_llm.settings import Settings
    from collabiq_llm.state import REDIS_SCHEMES, redact_url
    from collabiq_llm.state.migrate import migrate_json_to_redis

    if to.split(":", 1)[0] not in REDIS_SCHEMES:
        raise ConfigurationError(f"--to must be a redis:// or rediss:// URL, not {redact_url(to)}")
    source = from_dir or default_source()
    report = migrate_json_to_redis(source, to, cost=Settings().cost, force=force)
    if as_json:
        print_json(json.loads(json.dumps(report.as_dict())))
    elif report.status == "migrated":
        err_console_print(
            f"migrated {report.source} -> {report.target}: {report.providers} provider(s), "
            f"{report.calls} call(s), {report.emails} email(s) (${report.cost_usd:.4f}), "
            f"{report.ledger_entries} ledger entr{'y' if report.ledger_entries == 1 else 'ies'}"
        )
    elif report.status == "already":
        err_console_print(f"nothing to do: {report.source} -> {report.target}: {report.detail}")
    else:
        err_console_print(f"error: not migrated: {report.detail}")
    return int(ExitCode.BAD_INPUT) if report.status == "refused" else int(ExitCode.OK)
