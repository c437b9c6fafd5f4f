"""``collabiq config show`` / ``config path``: the effective configuration and where it lives.

Only the Typer wiring is here; settings and state are imported inside the commands.
"""

from __future__ import annotations

import typer

from collabiq_llm.cli.output import ExitCode, print_json

config_app = typer.Typer(
    help="See the effective configuration and where each value came from.",
    epilog="Examples:\n\n\b\n  collabiq config show\n  collabiq config path",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@config_app.command(
    "show",
    epilog="Examples:\n\n\b\n  collabiq config show\n  collabiq config show --json | jq .settings",
)
def show(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Every effective setting with its source (set-strategy, env, .env, config file,
    default); API keys only as "set", with the variable that supplies them."""
    raise typer.Exit(run_show(as_json=as_json))


@config_app.command("path", epilog='Example:\n\n\b\n  $EDITOR "$(collabiq config path)"')
def path(
    all_: bool = typer.Option(False, "--all", help="Every file and folder, not only the config."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (implies --all)."),
) -> None:
    """The config file to edit (it may not exist yet); --all for home, state and .env files."""
    raise typer.Exit(run_path(all_=all_, as_json=as_json))


def run_show(*, as_json: bool) -> int:
    from collabiq_llm.config_view import build_config_view
    from collabiq_llm.settings import Settings
    from collabiq_llm.state import make_store

    settings = Settings()
    view = build_config_view(settings, make_store(settings))
    if as_json:
        print_json(view.model_dump(mode="json"))
        return int(ExitCode.OK)
    import json

    from rich.markup import escape

    from collabiq_llm.cli.output import stdout_console
    from collabiq_llm.cli.tables import Column, fitted_table

    console = stdout_console()
    # key = value  # source: TOML-like lines that any width can show (the terminal wraps)
    width = min(
        48, max(len(f"{x.key} = {json.dumps(x.value, ensure_ascii=False)}") for x in view.settings)
    )
    for x in view.settings:
        line = f"{x.key} = {json.dumps(x.value, ensure_ascii=False)}"
        console.print(f"{escape(line):<{width}}  # {escape(x.source)}", soft_wrap=True)
    console.print()
    keys = [
        Column("provider", [escape(k.provider) for k in view.keys]),
        Column("key", [k.value or "not set" for k in view.keys]),
        Column(
            "from",
            [escape(k.source or "set " + " or ".join(k.variables)) for k in view.keys],
            flexible=True,
            min_width=12,
        ),
    ]
    console.print(fitted_table("API keys (never shown)", keys, console.width))
    console.print(f"default:      {escape(view.config_files[0])}", soft_wrap=True)
    console.print(f"config file:  {escape(view.config_files[-1])}", soft_wrap=True)
    console.print(f".env (home):  {escape(view.dotenv_files[0])}", soft_wrap=True)
    console.print(f".env (cwd):   {escape(view.dotenv_files[1])}", soft_wrap=True)
    console.print(
        "precedence:   set-strategy > env > .env (cwd) > .env (home) > config file > default"
    )
    return int(ExitCode.OK)


def run_path(*, all_: bool, as_json: bool) -> int:
    from collabiq_llm.config_view import config_paths
    from collabiq_llm.settings import Settings, user_config_path

    if not (all_ or as_json):
        print(user_config_path())  # no Settings(): works even when the file is broken
        return int(ExitCode.OK)
    paths = config_paths(Settings())
    if as_json:
        print_json(paths)
    else:
        for name, where in paths.items():
            print(f"{name + ':':<14}{where}")
    return int(ExitCode.OK)
