"""Read-only commands load no orchestration, provider or SDK code (start-up cost).

Each command runs through the real entry point (``main()``) in a fresh interpreter;
the modules it left in ``sys.modules`` are then checked. ``llm status`` and
``--version`` take the typer-free route (``cli/fast.py``): typer must not load
either, and both routes must print the same report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys
out = sys.argv[1]
sys.argv = ["collabiq", *sys.argv[2:]]
from collabiq_llm.cli.app import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 0
with open(out, "w") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""

NEVER = (
    "collabiq_llm.orchestration",
    "collabiq_llm.providers.base",
    "collabiq_llm.providers.remote",
    "collabiq_llm.providers.gemini",
    "collabiq_llm.providers.claude",
    "collabiq_llm.providers.openai",
    "collabiq_llm.providers.offline",
    "collabiq_llm.prompt",
    "collabiq_llm.batch",
    "anthropic",
    "openai",
    "google.genai",
    "httpx",
    "rapidfuzz",
)
TYPER = ("typer", "click")

COMMANDS: list[tuple[list[str], tuple[str, ...]]] = [
    (["llm", "status", "--json"], TYPER),
    (["llm", "status"], TYPER),
    (["llm", "status", "--detailed"], TYPER),
    (["--version"], (*TYPER, "pydantic", "collabiq_llm.settings")),
    (["--help"], ("pydantic", "collabiq_llm.settings", "collabiq_llm.state")),
    # typer itself loads pydantic to describe a group's parameters: not ours to avoid
    (["llm", "--help"], ("collabiq_llm.settings", "collabiq_llm.state")),
    (["llm", "costs"], ()),
    (["llm", "metrics"], ()),
]


def _loaded(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)]


def run_command(args: list[str], tmp_path: Path) -> dict:
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.exists(), proc.stderr[-2000:]
    return {**json.loads(out.read_text()), "stdout": proc.stdout, "stderr": proc.stderr}


@pytest.mark.parametrize(("args", "also_absent"), COMMANDS, ids=lambda v: " ".join(v) or "-")
def test_read_only_command_loads_no_orchestration_provider_or_sdk_code(
    args: list[str], also_absent: tuple[str, ...], tmp_path: Path
) -> None:
    seen = run_command(args, tmp_path)
    if seen["code"] == 2 and "No such command" in seen["stderr"]:
        pytest.skip(f"`collabiq {' '.join(args)}` does not exist in this version")
    assert seen["code"] == 0, seen["stderr"][-2000:]
    assert _loaded(seen["modules"], NEVER) == []
    assert _loaded(seen["modules"], also_absent) == []


def test_status_fast_route_prints_what_typer_prints(tmp_path: Path) -> None:
    """The typer-free route and the typer command give the same report."""
    from typer.testing import CliRunner

    from collabiq_llm.cli.root import app

    fast = run_command(["llm", "status", "--json"], tmp_path)
    slow = CliRunner().invoke(app, ["llm", "status", "--json"])
    assert slow.exit_code == 0, slow.output
    drop = {"generated_at"}
    as_fast = {k: v for k, v in json.loads(fast["stdout"]).items() if k not in drop}
    as_typer = {k: v for k, v in json.loads(slow.stdout).items() if k not in drop}
    assert as_fast == as_typer


@pytest.mark.parametrize(
    "argv",
    [["llm", "status", "--jsn"], ["llm", "status", "--json", "--json"], ["llm", "statu"]],
)
def test_anything_unusual_goes_to_typer(argv: list[str]) -> None:
    """Unknown or repeated flags are typer's to reject (usage error, exit 2)."""
    from collabiq_llm.cli.fast import route

    assert route(argv) is None


def test_version_on_both_routes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from collabiq_llm import __version__
    from collabiq_llm.cli.root import app

    assert run_command(["--version"], tmp_path)["stdout"] == f"collabiq {__version__}\n"
    typer_route = CliRunner().invoke(app, ["--debug", "--version"])
    assert typer_route.exit_code == 0 and typer_route.stdout == f"collabiq {__version__}\n"


def test_root_help_fast_route_prints_what_typer_prints(tmp_path: Path) -> None:
    """``--help`` without typer is typer's own page, byte for byte (regenerate the copy
    with ``python -m collabiq_llm.cli.help_text --write`` when this fails)."""
    from collabiq_llm.cli.help_text import typer_root_help

    typer_page = typer_root_help()
    assert "Usage: collabiq" in typer_page
    for flag in ("--help", "-h"):
        seen = run_command([flag], tmp_path)
        assert seen["code"] == 0 and "typer" not in seen["modules"]
        assert seen["stdout"] == typer_page


@pytest.mark.parametrize(("columns", "fast"), [("79", False), ("60", False), ("80", True)])
def test_root_help_takes_the_copy_only_at_full_width(
    columns: str, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Click wraps help to narrower terminals: there typer renders it."""
    from collabiq_llm.cli.fast import route

    monkeypatch.setenv("COLUMNS", columns)
    assert (route(["--help"]) is not None) is fast
    assert route(["llm", "--help"]) is None


def test_shell_completion_calls_go_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    """With typer's completion variable set, typer answers (even for known argv)."""
    from collabiq_llm.cli.fast import COMPLETE_VAR, route

    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv(COMPLETE_VAR, raising=False)
    assert route(["--help"]) is not None
    monkeypatch.setenv(COMPLETE_VAR, "complete_bash")
    for argv in (["--help"], ["--version"], ["llm", "status", "--json"]):
        assert route(argv) is None


@pytest.mark.parametrize("flags", [["--json"], ["--json", "--check"], ["--check"]])
def test_status_json_loads_no_pydantic_once_settings_were_validated(
    flags: list[str], tmp_path: Path
) -> None:
    """The first run validates the settings (pydantic) and leaves them for the next runs
    (``status_fast``), which then load no pydantic, typer or rich and print the same."""
    first = run_command(["llm", "status", *flags], tmp_path)
    again = run_command(["llm", "status", *flags], tmp_path)
    assert "pydantic" in first["modules"]
    assert _loaded(again["modules"], ("pydantic", "pydantic_settings", "rich", *TYPER)) == []
    assert (again["code"], again["stderr"]) == (first["code"], first["stderr"])
    if "--json" not in flags:
        assert first["stdout"] == again["stdout"] == ""
        return
    drop = {"generated_at"}
    as_first = {k: v for k, v in json.loads(first["stdout"]).items() if k not in drop}
    as_again = {k: v for k, v in json.loads(again["stdout"]).items() if k not in drop}
    assert as_again == as_first
