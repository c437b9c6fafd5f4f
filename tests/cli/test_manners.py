"""CLI manners: -h, --version, completion, an example in every help, --debug anywhere,
``config show`` / ``config path``, COLLABIQ_* from both .env files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer

from collabiq_llm import __version__
from collabiq_llm.cli.app import app, take_debug_flag
from collabiq_llm.config_view import env_key, flatten, source_of
from tests.cli.conftest import invoke, subprocess_env


def _commands() -> list[list[str]]:
    """Every command path of the app: ["llm", "status"], ["config", "show"], ..."""
    root = typer.main.get_command(app)
    found: list[list[str]] = []

    def walk(cmd, path: list[str]) -> None:
        found.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    return found


COMMANDS = _commands()


def test_the_command_list_is_complete() -> None:
    names = {" ".join(c) for c in COMMANDS}
    for expected in (
        "llm metrics",
        "llm costs",
        "llm dead-letters show",
        "config show",
        "config path",
        "llm dead-letters drop",
        "llm status",
    ):
        assert expected in names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "collabiq")
def test_every_help_has_an_example_and_short_h(path: list[str]) -> None:
    res = invoke(*path, "-h")
    assert res.exit_code == 0, res.stderr
    assert "Example" in res.stdout
    example = res.stdout.split("Example", 1)[1]
    assert "collabiq " in example or "$(collabiq" in example


def test_version_and_completion_options() -> None:
    res = invoke("--version")
    assert (res.exit_code, res.stdout) == (0, f"collabiq {__version__}\n")
    top = invoke("--help").stdout
    assert "--install-completion" in top and "--show-completion" in top


def test_show_completion_prints_a_script() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "collabiq_llm.cli.app", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        env=subprocess_env({"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "complete" in proc.stdout and "collabiq" in proc.stdout


def test_debug_is_accepted_after_any_command() -> None:
    assert take_debug_flag(["llm", "status", "--debug"]) == (["llm", "status"], True)
    assert take_debug_flag(["llm", "extract", "--", "--debug"]) == (
        ["llm", "extract", "--", "--debug"],
        False,
    )
    res = invoke("llm", "dead-letters", "show", "nope", "--debug")
    assert res.exit_code == 2 and "no dead letter 'nope'" in res.stderr
    assert invoke("llm", "status", "--check", "--debug").exit_code == 0
    after = invoke("llm", "extract", "missing.eml")  # --debug does not stick to later runs
    assert after.exit_code == 2 and "Traceback" not in after.stderr


HELP_PROBE = textwrap.dedent(
    """
    import sys
    from collabiq_llm.cli.app import main
    sys.argv = ["collabiq", *sys.argv[1:]]
    try:
        main()
    except SystemExit:
        pass
    heavy = sorted(m for m in sys.modules if m.startswith((
        "collabiq_llm.orchestration", "collabiq_llm.providers", "collabiq_llm.metrics",
        "collabiq_llm.state.", "collabiq_llm.config_view", "prometheus_client",
        "anthropic", "openai", "google.genai")))
    print("HEAVY=" + ",".join(heavy), file=sys.stderr)
    """
)


@pytest.mark.parametrize(
    "args",
    [
        ["llm", "metrics", "--help"],
        ["llm", "costs", "--help"],
        ["config", "show", "--help"],
        ["--help"],
    ],
)
def test_help_loads_no_orchestration_provider_or_sdk_code(args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", HELP_PROBE, *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
        check=False,
    )
    assert "HEAVY=\n" in proc.stderr, proc.stderr


# ---- config --------------------------------------------------------------------------------


def test_config_view_pure_helpers() -> None:
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": {}}) == {"a.b": 1, "a.c": [1, 2], "d": {}}
    assert env_key("COLLABIQ_BREAKER__COOLDOWN_S") == "breaker.cooldown_s"
    assert env_key("COLLABIQ_CONFIG") is None and env_key("HOME") is None
    layers = [("env", {"breaker.cooldown_s"}), ("config file", {"providers"}), ("default", set())]
    assert source_of("breaker.cooldown_s", layers) == "env"
    assert source_of("providers.gemini.model", layers) == "config file"  # a parent was set
    assert source_of("strategy", layers) == "built-in"


def test_config_show_names_each_source_and_never_a_key(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-ant-api03-verysecretvalue-0123456789"
    (isolated_home / "config.toml").write_text("[breaker]\ncooldown_s = 30\n", encoding="utf-8")
    (isolated_home / ".env").write_text(
        f"COLLABIQ_STRATEGY=consensus\nANTHROPIC_API_KEY={secret}\n", encoding="utf-8"
    )
    (tmp_path / ".env").write_text("COLLABIQ_CONSENSUS__MIN_AGREEMENT=3\n", encoding="utf-8")
    monkeypatch.setenv("COLLABIQ_FAILOVER__HEDGE", "false")
    res = invoke("config", "show", "--json")
    assert res.exit_code == 0, res.stderr
    assert secret not in res.stdout and secret not in res.stderr
    view = res.json()
    by_key = {s["key"]: s for s in view["settings"]}
    assert by_key["strategy"] == {"key": "strategy", "value": "consensus", "source": ".env (home)"}
    assert by_key["consensus.min_agreement"]["source"] == ".env (cwd)"
    assert by_key["consensus.min_agreement"]["value"] == 3
    assert by_key["breaker.cooldown_s"] == {
        "key": "breaker.cooldown_s",
        "value": 30.0,
        "source": "config file",
    }
    assert by_key["failover.hedge"]["source"] == "env COLLABIQ_FAILOVER__HEDGE"
    assert by_key["breaker.failure_threshold"]["source"] == "default"
    assert by_key["home"]["source"] == "env COLLABIQ_HOME"
    claude = next(k for k in view["keys"] if k["provider"] == "claude")
    assert claude["source"] == ".env (home) ANTHROPIC_API_KEY"
    assert claude["value"] == f"set ({len(secret)} characters)"
    # the strategy from $COLLABIQ_HOME/.env is really used, not only shown
    assert invoke("llm", "status", "--json").json()["strategy"] == "consensus"
    assert invoke("llm", "set-strategy", "best-match").exit_code == 0
    again = {s["key"]: s for s in invoke("config", "show", "--json").json()["settings"]}
    assert again["strategy"]["value"] == "best-match"
    assert again["strategy"]["source"] == "set-strategy (state)"
    table = invoke("config", "show").stdout
    assert secret not in table
    assert "breaker.cooldown_s = 30.0" in table and "# config file" in table


def test_config_path(isolated_home: Path) -> None:
    res = invoke("config", "path")
    assert (res.exit_code, res.stdout) == (0, f"{isolated_home / 'config.toml'}\n")
    paths = invoke("config", "path", "--json").json()
    assert paths["home"] == str(isolated_home)
    assert paths["state"] == str(isolated_home / "llm_health")
    assert paths["dead_letters"] == str(isolated_home / "dead_letters")
    (isolated_home / "config.toml").write_text("not = [toml", encoding="utf-8")
    assert invoke("config", "path").exit_code == 0  # still tells you which file to fix
    broken = invoke("config", "show")
    assert broken.exit_code == 4 and "cannot read config file" in broken.stderr
